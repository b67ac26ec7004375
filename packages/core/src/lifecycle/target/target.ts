import type { ConnectionMonitor } from '../../driver/driver.js';
import type { NodeAddress } from '../../node-address.js';
import { computeDelay } from '../../engine/index.js';
import type { AcquireRequest, ConnectionSource, ExecuteOptions, Operation } from '../../engine/types.js';
import { kindMeanings } from '../../error-kinds.js';
import { NotConnectedError, StoppedError, type ReconnectError } from '../../errors.js';
import { resolvePolicy } from '../../policy/resolve.js';
import type { PoolPolicy, ResolvedPolicy } from '../../policy/resolved.js';
import type { ExtendablePolicyInput, PolicyInput } from '../../policy/schema.js';
import { systemClock, type Clock, type RandomSource } from '../../time/clock.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import { applyPolicy } from './apply-policy.js';
import { Discovery, type DiscoveryOptions } from './discovery.js';
import { validateDriverOptions } from '../../driver/driver-options.js';
import { assertDriver } from '../../driver/resolve-driver.js';
import { HealthChecker } from '../health/health-checker.js';
import { NodePool } from '../nodes/node-pool.js';
import { NodeSlots, usableNodes } from './node-slots.js';
import { Reconnector } from '../reconnect/reconnector.js';
import { waitForStart } from './start-wait.js';
import { TargetErrors } from './errors.js';
import { buildRunner, type RunnerOptions, type TargetRunner } from './executor.js';
import { logTargetEvents } from './logging.js';
import { targetHealth } from './health.js';
import { TargetSource } from './source.js';
import { LifecycleTelemetry } from './telemetry.js';
import type {
  StartOptions,
  Target,
  TargetEvents,
  TargetHealth,
  TargetOptions,
  TargetState,
} from '../types.js';

/**
 * A target: one driver's clients kept connected by policy. The composition root of the lifecycle: it wires the
 * reconnector, the health checker, the node pool, the node slots, discovery, the connection source and the
 * retry executor, and turns their events into the target's.
 */
class ManagedTarget<Options, Client> extends TypedEmitter<TargetEvents> implements Target<Client> {
  readonly name: string;
  #policy: ResolvedPolicy; // in force: a reload replaces it (`policy` is its getter)
  readonly required: boolean;
  readonly #clock: Clock;
  readonly #slots: NodeSlots<Options, Client>;
  readonly #pool: NodePool | undefined;
  readonly #discovery: Discovery<Options, Client> | undefined;
  readonly #health: HealthChecker;
  readonly #reconnector: Reconnector;
  readonly #source: TargetSource<Options, Client>;
  // Swapped by a reload: operations already running keep the runner (executor, policy) they started with.
  #runner: TargetRunner<Client>;
  readonly #runnerOptions: Omit<RunnerOptions<Client>, 'policy'>;
  // The live pool's policy, updated in place by a reload (the pool reads it on every use).
  readonly #poolPolicy: PoolPolicy | undefined;
  readonly #discoveryOptions: DiscoveryOptions<Options, Client> | undefined;
  readonly #telemetry: LifecycleTelemetry<Options, Client>;
  readonly #errors: TargetErrors;
  readonly #watching: boolean;
  #sinceWall = Date.now();
  // Aborted by stop(): ends per-node connects and probes that outlive the attempt or check that started them.
  readonly #lifetime = new AbortController();

  constructor(o: TargetOptions<Options, Client>) {
    super();
    this.name = o.name;
    assertDriver(o.driver, o.name);
    // Resolved exactly once: a policy that already is (from a file) is taken as it is.
    this.#policy = resolvePolicy(o.policy);
    const options =
      o.validateOptions === false
        ? o.options
        : validateDriverOptions(o.driver, o.options, { target: o.name });
    this.required = o.required ?? true;
    this.#clock = o.clock ?? systemClock;
    const random: RandomSource = o.random ?? Math.random;
    this.#watching = typeof o.driver.watch === 'function';
    this.#errors = new TargetErrors(o.name, o.driver, options);
    this.#telemetry = new LifecycleTelemetry(o.name, o.driver, options);

    const named = o.driver.nodes?.(options) ?? [];
    const stopped = (): boolean => this.#reconnector.status === 'stopped';
    const usable = (nodes: readonly NodeAddress[]): NodeAddress[] => usableNodes(this.policy, nodes);
    // Nodes the selector can never pick get no client at all.
    const nodes = usable(named);
    this.#slots = new NodeSlots(
      {
        target: o.name,
        driver: o.driver,
        options,
        policy: this.policy,
        clock: this.#clock,
        lifetime: this.#lifetime.signal,
        stopped,
        monitor: () => this.#monitor(),
        pool: () => this.#pool,
      },
      named.length === 0 ? undefined : nodes,
    );
    this.#poolPolicy = named.length === 0 ? undefined : { ...this.policy.pool };
    this.#pool =
      this.#poolPolicy === undefined
        ? undefined
        : new NodePool({
            nodes,
            policy: this.#poolPolicy,
            clock: this.#clock,
            random,
            ping: (node) => this.#slots.ping(node),
          });
    this.#discoveryOptions =
      this.#pool === undefined || o.driver.discover === undefined
        ? undefined
        : {
            driver: o.driver,
            policy: this.policy,
            clock: this.#clock,
            pool: this.#pool,
            slots: this.#slots,
            lifetime: this.#lifetime.signal,
            stopped,
            usable,
            onUnreachable: (node, error) => this.#telemetry.nodeUnreachable(node, error),
            attemptsEndBy: (now) => this.#source.attemptsEndBy(now),
          };
    this.#discovery = this.#discoveryOptions && new Discovery(this.#discoveryOptions);
    this.#reconnector = new Reconnector({
      ...{ policy: this.policy.reconnect, clock: this.#clock, random },
      connect: (signal) => this.#slots.connectAttempt(signal),
      isFinal: (error) => kindMeanings[this.#errors.kindOf(error)].final,
      isBusy: (error) => kindMeanings[this.#errors.kindOf(error)].busy,
      // Read at each attempt: a reload's backoff applies from the next one.
      delay: (attempt, previous) => {
        const reconnect = this.policy.reconnect;
        return reconnect.delay
          ? reconnect.delay(attempt)
          : computeDelay(reconnect.backoff, attempt, previous, random);
      },
    });
    this.#health = new HealthChecker({
      policy: this.policy.healthCheck,
      clock: this.#clock,
      random,
      probe: (signal) => this.#slots.probeAll(signal),
    });

    this.#source = new TargetSource({
      policy: this.policy,
      clock: this.#clock,
      reconnector: this.#reconnector,
      health: this.#health,
      slots: this.#slots,
      pool: this.#pool,
      errors: this.#errors,
      db: this.#telemetry.db,
      bind: o.driver.bindAttempt?.bind(o.driver),
    });

    this.#runnerOptions = {
      target: this.name,
      driver: o.driver,
      source: this.#source,
      clock: this.#clock,
      random,
      events: { retry: (e) => this.emit('retry', e), giveUp: (e) => this.emit('giveUp', e) },
      breakerChanged: (e) => {
        if (e.to === 'open') this.#health.suspect();
        this.emit('breakerStateChange', e);
      },
    };
    this.#runner = buildRunner({ ...this.#runnerOptions, policy: this.policy });
    this.#wire();
    this.#telemetry.observe(this.#slots, this.#pool, () => this.#runner);
    if (o.logger !== undefined)
      logTargetEvents(this, o.logger, (error) => this.#errors.describe(error), o.logLevel);
  }

  /** The policy in force now (a reload replaces it). */
  get policy(): ResolvedPolicy {
    return this.#policy;
  }

  /**
   * Puts `next` in force (a reload): each part takes the sections that changed, operations already running
   * finish under the policy they started with. Driver options are not a policy: changing them replaces the target.
   */
  applyPolicy(next: ResolvedPolicy): void {
    const before = this.#policy;
    if (before === next || this.state === 'stopped') return;
    this.#policy = next;
    applyPolicy(before, next, {
      ...{ health: this.#health, reconnector: this.#reconnector, slots: this.#slots, source: this.#source },
      pool: this.#pool,
      discovery: this.#discovery && { options: this.#discoveryOptions!, live: this.#discovery },
      connected: this.isConnected(),
      rebuildRunner: () => {
        const old = this.#runner;
        this.#runner = buildRunner({ ...this.#runnerOptions, policy: next }, { runner: old, before });
        old.retire(this.#runner);
      },
    });
  }

  get state(): TargetState {
    return this.#reconnector.status;
  }

  get client(): Client {
    const client = this.#slots.firstClient();
    if (client === undefined)
      throw new NotConnectedError(`Target "${this.name}" has no client yet: start() it first`);
    return client;
  }

  isConnected(): boolean {
    return this.#reconnector.isConnected();
  }

  lastError(): ReconnectError | Error | undefined {
    const e = this.#reconnector.lastError() ?? this.#source.lastFailure;
    if (e === undefined) return undefined;
    return e instanceof Error ? e : new Error(this.#errors.describe(e)?.message ?? 'unknown error');
  }

  start(options?: StartOptions): Promise<void> {
    return waitForStart({
      reconnector: this.#reconnector,
      clock: this.#clock,
      timeoutMs: options?.timeout ?? this.policy.reconnect.startTimeout,
      signal: options?.signal,
      failed: (cause) => this.#errors.couldNotConnect(cause),
      timedOut: (ms) => this.#errors.startTimedOut(ms, this.#reconnector.lastError()),
    });
  }

  async stop(): Promise<void> {
    this.#lifetime.abort(new StoppedError());
    this.#reconnector.stop();
    this.#health.stop();
    this.#discovery?.stop();
    this.#telemetry.endReconnect('stopped');
    await Promise.all([this.#slots.closeAll(this.policy.reconnect.connectTimeout), this.#discovery?.drain()]);
  }

  execute<T>(op: Operation<Client, T>, options?: ExecuteOptions): Promise<T> {
    return this.#runner.executor.execute(op, options);
  }

  health(): TargetHealth {
    return targetHealth({
      ...{ name: this.name, state: this.state, connected: this.isConnected(), required: this.required },
      ...{ since: this.#sinceWall, lastError: this.lastError(), pool: this.#pool, slots: this.#slots.all },
      unreachable: this.#discovery?.unreachable,
      errors: this.#errors,
    });
  }

  /** The target's connection source, as the executor sees it (for tests and tools): one lease per attempt. */
  acquire(request: AcquireRequest): ReturnType<ConnectionSource<Client>['acquire']> {
    return this.#source.acquire(request);
  }

  #wire(): void {
    const r = this.#reconnector;
    r.on('stateChange', (e) => {
      this.#sinceWall = e.at;
      this.#telemetry.state(e.to);
      if (e.to === 'connected') {
        this.#source.everConnected = true;
        this.#telemetry.endReconnect('reconnected', e.attempt);
        this.#health.start();
        this.#discovery?.connected();
      } else if (e.from === 'connected') {
        this.#health.stop();
      }
      const st = r.state;
      // Gave up for good (onExhausted: stop): no reconnect follows, so the reconnect span ends here.
      if (st.status === 'failed' && (st.final === true || this.policy.reconnect.onExhausted === 'stop'))
        this.#telemetry.endReconnect('gave-up', e.attempt);
      this.emit('stateChange', e);
    });
    r.on('disconnect', (e) => {
      this.#telemetry.startReconnect(e.error);
      this.emit('disconnect', e);
    });
    r.on('reconnect', (e) => {
      // The reconnect's connect + probe proved the server healthy: don't keep failing fast until openFor ends.
      this.#runner.breaker?.reset();
      this.emit('reconnect', e);
    });
    r.on('reconnectFailed', (e) => {
      this.#telemetry.reconnectTry(e.attempt, e.error, e.nextDelayMs, e.onDemandAttempts);
      this.emit('reconnectFailed', e);
    });
    this.#health.on('probe', (p) => {
      this.#telemetry.healthCheck(p.ok, p.durationMs, p.error);
      if (p.ok) this.#runner.breaker?.probeSucceeded(this.policy.healthCheck.interval);
      const slots = this.#slots.all;
      this.emit('healthCheck', { ...p, node: slots.length === 1 ? slots[0]!.node : undefined });
    });
    this.#health.on('down', ({ error }) => this.#lose(error));
    const pool = this.#pool;
    if (pool !== undefined) {
      pool.on('nodeDead', (e) => {
        this.#telemetry.nodeEvent('dead', e.node, e.deadCount);
        this.emit('nodeDead', e);
        this.#discovery?.nodeDied();
      });
      pool.on('nodeResurrected', (e) => {
        this.#telemetry.nodeEvent('resurrected', e.node, e.deadCount);
        this.emit('nodeResurrected', e);
      });
      pool.on('allDead', (e) => {
        this.#telemetry.allDead(e.offered, e.nodes);
        this.emit('allNodesDead', e);
      });
    }
  }

  #lose(error: unknown): void {
    if (this.#reconnector.status !== 'connected') return;
    this.#source.lastFailure = error;
    this.#reconnector.lost(error);
    // A self-reconnecting client (ioredis) is never closed and re-created on a fault: we follow its monitor.
    if (!this.#watching) for (const s of this.#slots.all) void this.#slots.close(s);
  }

  #monitor(): ConnectionMonitor {
    return {
      down: (error) => this.#lose(error),
      up: () => this.#reconnector.up(),
    };
  }
}

type PolicyOption = ResolvedPolicy | PolicyInput | ExtendablePolicyInput | `preset:${string}`;

/**
 * Creates a {@link Target}: a driver's client(s) kept connected by policy. Call `start()` to connect. `policy` also
 * takes what a policy file's target does: a preset (`'preset:redis'`) or `{ extends: 'preset:redis', … }`.
 */
export function createTarget<Options, Client>(
  options: Omit<TargetOptions<Options, Client>, 'policy'> & { policy?: PolicyOption },
): Target<Client> {
  const p = options.policy;
  return new ManagedTarget({ ...options, policy: resolvePolicy(typeof p === 'string' ? { extends: p } : p) });
}
