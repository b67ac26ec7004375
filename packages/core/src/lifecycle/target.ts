import type { ConnectionMonitor, Driver } from '../driver/driver.js';
import { kindMeanings, type ErrorKind } from '../error-kinds.js';
import type { NodeAddress } from '../driver/node-address.js';
import { CircuitBreaker, computeDelay, RetryBudget, RetryExecutor } from '../engine/index.js';
import type {
  AttemptReport,
  AcquireRequest,
  ConnectionSource,
  ExecuteOptions,
  Lease,
  Operation,
} from '../engine/types.js';
import {
  AttemptTimeoutError,
  isReconnectError,
  NotConnectedError,
  StoppedError,
  type ReconnectError,
} from '../errors.js';
import { isSecretKey, REDACTED, redactString } from '../policy/redact.js';
import { formatDuration } from '../policy/units.js';
import { resolvePolicy } from '../policy/resolve.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import { systemClock, type Clock, type RandomSource, type TimerHandle } from '../time/clock.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { validateDriverOptions } from './driver-options.js';
import { HealthChecker } from './health-checker.js';
import { NodePool } from './node-pool.js';
import { Reconnector } from './reconnector.js';
import { LifecycleTelemetry } from './telemetry.js';
import { holdProcess } from './keep-alive.js';
import { logTargetEvents } from './target-logging.js';
import { withTimeout } from './with-timeout.js';
import type {
  StartOptions,
  Target,
  TargetEvents,
  TargetHealth,
  TargetOptions,
  TargetState,
} from './types.js';

// One client per node (or a single slot when the driver has no node list / the client owns its topology).
interface Slot<Client> {
  readonly node: NodeAddress | undefined;
  client: Client | undefined;
  // Reused for every attempt on this client: the connected path allocates nothing.
  lease: Lease<Client> | undefined;
  unwatch: (() => void) | undefined;
  connecting: Promise<Client> | undefined;
}

/**
 * Code and message of an error for health snapshots and error messages, with credentials removed: URL
 * user info, DSN passwords and secret query parameters, and any of `secrets` (the target's own secret
 * option values) that a driver error might quote.
 */
export function describeError(
  error: unknown,
  secrets: readonly string[] = [],
): { code?: string; message: string } | undefined {
  if (error === undefined || error === null) return undefined;
  const scrub = (text: string): string => {
    let out = redactString(text);
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    return out;
  };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number'
      ? { code: String(code), message: scrub(error.message) }
      : { message: scrub(error.message) };
  }
  return { message: scrub(typeof error === 'string' ? error : (JSON.stringify(error) ?? typeof error)) };
}

// Every string under a secret key (by name, or listed in the driver's `secretKeys`) of the options.
function secretValues(options: unknown, extraKeys: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (value: unknown, path: string, secret: boolean): void => {
    if (typeof value === 'string') {
      // Very short values would redact innocent text; they are not worth hiding from a message either.
      if (secret && value.length >= 4) out.push(value);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      walk(child, childPath, secret || isSecretKey(key) || extraKeys.includes(childPath));
    }
  };
  walk(options, '', false);
  return out;
}

/**
 * A target: one driver's clients kept connected by policy. It owns the reconnector, the health
 * checker, the node pool and the retry executor, and is the executor's {@link ConnectionSource}.
 */
class ManagedTarget<Options, Client>
  extends TypedEmitter<TargetEvents>
  implements Target<Client>, ConnectionSource<Client>
{
  readonly name: string;
  readonly policy: ResolvedPolicy;
  readonly required: boolean;
  readonly #driver: Driver<Options, Client>;
  readonly #options: Options;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #slots: Slot<Client>[];
  readonly #closing = new Set<Promise<void>>();
  readonly #slotById = new Map<string, Slot<Client>>();
  readonly #pool: NodePool | undefined;
  readonly #health: HealthChecker;
  readonly #reconnector: Reconnector;
  readonly #executor: RetryExecutor<Client>;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #telemetry: LifecycleTelemetry;
  readonly #watching: boolean;
  readonly #secrets: readonly string[];
  #sinceWall = Date.now();
  #lastFailure: unknown;
  #discovering: Promise<void> | undefined;
  #discoveryTimer: TimerHandle | undefined;
  #discoveredOnStart = false;
  // Whether the target was ever connected since start(): an operation on one that never was says so.
  #everConnected = false;
  // Aborted by stop(): ends per-node connects and probes that outlive the attempt or check that started them.
  readonly #lifetime = new AbortController();

  constructor(o: TargetOptions<Options, Client>) {
    super();
    this.name = o.name;
    this.#driver = o.driver;
    this.policy = resolvePolicy(o.policy);
    this.#options =
      o.validateOptions === false
        ? o.options
        : validateDriverOptions(o.driver, o.options, { target: o.name });
    this.required = o.required ?? true;
    this.#secrets = secretValues(this.#options, o.driver.secretKeys ?? []);
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? Math.random;
    this.#watching = typeof o.driver.watch === 'function';
    this.#telemetry = new LifecycleTelemetry(o.name, o.driver.system);

    const named = o.driver.nodes?.(this.#options) ?? [];
    // Nodes the selector can never pick get no client at all.
    const nodes = this.#usable(named);
    this.#slots = named.length === 0 ? [this.#newSlot(undefined)] : nodes.map((n) => this.#newSlot(n));
    for (const s of this.#slots) if (s.node) this.#slotById.set(s.node.id, s);
    this.#pool =
      named.length === 0
        ? undefined
        : new NodePool({
            nodes,
            policy: this.policy.pool,
            clock: this.#clock,
            random: this.#random,
            ping: (node) => this.#pingNode(node),
          });

    const reconnectPolicy = this.policy.reconnect;
    this.#reconnector = new Reconnector({
      policy: reconnectPolicy,
      clock: this.#clock,
      connect: (signal) => this.#connectAttempt(signal),
      isFinal: (error) => kindMeanings[this.#kindOf(error)].final,
      delay: (attempt, previous) =>
        reconnectPolicy.delay
          ? reconnectPolicy.delay(attempt)
          : computeDelay(reconnectPolicy.backoff, attempt, previous, this.#random),
    });
    this.#health = new HealthChecker({
      policy: this.policy.healthCheck,
      clock: this.#clock,
      random: this.#random,
      probe: (signal) => this.#probeAll(signal),
    });

    const breaker = this.policy.circuitBreaker.enabled
      ? new CircuitBreaker(this.policy.circuitBreaker, this.#clock)
      : undefined;
    const budget = this.policy.retry.budget.enabled
      ? new RetryBudget(this.policy.retry.budget, this.#clock)
      : undefined;
    this.#breaker = breaker;
    breaker?.on('stateChange', (e) => this.emit('breakerStateChange', e));
    this.#executor = new RetryExecutor<Client>({
      target: this.name,
      system: o.driver.system,
      policy: this.policy.retry,
      classify: (error) => o.driver.classify(error),
      source: this,
      ...(breaker ? { breaker } : {}),
      ...(budget ? { budget } : {}),
      clock: this.#clock,
      random: this.#random,
      events: {
        retry: (e) => this.emit('retry', e),
        giveUp: (e) => this.emit('giveUp', e),
      },
    });
    this.#wire();
    if (o.logger !== undefined) logTargetEvents(this, o.logger, (error) => this.#describe(error), o.logLevel);
  }

  get state(): TargetState {
    return this.#reconnector.status;
  }

  get client(): Client {
    for (const s of this.#slots) if (s.client !== undefined) return s.client;
    throw new NotConnectedError(`Target "${this.name}" has no client yet: start() it first`);
  }

  isConnected(): boolean {
    return this.#reconnector.isConnected();
  }

  lastError(): ReconnectError | Error | undefined {
    const e = this.#reconnector.lastError() ?? this.#lastFailure;
    if (e === undefined) return undefined;
    return e instanceof Error ? e : new Error(this.#describe(e)?.message ?? 'unknown error');
  }

  start(options?: StartOptions): Promise<void> {
    const signal = options?.signal;
    if (this.#reconnector.status === 'connected') return Promise.resolve();
    const timeoutMs = options?.timeout ?? this.policy.reconnect.startTimeout;
    return new Promise<void>((resolve, reject) => {
      // The caller awaits us: the process must not exit under it (every library timer is unref'd).
      const release = holdProcess();
      let timer: TimerHandle | undefined;
      const done = (error?: unknown): void => {
        off();
        release();
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        timer = undefined;
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason
        else reject(error);
      };
      const onAbort = (): void => done(signal?.reason);
      const off = this.on('stateChange', ({ to, error }) => {
        if (to === 'connected') done();
        else if (to === 'failed') done(this.#startError(error));
        else if (to === 'stopped') done(new StoppedError());
      });
      if (signal?.aborted) {
        done(signal.reason);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      // Bounded: a service that boots during an outage learns so in seconds; the target keeps reconnecting.
      if (timeoutMs > 0)
        timer = this.#clock.setTimeout(() => done(this.#startTimedOut(timeoutMs)), timeoutMs);
      const s = this.#reconnector.status;
      if (s === 'idle') this.#reconnector.start();
      else if (s === 'stopped') done(new StoppedError());
      else if (s === 'failed') done(this.#startError(this.#reconnector.lastError()));
    });
  }

  async stop(): Promise<void> {
    this.#lifetime.abort(new StoppedError());
    this.#reconnector.stop();
    this.#health.stop();
    if (this.#discoveryTimer !== undefined) this.#clock.clearTimeout(this.#discoveryTimer);
    this.#discoveryTimer = undefined;
    this.#telemetry.endReconnect('stopped');
    // Connects in flight were aborted above; wait for them to settle (their late clients are closed as they
    // land) so no socket outlives stop(), but never longer than a connect may take.
    const connecting = this.#slots.flatMap((s) =>
      s.connecting ? [s.connecting.catch(() => undefined)] : [],
    );
    if (connecting.length > 0) {
      const ms = this.policy.reconnect.connectTimeout;
      await withTimeout(this.#clock, ms, () => Promise.allSettled(connecting), {
        timeoutError: () => new AttemptTimeoutError(ms),
      }).catch(() => undefined);
    }
    await Promise.allSettled(this.#slots.map((s) => this.#closeSlot(s)));
    // Closes a reconnect began before stop() (of the clients it replaced) must finish too: no socket
    // may outlive stop(). Each is bounded by the driver's own close.
    await Promise.allSettled([...this.#closing]);
  }

  execute<T>(op: Operation<Client, T>, options?: ExecuteOptions): Promise<T> {
    return this.#executor.execute(op, options);
  }

  health(): TargetHealth {
    return {
      name: this.name,
      state: this.state,
      connected: this.isConnected(),
      required: this.required,
      since: this.#sinceWall,
      lastError: this.#describe(this.lastError()),
      nodes: this.#pool
        ? this.#pool.nodes.map((n) => ({ id: n.node.id, alive: n.alive, deadCount: n.deadCount }))
        : [],
    };
  }

  // ConnectionSource: the executor's way to a client, once per attempt.

  acquire(request: AcquireRequest): Lease<Client> | Promise<Lease<Client>> {
    if (this.#reconnector.status === 'connected') {
      const lease = this.#leaseFor(request);
      if (lease !== undefined) return lease;
    }
    return this.#acquireSlow(request);
  }

  report(lease: Lease<Client>, report: AttemptReport): void {
    const node = lease.node;
    if (report.ok) {
      this.#health.record(true);
      if (node !== undefined) this.#pool?.markSuccess(node);
      return;
    }
    // The caller's own deadline cut the attempt: that says nothing about the server.
    if (report.interrupt === 'deadline') return;
    const meaning = kindMeanings[report.classification.kind];
    if (meaning.healthFailure) {
      // Passive health: the first failing calls count, not only the next probe.
      this.#lastFailure = report.error;
      const pool = this.#pool;
      if (node !== undefined && pool !== undefined) {
        pool.markFailure(node);
        // Node-level health: one failing node of several is the pool's business, not a target outage.
        if (pool.alive.length > 0) return;
      }
      if (this.#reconnector.status === 'connected') this.#health.record(false, report.error);
    } else if (meaning.serverAnswered) {
      // The server answered (with an error): it is alive.
      this.#health.record(true);
    }
  }

  // Internals.

  #newSlot(node: NodeAddress | undefined): Slot<Client> {
    return { node, client: undefined, lease: undefined, unwatch: undefined, connecting: undefined };
  }

  // Nodes the selector can use at all (a custom selector filters, e.g. by hostname).
  #usable(nodes: readonly NodeAddress[]): NodeAddress[] {
    const selector = this.policy.pool.selector;
    return nodes.filter(
      (n) =>
        n.host !== '' &&
        Number.isInteger(n.port) &&
        n.port > 0 &&
        (typeof selector !== 'function' || selector([n]) !== undefined),
    );
  }

  #wire(): void {
    const r = this.#reconnector;
    r.on('stateChange', (e) => {
      this.#sinceWall = e.at;
      this.#telemetry.state(e.to);
      if (e.to === 'connected') {
        this.#everConnected = true;
        this.#telemetry.endReconnect('reconnected', e.attempt);
        this.#health.start();
        this.#afterConnect();
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
      this.#breaker?.reset();
      this.emit('reconnect', e);
    });
    r.on('reconnectFailed', (e) => {
      this.#telemetry.reconnectTry(e.attempt, e.error, e.nextDelayMs, e.onDemandAttempts);
      this.emit('reconnectFailed', e);
    });
    this.#health.on('probe', (p) => {
      this.#telemetry.healthCheck(p.ok, p.durationMs, p.error);
      this.emit('healthCheck', { ...p, node: this.#slots.length === 1 ? this.#slots[0]!.node : undefined });
    });
    this.#health.on('down', ({ error }) => this.#lose(error));
    const pool = this.#pool;
    if (pool !== undefined) {
      pool.on('nodeDead', (e) => {
        this.#telemetry.nodeEvent('dead', e.node, e.deadCount);
        this.emit('nodeDead', e);
        if (this.policy.pool.discovery.onFault) void this.#discover();
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
    this.#lastFailure = error;
    this.#reconnector.lost(error);
    // A self-reconnecting client (ioredis) is never closed and re-created on a fault: we follow its monitor.
    if (!this.#watching) for (const s of this.#slots) void this.#closeSlot(s);
  }

  #monitor(): ConnectionMonitor {
    return {
      down: (error) => this.#lose(error),
      up: () => this.#reconnector.up(),
    };
  }

  // One reconnect attempt: connect every node that has no client; a self-reconnecting client is nudged and probed.
  // The target is up as soon as one node is: the others go on (each bounded by connectTimeout) and feed the pool.
  async #connectAttempt(signal: AbortSignal): Promise<void> {
    const existing = this.#slots.filter((s) => s.client !== undefined);
    if (this.#watching && existing.length > 0) {
      await this.#firstSuccess(
        existing.map((s) =>
          this.#perNode(signal, this.policy.reconnect.connectTimeout, async (nodeSignal) => {
            this.#driver.reconnectNow?.(s.client as Client);
            await this.#prove(s, nodeSignal, 1);
          }),
        ),
      );
      return;
    }
    const missing = this.#slots.filter((s) => s.client === undefined);
    if (missing.length === 1) {
      await this.#connectSlot(missing[0]!, signal);
      await this.#prove(missing[0]!, signal);
      return;
    }
    await this.#firstSuccess(
      missing.map((s) =>
        this.#perNode(signal, this.policy.reconnect.connectTimeout, async (nodeSignal) => {
          await this.#connectSlot(s, nodeSignal);
          await this.#prove(s, nodeSignal);
        }),
      ),
    );
  }

  // `healthCheck.successThreshold`: a (re)connected or resurrected node is up only after that many consecutive
  // probes succeed, each bounded by the health timeout (none when health checks are disabled, unless `atLeast`).
  // A node that fails them loses its fresh client, so the next attempt connects again.
  async #prove(slot: Slot<Client>, signal: AbortSignal, atLeast = 0): Promise<void> {
    const check = this.policy.healthCheck;
    const probes = Math.max(check.enabled ? check.successThreshold : 0, atLeast);
    try {
      for (let i = 0; i < probes; i++)
        await this.#perNode(signal, check.timeout, (probeSignal) => this.#probeSlot(slot, probeSignal));
    } catch (error) {
      if (!this.#watching) await this.#closeSlot(slot);
      throw error;
    }
  }

  // One node's share of an attempt or a check: its own time limit, so it may outlive the attempt that started it
  // (one node up is enough) without hanging forever; aborted with `signal` while that is running, and by stop().
  #perNode<T>(signal: AbortSignal, ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withTimeout(this.#clock, ms, run, {
      signal: [signal, this.#lifetime.signal],
      timeoutError: () => new AttemptTimeoutError(ms),
    });
  }

  // Resolves as soon as one promise fulfils; rejects with the first error once every one rejected.
  #firstSuccess(promises: Promise<unknown>[]): Promise<void> {
    if (promises.length === 0) {
      if (this.#slots.some((s) => s.client !== undefined)) return Promise.resolve();
      return Promise.reject(new NotConnectedError(`Target "${this.name}" has no node to connect to`));
    }
    return new Promise<void>((resolve, reject) => {
      let pending = promises.length;
      let first: { error: unknown } | undefined;
      for (const p of promises) {
        p.then(
          () => resolve(),
          (error: unknown) => {
            first ??= { error };
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the node's own error, whatever it is
            if (--pending === 0) reject(first.error);
          },
        );
      }
    });
  }

  #connectSlot(slot: Slot<Client>, signal: AbortSignal): Promise<Client> {
    if (slot.connecting) return slot.connecting;
    const ctx = {
      signal,
      policy: this.policy,
      target: this.name,
      ...(slot.node ? { node: slot.node } : {}),
    };
    const connecting = this.#driver.connect(this.#options, ctx).then(
      async (client) => {
        slot.connecting = undefined;
        if (signal.aborted || this.#reconnector.status === 'stopped') {
          // Too late: the attempt was abandoned. Do not leak the client.
          await this.#closeClient(client);
          throw signal.reason ?? new StoppedError();
        }
        slot.client = client;
        slot.lease = { client, node: slot.node };
        if (this.#watching) slot.unwatch = this.#driver.watch?.(client, this.#monitor());
        if (slot.node) this.#pool?.markSuccess(slot.node);
        return client;
      },
      (error: unknown) => {
        slot.connecting = undefined;
        if (slot.node) this.#pool?.markFailure(slot.node);
        throw error;
      },
    );
    slot.connecting = connecting;
    return connecting;
  }

  async #closeSlot(slot: Slot<Client>): Promise<void> {
    const client = slot.client;
    slot.unwatch?.();
    slot.unwatch = undefined;
    slot.client = undefined;
    slot.lease = undefined;
    if (client !== undefined) await this.#closeClient(client);
  }

  // Every close goes through here, so stop() can wait for the ones a reconnect started before it.
  #closeClient(client: Client): Promise<void> {
    const closing = this.#driver.close(client).catch(() => undefined);
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
    return closing;
  }

  async #probeSlot(slot: Slot<Client>, signal: AbortSignal): Promise<void> {
    const client = slot.client;
    if (client === undefined) throw new NotConnectedError(`Node ${slot.node?.id ?? ''} has no client`);
    const query = this.policy.healthCheck.query;
    await this.#driver.probe(client, query === undefined ? { signal } : { signal, query });
  }

  // The active health check. One node: its probe. Several: each node is probed on its own (bounded by the health
  // timeout) and its outcome feeds the pool (node-level health); the target is fine as soon as one node answers.
  async #probeAll(signal: AbortSignal): Promise<void> {
    const slots = this.#slots.filter((s) => s.client !== undefined);
    if (slots.length === 1 && this.#pool === undefined) {
      await this.#probeSlot(slots[0]!, signal);
      return;
    }
    await this.#firstSuccess(
      slots.map(async (s) => {
        try {
          await this.#perNode(signal, this.policy.healthCheck.timeout, (nodeSignal) =>
            this.#probeSlot(s, nodeSignal),
          );
          if (s.node) this.#pool?.markSuccess(s.node);
        } catch (error) {
          // Aborted with the check (stop(), or no node answered in time): that says nothing about this node.
          if (s.node && !signal.aborted) this.#pool?.markFailure(s.node);
          throw error;
        }
      }),
    );
  }

  // `resurrect: ping`: a dead node is back when its client answers a probe (or, without a client, connects).
  async #pingNode(node: NodeAddress): Promise<void> {
    const slot = this.#slotById.get(node.id);
    if (slot === undefined) throw new NotConnectedError(`Unknown node ${node.id}`);
    // The connect is bounded by connectTimeout; then successThreshold probes (at least one) prove it is back.
    const hadClient = slot.client !== undefined;
    if (!hadClient)
      await this.#perNode(this.#lifetime.signal, this.policy.reconnect.connectTimeout, (signal) =>
        this.#connectSlot(slot, signal),
      );
    await this.#prove(slot, this.#lifetime.signal, hadClient ? 1 : 0);
  }

  // A node picked by the pool has no client yet (discovered, or resurrected optimistically): connect it now.
  async #acquireNode(slot: Slot<Client>, request: AcquireRequest): Promise<Lease<Client>> {
    try {
      await withTimeout(
        this.#clock,
        this.policy.reconnect.connectTimeout,
        (s) => this.#connectSlot(slot, s),
        {
          signal: request.signal,
          timeoutError: () => new NotConnectedError('Connect timed out'),
        },
      );
      if (slot.lease === undefined) throw new NotConnectedError(`Node ${slot.node?.id ?? ''} has no client`);
      return slot.lease;
    } catch (error) {
      throw new NotConnectedError(`Could not connect to node ${slot.node?.id ?? ''}`, {
        cause: error,
        kind: 'connection',
        target: this.name,
      });
    }
  }

  // The connected path: the node's reused lease, or a connect of a node that has no client yet.
  #leaseFor(request: AcquireRequest): Lease<Client> | Promise<Lease<Client>> | undefined {
    const pool = this.#pool;
    if (pool === undefined) return this.#slots[0]!.lease;
    const node = pool.select(request.avoid, request.readOnly);
    const slot = this.#slotById.get(node.id);
    if (slot === undefined) return undefined;
    return slot.lease ?? this.#acquireNode(slot, request);
  }

  async #acquireSlow(request: AcquireRequest): Promise<Lease<Client>> {
    // Bounded: each round either returns, throws, or waited for a state change.
    for (let round = 0; round < 3; round++) {
      const status = this.#reconnector.status;
      if (status === 'stopped') throw new StoppedError();
      if (status === 'idle') throw this.#notConnected('it was not started');
      if (status === 'connected') {
        const lease = this.#leaseFor(request);
        // A connected target with no client left (closing right now) goes round once more.
        if (lease !== undefined) return lease;
      }
      // Fast recovery: a waiting operation asks for an attempt now (single-flight, one per minProbeGap).
      this.#reconnector.nudge();
      if (this.policy.reconnect.whileReconnecting === 'fail-fast')
        throw this.#everConnected ? this.#notConnected(`it is ${status}`) : this.#neverConnected();
      const release = holdProcess();
      try {
        await this.#reconnector.whenConnected(request.signal);
      } finally {
        release();
      }
    }
    throw this.#notConnected('the connection keeps dropping');
  }

  #notConnected(why: string): NotConnectedError {
    const cause = this.#reconnector.lastError() ?? this.#lastFailure;
    return new NotConnectedError(`Target "${this.name}" is not connected: ${why}`, {
      cause,
      kind: 'connection',
      target: this.name,
    });
  }

  // A target that has not connected once since start(): what it last failed with is the news.
  #neverConnected(): NotConnectedError {
    const cause = this.#reconnector.lastError();
    const detail = this.#describe(cause)?.message;
    return new NotConnectedError(
      `Target "${this.name}" has never connected since start()${detail ? `: ${detail}` : ''}`,
      { cause, kind: cause === undefined ? 'connection' : this.#kindOf(cause), target: this.name },
    );
  }

  #startTimedOut(ms: number): NotConnectedError {
    const cause = this.#reconnector.lastError();
    const detail = this.#describe(cause)?.message;
    return new NotConnectedError(
      `Target "${this.name}" did not connect within ${formatDuration(ms)} (reconnect.startTimeout)${detail ? `: ${detail}` : ''}; it keeps reconnecting in the background`,
      { cause, kind: cause === undefined ? 'connection' : this.#kindOf(cause), target: this.name },
    );
  }

  /**
   * For the executor: an operation that waited for a connection until its deadline, on a target that has
   * never connected, fails with NotConnectedError (the last connect error as cause) rather than a bare deadline.
   */
  unavailable(): ReconnectError | undefined {
    if (this.#everConnected) return undefined;
    const s = this.#reconnector.status;
    return s === 'connecting' || s === 'failed' ? this.#neverConnected() : undefined;
  }

  // An error's redacted code and message; the driver may say what a client's own text means (classify().message).
  #describe(error: unknown): { code?: string; message: string } | undefined {
    const described = describeError(error, this.#secrets);
    if (described === undefined || isReconnectError(error)) return described;
    let message: string | undefined;
    try {
      message = this.#driver.classify(error).message;
    } catch {
      message = undefined;
    }
    return message === undefined
      ? described
      : { ...described, message: describeError(message, this.#secrets)!.message };
  }

  // The error kind: a ReconnectError says it itself; anything else is the driver's to classify.
  #kindOf(error: unknown): ErrorKind {
    if (isReconnectError(error)) return error.kind ?? 'connection';
    try {
      return this.#driver.classify(error).kind;
    } catch {
      return 'unknown';
    }
  }

  #startError(cause: unknown): NotConnectedError {
    const detail = this.#describe(cause)?.message;
    return new NotConnectedError(`Target "${this.name}" could not connect${detail ? `: ${detail}` : ''}`, {
      cause,
      kind: cause === undefined ? 'connection' : this.#kindOf(cause),
      target: this.name,
    });
  }

  #afterConnect(): void {
    const discovery = this.policy.pool.discovery;
    if (this.#driver.discover === undefined || this.#pool === undefined) return;
    if (discovery.onStart && !this.#discoveredOnStart) {
      this.#discoveredOnStart = true;
      void this.#discover();
    }
    if (discovery.interval !== false && this.#discoveryTimer === undefined)
      this.#scheduleDiscovery(discovery.interval);
  }

  #scheduleDiscovery(every: number): void {
    this.#discoveryTimer = this.#clock.setTimeout(() => {
      this.#discoveryTimer = undefined;
      if (this.#reconnector.status === 'stopped') return;
      void this.#discover().finally(() => {
        if (this.#reconnector.status !== 'stopped') this.#scheduleDiscovery(every);
      });
    }, every);
  }

  // Asks the cluster for its nodes (single-flight); keeps known nodes' status, connects new ones lazily.
  #discover(): Promise<void> {
    if (this.#discovering) return this.#discovering;
    const driver = this.#driver;
    const pool = this.#pool;
    // Ask a node believed alive; after a fault that may be none with a client yet, so any client will do.
    const slot =
      this.#slots.find((s) => s.client !== undefined && (!s.node || pool?.status(s.node.id)?.alive)) ??
      this.#slots.find((s) => s.client !== undefined);
    if (driver.discover === undefined || pool === undefined || slot?.client === undefined)
      return Promise.resolve();
    const client = slot.client;
    this.#discovering = withTimeout(
      this.#clock,
      this.policy.healthCheck.timeout,
      (signal) => driver.discover!(client, { signal }),
      { signal: this.#lifetime.signal, timeoutError: () => new NotConnectedError('Discovery timed out') },
    )
      .then((found) => {
        const usable = this.#usable(found);
        if (usable.length === 0 || this.#reconnector.status === 'stopped') return;
        pool.setNodes(usable);
        for (const n of usable) {
          if (!this.#slotById.has(n.id)) {
            const s = this.#newSlot(n);
            this.#slots.push(s);
            this.#slotById.set(n.id, s);
          }
        }
        for (let i = this.#slots.length - 1; i >= 0; i--) {
          const s = this.#slots[i]!;
          if (s.node && pool.status(s.node.id) === undefined) {
            this.#slots.splice(i, 1);
            this.#slotById.delete(s.node.id);
            void this.#closeSlot(s);
          }
        }
      })
      .catch(() => undefined)
      .finally(() => {
        this.#discovering = undefined;
      });
    return this.#discovering;
  }
}

/** Creates a {@link Target}: a driver's client(s) kept connected by policy. Call `start()` to connect. */
export function createTarget<Options, Client>(options: TargetOptions<Options, Client>): Target<Client> {
  return new ManagedTarget(options);
}
