import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { didYouMean } from '../policy/did-you-mean.js';
import { builtinDrivers } from './builtin-drivers.js';

/**
 * Driver packages installed where `fromDir` resolves packages from (every `node_modules` up the tree), by
 * names that look like Reconnect drivers: `@reconnect/driver-*`, `*reconnect-driver*`, `*driver-*`.
 */
export function installedDriverPackages(fromDir: string): string[] {
  const found = new Set<string>();
  let dir = path.resolve(fromDir);
  for (let depth = 0; depth < 40; depth++) {
    const nm = path.join(dir, 'node_modules');
    if (existsSync(nm)) {
      for (const entry of list(nm)) {
        if (entry.startsWith('@'))
          for (const sub of list(path.join(nm, entry))) consider(`${entry}/${sub}`, found);
        else consider(entry, found);
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return [...found].sort();
}

/**
 * The closest known driver to a name that resolves to nothing (`reddis` → `redis`): a built-in alias, a
 * built-in package or an installed driver package. Never an unknown name: a name one letter off a real one is
 * how typo-squatted packages get installed, so Reconnect only ever suggests what is known.
 */
export function suggestDriver(name: string, fromDir: string): string | undefined {
  return didYouMean(name, [
    ...Object.keys(builtinDrivers),
    ...new Set(Object.values(builtinDrivers)),
    ...installedDriverPackages(fromDir),
  ]);
}

function consider(name: string, found: Set<string>): void {
  if (/(^|[/-])(reconnect-)?driver-|reconnect-driver/.test(name)) found.add(name);
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
