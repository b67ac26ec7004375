import path from 'node:path';
import {
  ConfigError,
  isConfigError,
  loadConfig,
  validateDriverOptions,
  type ConfigIssue,
  type Driver,
  type ResolvedConfig,
  type ResolvedPolicy,
} from '@reconnect/core';
import { loadTargetDriver } from './drivers.js';
import type { Io } from './io.js';

/** A target of the policy file with its driver loaded and its options validated by the driver's schema. */
export interface LoadedTarget {
  name: string;
  /** The name the file uses (`redis`, `mysql`, a package). */
  driverName: string;
  driver: Driver;
  options: unknown;
  policy: ResolvedPolicy;
  required: boolean;
}

/** The file's targets, ready to connect; or every problem found, located. */
export type LoadedTargets =
  { ok: true; config: ResolvedConfig; targets: LoadedTarget[] } | { ok: false; error: ConfigError };

/**
 * Loads the policy file and, for every target (or the ones in `names`), its driver and options.
 * Unknown names, drivers that cannot be found and invalid options are all collected into one ConfigError.
 */
export async function loadTargets(
  configFile: string | undefined,
  names: readonly string[],
  io: Io,
): Promise<LoadedTargets> {
  let config: ResolvedConfig;
  try {
    config = await loadConfig({ config: configFile, cwd: io.cwd, env: io.env });
  } catch (error) {
    if (isConfigError(error)) return { ok: false, error };
    throw error;
  }
  const issues: ConfigIssue[] = [];
  const known = Object.keys(config.targets);
  const file = config.file === undefined ? {} : { file: config.file };
  for (const n of names) {
    if (!known.includes(n)) {
      issues.push({
        ...file,
        path: ['targets', n],
        kind: 'unknown_target',
        message: `No target "${n}" in the file`,
        expected: `one of ${known.join(', ') || '(none)'}`,
      });
    }
  }
  const fromDir = config.file === undefined ? io.cwd : path.dirname(config.file);
  const targets: LoadedTarget[] = [];
  for (const t of Object.values(config.targets)) {
    if (names.length > 0 && !names.includes(t.name)) continue;
    const loaded = await loadTargetDriver(t.name, t.driver, fromDir, config.file);
    if (!loaded.ok) {
      issues.push(loaded.issue);
      continue;
    }
    try {
      const options = validateDriverOptions(loaded.driver, t.options, { target: t.name, file: config.file });
      targets.push({
        name: t.name,
        driverName: t.driver,
        driver: loaded.driver,
        options,
        policy: t.policy,
        required: t.required,
      });
    } catch (error) {
      if (isConfigError(error)) issues.push(...error.issues);
      else throw error;
    }
  }
  if (issues.length > 0) return { ok: false, error: new ConfigError(issues, config.file) };
  return { ok: true, config, targets };
}
