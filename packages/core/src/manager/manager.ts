import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Driver } from '../driver/driver.js';
import { UnknownTargetError } from '../errors.js';
import { didYouMean } from '../policy/did-you-mean.js';
import type { Environment } from '../policy/interpolate.js';
import { loadConfig } from '../policy/loader.js';
import { resolveConfig } from '../policy/resolve.js';
import type { ConfigInput } from '../policy/schema.js';
import type { Clock, RandomSource } from '../time/clock.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import {
  ConfigReloader,
  type ManagerEvents,
  type ReloadResult,
  type ReloaderSetup,
  type WatchOptions,
} from './config-reload.js';
import { logReloads } from './reload-logging.js';
import { prepareTargets, targetFromSpec, type ResolvedConfigLike } from './target-specs.js';
import type { Logger, LogLevel, StartOptions, Target, TargetHealth } from '../lifecycle/types.js';

export type { ResolvedConfigLike, ResolvedTargetConfig } from './target-specs.js';

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
  /**
   * Follow the policy file and reload it on every save (see {@link Manager.watch}); only for a configuration read
   * from a file. Default false.
   */
  watch?: boolean | WatchOptions;
  /** Where `${NAME}` values come from, now and at every reload; `process.env` by default. */
  env?: Environment;
}

// createManager's way to give a manager its reloader (a private field, set from outside the class body).
let attachReloader: (
  manager: Manager,
  setup: Omit<ReloaderSetup, 'add' | 'remove' | 'emit'>,
) => ConfigReloader;

/**
 * Keeps a set of named targets: starts and stops them together, reports their health, and
 * answers liveness and readiness probes over HTTP.
 */
export class Manager extends TypedEmitter<ManagerEvents> {
  readonly #targets = new Map<string, Target>();
  #reloader: ConfigReloader | undefined;

  static {
    attachReloader = (manager, setup) => {
      manager.#reloader = new ConfigReloader({
        ...setup,
        add: (name, target) => manager.register(name, target),
        remove: (name) => manager.#targets.delete(name),
        emit: (event, payload) => manager.emit(event, payload),
      });
      return manager.#reloader;
    };
  }

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

  /**
   * Stops every target: timers cleared, clients closed, nothing left to keep the process alive. Stops following
   * the policy file too, and stops targets a reload replaced or removed that were still finishing operations.
   */
  async stopAll(): Promise<Record<string, TargetResult>> {
    const reloader = this.#reloader;
    reloader?.halt();
    const results = await this.#each((t) => t.stop());
    await reloader?.stop();
    return results;
  }

  /**
   * Reads the policy file again and puts what changed in force, target by target (docs/lifecycle.md, "Hot
   * reload"). An invalid file changes nothing: the result is `failed` and `reloadFailed` carries the located
   * `ConfigError`. Never rejects. For SIGHUP: `process.on('SIGHUP', () => void manager.reload())`.
   */
  reload(): Promise<ReloadResult> {
    return this.#reloadable().reload();
  }

  /** Follows the policy file: every save (in place, temp + rename, a ConfigMap symlink swap) reloads once. */
  watch(options?: WatchOptions): Promise<void> {
    return this.#reloadable().watch(options);
  }

  /** Stops following the policy file; leaves no watcher or timer. */
  unwatch(): void {
    this.#reloader?.unwatch();
  }

  /** Whether the policy file is followed. */
  get watching(): boolean {
    return this.#reloader?.watching ?? false;
  }

  #reloadable(): ConfigReloader {
    if (this.#reloader === undefined)
      throw new TypeError('This manager was not created from a policy file: there is nothing to reload');
    return this.#reloader;
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
  for (const spec of await prepareTargets(resolved, options)) {
    manager.register(spec.name, targetFromSpec(spec, options));
  }
  return manager;
}

/**
 * Creates a {@link Manager} from the policy file (found from `cwd` by cosmiconfig, or given by path),
 * a config object, or an already resolved configuration. Drivers named in the file are imported
 * from the file's directory unless given in `drivers`. Targets are created but not started.
 */
export async function createManager(options: CreateManagerOptions = {}): Promise<Manager> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env;
  let resolved: ResolvedConfigLike;
  if (options.resolved !== undefined) {
    resolved = options.resolved;
  } else if (typeof options.config === 'object') {
    resolved = resolveConfig(options.config, env ? { env } : {});
  } else {
    resolved = await loadConfig({
      cwd,
      env,
      ...(options.config === undefined ? {} : { config: options.config }),
    });
  }
  const fromDir = resolved.file === undefined ? cwd : dirname(resolved.file);
  const built = {
    fromDir,
    drivers: options.drivers,
    clock: options.clock,
    random: options.random,
    logger: options.logger,
    logLevel: options.logLevel,
  };
  // Only a file can be reloaded; an object built in code or an already resolved configuration is final.
  const file =
    options.resolved === undefined && typeof options.config !== 'object' ? resolved.file : undefined;
  if (file === undefined) {
    if (options.watch !== undefined && options.watch !== false)
      throw new TypeError(
        'createManager({ watch }) needs a policy file: a config object has nothing to follow',
      );
    return buildManager(resolved, definedOnly(built));
  }
  const manager = new Manager();
  const reloader = attachReloader(manager, { ...built, file, env });
  if (options.logger !== undefined) logReloads(manager, options.logger, options.logLevel);
  for (const spec of await prepareTargets(resolved, built))
    manager.register(spec.name, reloader.create(spec));
  if (options.watch !== undefined && options.watch !== false)
    await manager.watch(options.watch === true ? {} : options.watch);
  return manager;
}

// Drops undefined options (exactOptionalPropertyTypes: an option is given or absent).
function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
