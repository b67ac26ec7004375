import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Driver } from './driver.js';
import { PluginError } from '../errors.js';

import { builtinDrivers } from './builtin-drivers.js';
import { suggestDriver } from './suggest-driver.js';

export { builtinDrivers } from './builtin-drivers.js';

const requiredFunctions = ['connect', 'probe', 'close', 'classify'] as const;

/**
 * What is missing for `value` to be a driver, or `undefined` when it is shaped like one. `what` names the value
 * in the sentence (a plugin's default export, or a driver handed to `createTarget`).
 */
export function driverShapeProblem(value: unknown, what = 'its default export'): string | undefined {
  if (typeof value !== 'object' || value === null) {
    return `${what} is ${value === null ? 'null' : typeof value}, not a driver object (use defineDriver)`;
  }
  const v = value as Record<string, unknown>;
  const missing: string[] = [];
  if (typeof v.name !== 'string' || v.name === '') missing.push('name (a string)');
  if (typeof v.system !== 'string' || v.system === '') missing.push('system (a string)');
  const options = v.options as { safeParse?: unknown } | undefined;
  if (typeof options !== 'object' || options === null || typeof options.safeParse !== 'function') {
    missing.push('options (a zod schema)');
  }
  for (const fn of requiredFunctions) if (typeof v[fn] !== 'function') missing.push(`${fn}()`);
  return missing.length === 0 ? undefined : `${what} is not a driver: missing ${missing.join(', ')}`;
}

/**
 * Throws a TypeError naming what is missing when the driver handed to `createTarget` for `target` is not one: said
 * at once, like a plugin's, not as a TypeError from inside the first connect.
 */
export function assertDriver(driver: unknown, target: string): void {
  const problem = driverShapeProblem(driver, `the driver of target "${target}"`);
  if (problem !== undefined) throw new TypeError(`createTarget: ${problem}`);
}

/** True when `value` is shaped like a {@link Driver}. */
export function isDriver(value: unknown): value is Driver {
  return driverShapeProblem(value) === undefined;
}

// Picks the ESM entry of a package.json `exports` target (conditions: import, node, default).
function pickExport(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const picked = pickExport(t);
      if (picked !== undefined) return picked;
    }
    return undefined;
  }
  if (typeof target !== 'object' || target === null) return undefined;
  const t = target as Record<string, unknown>;
  for (const condition of ['import', 'node', 'default']) {
    if (condition in t) {
      const picked = pickExport(t[condition]);
      if (picked !== undefined) return picked;
    }
  }
  return undefined;
}

// createRequire resolves with the `require` conditions; an ESM-only package (exports with `import` only)
// needs its package.json read by hand, found along the same node_modules lookup paths.
function resolveEsmOnly(name: string, require: NodeJS.Require): string | undefined {
  for (const dir of require.resolve.paths(name) ?? []) {
    const pkgDir = join(dir, name);
    const manifest = join(pkgDir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      exports?: unknown;
      module?: string;
      main?: string;
    };
    const exportsField = pkg.exports as Record<string, unknown> | string | undefined;
    const root =
      typeof exportsField === 'object' &&
      exportsField !== null &&
      !Array.isArray(exportsField) &&
      '.' in exportsField
        ? exportsField['.']
        : exportsField;
    const entry = pickExport(root) ?? pkg.module ?? pkg.main ?? 'index.js';
    return join(pkgDir, entry);
  }
  return undefined;
}

function resolveFrom(name: string, fromDir: string): string | undefined {
  const require = createRequire(join(fromDir, 'noop.js'));
  try {
    return require.resolve(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return resolveEsmOnly(name, require);
    if (code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/**
 * Loads the driver a config's `driver:` names. Built-in aliases (`mysql`, `redis`, `elasticsearch`)
 * map to `@reconnect/driver-*`; any other name is imported as a package resolved from `fromDir`
 * (the config file's directory), so an application's own dependencies are found. Built-ins fall back
 * to resolving from this package's location. Any failure is a {@link PluginError} naming the package:
 * not installed, throwing on import, or a default export not shaped like a driver.
 */
export async function resolveDriver(name: string, fromDir: string): Promise<Driver> {
  const specifier = builtinDrivers[name] ?? name;
  let resolved: string | undefined;
  try {
    resolved = resolveFrom(specifier, fromDir);
    if (resolved === undefined && specifier !== name) {
      resolved = resolveFrom(specifier, fileURLToPath(new URL('.', import.meta.url)));
    }
  } catch (error) {
    throw new PluginError(specifier, `could not be resolved from ${fromDir}`, { cause: error });
  }
  if (resolved === undefined) {
    // Install advice only for a built-in's own package: never for an unknown name (typo-squatting).
    if (specifier !== name)
      throw new PluginError(
        specifier,
        `is not installed: cannot find package "${specifier}" (the "${name}" alias) from ${fromDir}; install it with npm install ${specifier}`,
      );
    const near = suggestDriver(name, fromDir);
    throw new PluginError(
      specifier,
      `is not installed: no built-in driver and no package of that name from ${fromDir}${near === undefined ? '' : `; did you mean "${near}"?`}`,
    );
  }
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(resolved).href);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new PluginError(specifier, `threw while being imported: ${message}`, { cause: error });
  }
  const exported = (mod as { default?: unknown }).default;
  // A CommonJS module compiled from ESM may nest the default export once more.
  const candidate =
    isDriver(exported) || typeof exported !== 'object' || exported === null
      ? exported
      : ((exported as { default?: unknown }).default ?? exported);
  const problem = driverShapeProblem(candidate);
  if (problem !== undefined) throw new PluginError(specifier, problem);
  return candidate as Driver;
}
