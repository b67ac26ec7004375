import type { Driver } from '../driver/driver.js';
import { describeChange, diffConfigs, type ConfigChange } from '../policy/config-diff.js';
import type { Environment } from '../policy/interpolate.js';
import { loadConfig } from '../policy/loader.js';
import { redactString } from '../policy/redact.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import type { Clock, RandomSource } from '../time/clock.js';
import { candidateLogger } from './candidate-logger.js';
import { ConfigWatcher } from './config-watcher.js';
import { ReloadTelemetry, type ReloadOutcome } from './reload-telemetry.js';
import {
  prepareTargets,
  targetFromSpec,
  type ResolvedTargetConfig,
  type TargetSpec,
} from './target-specs.js';
import { SwappableTarget } from './swappable-target.js';
import type { Logger, LogLevel, Target } from '../lifecycle/types.js';

/** A target whose changes a reload could not put in force: its new client did not connect, the old one stays. */
export interface NotApplied {
  /** The target's name. */
  target: string;
  /** The changes to it that are not in force. */
  changes: ConfigChange[];
  /** Why, in words, secrets redacted: `its new client did not connect: connect ECONNREFUSED 127.0.0.1:1`. */
  reason: string;
  /** What the new target's start() rejected with (its `cause` is the driver's last connect error). */
  error: unknown;
}

/** What a reload did (also the payload of the manager's `reload` event). */
export interface ReloadResult {
  /**
   * `applied`: changes are in force (some may be `notApplied`); `not_applied`: the file changed, but no change could
   * be put in force (every new client failed to connect; the targets in force are unchanged); `unchanged`: the file
   * says what is in force; `failed`: refused, nothing changed.
   */
  result: ReloadOutcome;
  file: string;
  /** Every change put in force (empty when unchanged, not applied or failed). */
  changes: ConfigChange[];
  /**
   * The changes in words, as `reconnect diff` prints them (secrets redacted): those put in force, then those that
   * were not, each followed by `— not applied: REASON; the target in force is unchanged`.
   */
  summary: string[];
  /** Targets whose changes could not be put in force (the new client did not connect): the old one stays. */
  notApplied: NotApplied[];
  /** The located `ConfigError` (file, path, expected) of a refused file. */
  error?: unknown;
  /** Wall-clock time (ms since the epoch) the reload ended. */
  at: number;
}

/** Payload of the manager's `reloadFailed`: the file was refused; the policy in force stays as it was. */
export interface ReloadFailedEvent {
  file: string;
  /** The located `ConfigError` (every issue with file, path and expected), or the unexpected error. */
  error: unknown;
  at: number;
}

/** Events of a {@link Manager} (`reload`, `reloadFailed`). */
export interface ManagerEvents {
  reload: ReloadResult;
  reloadFailed: ReloadFailedEvent;
}

/** Options of `manager.watch()` and `createManager({ watch })`. */
export interface WatchOptions {
  /** Quiet time after the last file-system event before the file is read. Default 100 ms. */
  debounceMs?: number;
}

/** What a reloader needs: the file, how targets are built, and the manager's register / remove. */
export interface ReloaderSetup {
  file: string;
  env?: Environment | undefined;
  fromDir: string;
  drivers?: Record<string, Driver<never, unknown> | Driver> | undefined;
  clock?: Clock | undefined;
  random?: RandomSource | undefined;
  logger?: Logger | undefined;
  logLevel?: LogLevel | undefined;
  add(name: string, target: Target): void;
  remove(name: string): void;
  emit<K extends keyof ManagerEvents>(event: K, payload: ManagerEvents[K]): void;
}

/**
 * Why a new target did not start, in words: what its client last failed with (the cause of start()'s error, the
 * driver's own error, with its code when the message lacks it), secrets redacted. Not start()'s own message, which
 * speaks of a live target ("it keeps reconnecting in the background"): the candidate is stopped.
 */
function notConnectedReason(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | null)?.code;
  const text = typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  return `its new client did not connect: ${redactString(text)}`;
}

/** The longest a replaced target's operations are waited for: their deadline (they end by then), plus a margin. */
function drainBound(policy: ResolvedPolicy): number {
  return policy.retry.deadline > 0 ? policy.retry.deadline + 1000 : 60_000;
}

/**
 * Keeps a manager's targets on what its policy file says: reads and validates the whole file (driver options
 * included) before touching anything, diffs it target by target against what is in force, and applies only
 * what changed. One reload at a time; reloads asked for meanwhile are folded into one that follows.
 */
export class ConfigReloader {
  readonly #o: ReloaderSetup;
  readonly #targets = new Map<string, SwappableTarget>();
  readonly #inForce = new Map<string, ResolvedTargetConfig>();
  readonly #retiring = new Set<Promise<void>>();
  // Targets a reload removed, stopping once their operations end; stop() stops them at once.
  readonly #removed = new Set<SwappableTarget>();
  #running: Promise<ReloadResult> | undefined;
  #queued: Promise<ReloadResult> | undefined;
  #watcher: ConfigWatcher | undefined;
  #stopped = false;
  // Aborted by halt(): a replacement still connecting stops waiting (and is stopped).
  readonly #halting = new AbortController();

  constructor(setup: ReloaderSetup) {
    this.#o = setup;
  }

  /** Creates the target of `spec` behind a {@link SwappableTarget}, and records its configuration as in force. */
  create(spec: TargetSpec): SwappableTarget {
    const facade = new SwappableTarget(this.#build(spec));
    this.#targets.set(spec.name, facade);
    this.#inForce.set(spec.name, spec.config);
    return facade;
  }

  /** Whether the file is being watched. */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  /** Reloads now (after the reload running, if any: requests meanwhile share one). Never rejects. */
  reload(): Promise<ReloadResult> {
    if (this.#running === undefined) {
      this.#running = this.#reload().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      return this.reload();
    });
    return this.#queued;
  }

  /** Follows the file: each settled save reloads once. Resolves when watching. */
  async watch(options: WatchOptions = {}): Promise<void> {
    if (this.#watcher !== undefined || this.#stopped) return;
    const watcher = new ConfigWatcher({
      files: [this.#o.file],
      debounceMs: options.debounceMs ?? 100,
      onChange: () => void this.reload(),
      ...(this.#o.clock ? { clock: this.#o.clock } : {}),
    });
    this.#watcher = watcher;
    await watcher.start();
  }

  /** Stops following the file: no watcher or timer is left. */
  unwatch(): void {
    this.#watcher?.stop();
    this.#watcher = undefined;
  }

  /** For stopAll(), before the targets stop: no reload starts or watches from now on. */
  halt(): void {
    this.#stopped = true;
    this.#halting.abort(new Error('The manager is stopping'));
    this.unwatch();
  }

  /**
   * For stopAll(), after the targets stopped: waits for a reload in progress, then stops what it may have started
   * meanwhile (a replacement, an added target) and the targets still draining.
   */
  async stop(): Promise<void> {
    this.halt();
    await this.#running?.catch(() => undefined);
    await Promise.allSettled([...this.#targets.values(), ...this.#removed].map((t) => t.stop()));
    await Promise.allSettled([...this.#retiring]);
  }

  async #reload(): Promise<ReloadResult> {
    const file = this.#o.file;
    const telemetry = new ReloadTelemetry(file);
    const done = (r: Omit<ReloadResult, 'file' | 'at' | 'summary'>): ReloadResult => {
      const summary = [
        ...r.changes.map(describeChange),
        ...r.notApplied.flatMap((n) =>
          n.changes.map(
            (c) => `${describeChange(c)} — not applied: ${n.reason}; the target in force is unchanged`,
          ),
        ),
      ];
      const result: ReloadResult = { ...r, file, summary, at: Date.now() };
      telemetry.end(result.result, result.changes, result.error ?? result.notApplied[0]?.error, summary);
      if (result.result === 'failed')
        this.#o.emit('reloadFailed', { file, error: result.error, at: result.at });
      else this.#o.emit('reload', result);
      return result;
    };
    let specs: TargetSpec[];
    try {
      // The whole file first, driver options included: an invalid file changes nothing.
      const loaded = await loadConfig({ config: file, env: this.#o.env });
      specs = await prepareTargets(loaded, { drivers: this.#o.drivers, fromDir: this.#o.fromDir });
    } catch (error) {
      return done({ result: 'failed', changes: [], notApplied: [], error });
    }
    if (this.#stopped) return done({ result: 'unchanged', changes: [], notApplied: [] });
    const next = Object.fromEntries(specs.map((s) => [s.name, s.config]));
    const diff = diffConfigs(Object.fromEntries(this.#inForce), next);
    if (diff.changes.length === 0) return done({ result: 'unchanged', changes: [], notApplied: [] });
    const notApplied: ReloadResult['notApplied'] = [];
    const applied: ConfigChange[] = [];
    const started = [...this.#targets.values()].some((t) => t.state !== 'idle');
    for (const spec of specs) {
      const own = diff.changes.filter((c) => c.target === spec.name);
      if (own.length === 0) continue;
      try {
        await this.#applyTarget(spec, own, started);
        applied.push(...own);
      } catch (error) {
        notApplied.push({ target: spec.name, changes: own, reason: notConnectedReason(error), error });
      }
    }
    for (const name of diff.removed) {
      const facade = this.#targets.get(name);
      this.#targets.delete(name);
      this.#inForce.delete(name);
      this.#o.remove(name);
      if (facade !== undefined) {
        this.#removed.add(facade);
        this.#track(facade.retire(drainBound(facade.policy)).finally(() => this.#removed.delete(facade)));
      }
      applied.push(...diff.changes.filter((c) => c.target === name));
    }
    const result = applied.length > 0 ? 'applied' : notApplied.length > 0 ? 'not_applied' : 'unchanged';
    return done({ result, changes: applied, notApplied });
  }

  // One target's changes: added, replaced (driver or options changed), or its new policy put in force.
  async #applyTarget(spec: TargetSpec, changes: readonly ConfigChange[], started: boolean): Promise<void> {
    const facade = this.#targets.get(spec.name);
    if (facade === undefined) {
      const created = this.create(spec);
      this.#o.add(spec.name, created);
      if (started) await created.start({ signal: this.#halting.signal }).catch(() => undefined);
      return;
    }
    if (changes.some((c) => c.area === 'connection')) {
      // Until it is in force, the new target's log lines say they are a candidate's, not the live target's.
      const log = this.#o.logger === undefined ? undefined : candidateLogger(this.#o.logger, spec.name);
      const replacement = targetFromSpec(spec, { ...this.#o, logger: log?.logger });
      if (facade.state !== 'idle') {
        try {
          // The new client connects first; until then every operation goes to the old one.
          await replacement.start({ signal: this.#halting.signal });
        } catch (error) {
          await replacement.stop();
          throw error;
        }
      }
      log?.inForce();
      this.#track(facade.replace(replacement, drainBound(facade.policy)));
    } else {
      facade.applyPolicy(spec.config.policy);
      if (changes.some((c) => c.area === 'required')) facade.setRequired(spec.config.required ?? true);
    }
    this.#inForce.set(spec.name, spec.config);
  }

  #build(spec: TargetSpec): Target {
    return targetFromSpec(spec, this.#o);
  }

  #track(p: Promise<void>): void {
    const tracked = p.catch(() => undefined).finally(() => this.#retiring.delete(tracked));
    this.#retiring.add(tracked);
  }
}
