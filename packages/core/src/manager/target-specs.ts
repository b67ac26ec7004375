import type { Driver } from '../driver/driver.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import { validateDriverOptions } from '../driver/driver-options.js';
import { resolveDriver } from '../driver/resolve-driver.js';
import { createTarget } from '../lifecycle/target/target.js';
import type { Logger, LogLevel, Target } from '../lifecycle/types.js';
import type { Clock, RandomSource } from '../time/clock.js';

/** One target of a resolved configuration: what the policy area's `resolveConfig` produces per name. */
export interface ResolvedTargetConfig {
  driver: string;
  options?: unknown;
  required?: boolean;
  policy: ResolvedPolicy;
}

/** A resolved configuration: every target with its driver name, raw options and complete policy. */
export interface ResolvedConfigLike {
  targets: Record<string, ResolvedTargetConfig>;
  /** The file it was read from, for error messages and plugin resolution. */
  file?: string | undefined;
}

/** A target ready to be created: its driver loaded and its options checked by the driver's schema. */
export interface TargetSpec {
  name: string;
  /** The configuration as written (driver name, raw options), what a reload diffs against. */
  config: ResolvedTargetConfig;
  driver: Driver;
  /** The options after the driver's schema. */
  options: unknown;
}

/**
 * Loads every target's driver (from `drivers`, or imported from `fromDir`) and checks its options with the
 * driver's schema, collecting every problem of every target before throwing one {@link ConfigError}: the
 * whole configuration is known good, or nothing is used.
 */
export async function prepareTargets(
  resolved: ResolvedConfigLike,
  o: { drivers?: Record<string, Driver<never, unknown> | Driver> | undefined; fromDir: string },
): Promise<TargetSpec[]> {
  const issues: ConfigIssue[] = [];
  const loading = new Map<string, Promise<Driver>>();
  const driverFor = (name: string): Promise<Driver> => {
    const injected = o.drivers?.[name] as Driver | undefined;
    if (injected !== undefined) return Promise.resolve(injected);
    let p = loading.get(name);
    if (p === undefined) {
      p = resolveDriver(name, o.fromDir);
      loading.set(name, p);
    }
    return p;
  };
  const specs: TargetSpec[] = [];
  for (const [name, config] of Object.entries(resolved.targets)) {
    const driver = await driverFor(config.driver);
    try {
      const options = validateDriverOptions(driver, config.options, { target: name, file: resolved.file });
      specs.push({ name, config, driver, options });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, resolved.file);
  return specs;
}

/** What every target a manager builds shares: the injected time, randomness and logger. */
export interface TargetDefaults {
  clock?: Clock | undefined;
  random?: RandomSource | undefined;
  logger?: Logger | undefined;
  logLevel?: LogLevel | undefined;
}

/** Creates the target a spec describes (its options already checked), with the manager's shared defaults. */
export function targetFromSpec(spec: TargetSpec, o: TargetDefaults): Target {
  return createTarget({
    name: spec.name,
    driver: spec.driver,
    options: spec.options,
    policy: spec.config.policy,
    required: spec.config.required ?? true,
    validateOptions: false,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.random ? { random: o.random } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
  });
}
