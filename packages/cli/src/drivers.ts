import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { builtinDrivers, isPluginError, resolveDriver, type ConfigIssue, type Driver } from '@reconnect/core';

/** A target's driver, loaded; or why it cannot be, as a located issue (`targets.NAME.driver`). */
export type DriverLoad = { ok: true; driver: Driver } | { ok: false; issue: ConfigIssue };

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Driver packages installed where `fromDir` resolves packages from: every `node_modules` up the tree,
 * names that look like Reconnect drivers (`@reconnect/driver-*`, `*reconnect-driver*`, `*driver-*`).
 */
export function installedDriverPackages(fromDir: string): string[] {
  const found = new Set<string>();
  let dir = path.resolve(fromDir);
  for (let depth = 0; depth < 40; depth++) {
    const nm = path.join(dir, 'node_modules');
    if (existsSync(nm)) {
      for (const entry of safeList(nm)) {
        if (entry.startsWith('@')) {
          for (const sub of safeList(path.join(nm, entry))) consider(`${entry}/${sub}`, found);
        } else consider(entry, found);
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return [...found].sort();
}

function consider(name: string, found: Set<string>): void {
  if (/(^|[/-])(reconnect-)?driver-|reconnect-driver/.test(name)) found.add(name);
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The closest known driver name to `name` (a built-in alias or an installed driver package), if close enough. */
export function suggestDriver(name: string, fromDir: string): string | undefined {
  const candidates = [
    ...Object.keys(builtinDrivers),
    ...new Set(Object.values(builtinDrivers)),
    ...installedDriverPackages(fromDir),
  ];
  const limit = name.length <= 4 ? 1 : 2;
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d <= limit && (best === undefined || d < best.d)) best = { name: c, d };
  }
  return best?.name;
}

const builtinList = Object.keys(builtinDrivers).join(', ');

/**
 * Loads `driverName` for `target` as the library would (built-in alias or package, resolved from
 * `fromDir`). A driver that cannot be found is an issue at `targets.NAME.driver`: it suggests the closest
 * built-in or installed driver, and only ever names a package to install when it is a built-in's own.
 */
export async function loadTargetDriver(
  target: string,
  driverName: string,
  fromDir: string,
  file: string | undefined,
): Promise<DriverLoad> {
  try {
    return { ok: true, driver: await resolveDriver(driverName, fromDir) };
  } catch (error) {
    if (!isPluginError(error)) throw error;
    const at = { ...(file === undefined ? {} : { file }), path: ['targets', target, 'driver'] };
    const builtinPackage = builtinDrivers[driverName];
    if (!error.message.includes('is not installed')) {
      // Found, but it threw on import or is not shaped like a driver: the plugin's own message says which.
      return { ok: false, issue: { ...at, kind: 'driver_invalid', message: error.message } };
    }
    if (builtinPackage !== undefined) {
      return {
        ok: false,
        issue: {
          ...at,
          kind: 'driver_not_installed',
          message: `The built-in driver "${driverName}" is not installed here: add its package, npm install ${builtinPackage}`,
        },
      };
    }
    const near = suggestDriver(driverName, fromDir);
    const message =
      near === undefined
        ? `Unknown driver "${driverName}": not a built-in driver and no installed package of that name`
        : `Unknown driver "${driverName}" — did you mean \`${near}\`?`;
    return {
      ok: false,
      issue: {
        ...at,
        kind: 'unknown_driver',
        message,
        expected: `a built-in driver (${builtinList}), an installed driver package or a path to one`,
      },
    };
  }
}
