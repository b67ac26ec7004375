import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Driver } from '../driver/driver.js';
import { ConfigError, UnknownTargetError, type ConfigIssue } from '../errors.js';
import { didYouMean } from '../policy/did-you-mean.js';
import { loadConfig } from '../policy/loader.js';
import { resolveConfig } from '../policy/resolve.js';
import type { ConfigInput } from '../policy/schema.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import type { Clock, RandomSource } from '../time/clock.js';
import { validateDriverOptions } from './driver-options.js';
import { resolveDriver } from './resolve-driver.js';
import { createTarget } from './target.js';
import type { Logger, LogLevel, StartOptions, Target, TargetHealth } from './types.js';

/** One name's result of `startAll()` / `stopAll()`: one failing target does not stop the others. */
export type TargetResult = { ok: true } | { ok: false; error: unknown };

/** Overall health: `ok` when every target is connected, `down` when a required one is not, else `degraded`. */
export type OverallHealth = 'ok' | 'degraded' | 'down';

/** The manager's health snapshot, as `/readyz` returns it. */
export interface ManagerHealth {
  status: OverallHealth;
  /** True when every required target is connected (what `/readyz` answers 200 for). */
  ready: boolean;
  targets: Record<string, TargetHealth>;
}

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

/** Options of {@link createManager}. */
export interface CreateManagerOptions {
  /** A config file path, a config object (as written in a file), or nothing to search from `cwd`. */
  config?: string | ConfigInput;
  /** An already resolved configuration (skips loading and merging). */
  resolved?: ResolvedConfigLike;
  /** Where to search for the config file and resolve relative paths. Default `process.cwd()`. */
  cwd?: string;
  /** Drivers by the name a config uses; taken instead of importing a package of that name. */
  drivers?: Record<string, Driver<never, unknown> | Driver>;
  clock?: Clock;
  random?: RandomSource;
  /**
   * Where to log every target's state changes, failed reconnect attempts (on the backoff schedule), node and
   * breaker changes, secrets redacted: a pino- or bunyan-shaped logger, or `console`. Default: no logging.
   */
  logger?: Logger;
  /** The lowest level `logger` receives (`debug` adds each operation's give-up). Default `info`. */
  logLevel?: LogLevel;
}

/**
 * Keeps a set of named targets: starts and stops them together, reports their health, and
 * answers liveness and readiness probes over HTTP.
 */
export class Manager {
  readonly #targets = new Map<string, Target>();

  /** Adds a target under `name`; a name can be registered once. */
  register(name: string, target: Target<never> | Target): this {
    if (this.#targets.has(name)) throw new Error(`A target named "${name}" is already registered`);
    this.#targets.set(name, target);
    return this;
  }

  /** The target registered under `name`, or `undefined`. */
  get<Client = unknown>(name: string): Target<Client> | undefined {
    return this.#targets.get(name) as Target<Client> | undefined;
  }

  /**
   * The target registered under `name`; throws {@link UnknownTargetError} (`ERR_UNKNOWN_TARGET`) when there is
   * none, with the closest registered name as a suggestion and the list of names there are.
   */
  target<Client = unknown>(name: string): Target<Client> {
    const t = this.get<Client>(name);
    if (t === undefined) {
      const known = [...this.#targets.keys()];
      throw new UnknownTargetError(name, known, didYouMean(name, known));
    }
    return t;
  }

  /** Every registered name. */
  names(): string[] {
    return [...this.#targets.keys()];
  }

  /** Starts every target concurrently; resolves with each name's result (never rejects). */
  async startAll(options?: StartOptions): Promise<Record<string, TargetResult>> {
    return this.#each((t) => t.start(options));
  }

  /** Stops every target: timers cleared, clients closed, nothing left to keep the process alive. */
  async stopAll(): Promise<Record<string, TargetResult>> {
    return this.#each((t) => t.stop());
  }

  /** A snapshot of every target's health and the overall verdict. */
  health(): ManagerHealth {
    const targets: Record<string, TargetHealth> = {};
    let all = true;
    let any = false;
    let ready = true;
    for (const [name, t] of this.#targets) {
      const h = t.health();
      targets[name] = h;
      all &&= h.connected;
      any ||= h.connected;
      if (h.required && !h.connected) ready = false;
    }
    const status: OverallHealth = all ? 'ok' : !ready || !any ? 'down' : 'degraded';
    return { status, ready, targets };
  }

  /**
   * A `node:http` request handler: `/healthz` (liveness: 200 while the process runs) and `/readyz`
   * (readiness: 200 only when every required target is connected, else 503), both JSON.
   */
  healthHandler(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      let status: number;
      let body: unknown;
      if (path === '/healthz') {
        status = 200;
        body = { status: 'alive' };
      } else if (path === '/readyz') {
        const h = this.health();
        status = h.ready ? 200 : 503;
        body = h;
      } else {
        status = 404;
        body = { error: 'not found', paths: ['/healthz', '/readyz'] };
      }
      const json = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(json),
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : json);
    };
  }

  async #each(fn: (t: Target) => Promise<void>): Promise<Record<string, TargetResult>> {
    const entries = [...this.#targets];
    const settled = await Promise.allSettled(entries.map(([, t]) => fn(t)));
    const out: Record<string, TargetResult> = {};
    entries.forEach(([name], i) => {
      const r = settled[i]!;
      out[name] = r.status === 'fulfilled' ? { ok: true } : { ok: false, error: r.reason };
    });
    return out;
  }
}

/**
 * Builds a {@link Manager} from a resolved configuration: each target's driver is taken from
 * `drivers` or imported (built-in alias or package from `fromDir`), its options validated with the
 * driver's schema. Every problem of every target is collected before throwing.
 */
export async function buildManager(
  resolved: ResolvedConfigLike,
  options: Pick<CreateManagerOptions, 'drivers' | 'clock' | 'random' | 'logger' | 'logLevel'> & {
    fromDir: string;
  },
): Promise<Manager> {
  const manager = new Manager();
  const issues: ConfigIssue[] = [];
  const drivers = new Map<string, Promise<Driver>>();
  const driverFor = (name: string): Promise<Driver> => {
    const injected = options.drivers?.[name] as Driver | undefined;
    if (injected !== undefined) return Promise.resolve(injected);
    let p = drivers.get(name);
    if (p === undefined) {
      p = resolveDriver(name, options.fromDir);
      drivers.set(name, p);
    }
    return p;
  };
  for (const [name, t] of Object.entries(resolved.targets)) {
    const driver = await driverFor(t.driver);
    let driverOptions: unknown;
    try {
      driverOptions = validateDriverOptions(driver, t.options, { target: name, file: resolved.file });
    } catch (error) {
      if (error instanceof ConfigError) {
        issues.push(...error.issues);
        continue;
      }
      throw error;
    }
    manager.register(
      name,
      createTarget({
        name,
        driver,
        options: driverOptions,
        policy: t.policy,
        required: t.required ?? true,
        validateOptions: false,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.random ? { random: options.random } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      }),
    );
  }
  if (issues.length > 0) throw new ConfigError(issues, resolved.file);
  return manager;
}

/**
 * Creates a {@link Manager} from the policy file (found from `cwd` by cosmiconfig, or given by path),
 * a config object, or an already resolved configuration. Drivers named in the file are imported
 * from the file's directory unless given in `drivers`. Targets are created but not started.
 */
export async function createManager(options: CreateManagerOptions = {}): Promise<Manager> {
  const cwd = options.cwd ?? process.cwd();
  let resolved: ResolvedConfigLike;
  if (options.resolved !== undefined) {
    resolved = options.resolved;
  } else if (typeof options.config === 'object') {
    resolved = resolveConfig(options.config);
  } else {
    const loaded = await loadConfig(options.config === undefined ? { cwd } : { config: options.config, cwd });
    resolved = loaded;
  }
  const fromDir = resolved.file === undefined ? cwd : dirname(resolved.file);
  return buildManager(resolved, {
    fromDir,
    ...(options.drivers ? { drivers: options.drivers } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
}
