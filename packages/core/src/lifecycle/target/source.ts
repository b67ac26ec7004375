import {
  leaseDeliveredLater,
  receivesLeases,
  type AcquireRequest,
  type AttemptContext,
} from '../../engine/types.js';
import type { AttemptReport, ConnectionSource, Lease } from '../../engine/types.js';
import { kindMeanings } from '../../error-kinds.js';
import type { NodeAddress } from '../../node-address.js';
import { NotConnectedError, QueueFullError, StoppedError, type ReconnectError } from '../../errors.js';
import type { ResolvedPolicy } from '../../policy/resolved.js';
import type { DbTarget } from '../../telemetry/db-target.js';
import type { Clock } from '../../time/clock.js';
import type { HealthChecker } from '../health/health-checker.js';
import type { NodePool } from '../nodes/node-pool.js';
import type { NodeSlots, Slot } from './node-slots.js';
import type { Reconnector } from '../reconnect/reconnector.js';
import { ReconnectWait, ReleaseGate, Settler, type WaitingSource } from './reconnect-wait.js';
import type { TargetErrors } from './errors.js';
import { withTimeout } from '../../time/with-timeout.js';

/** `lease` with its client bound to `attempt` (a lease of its own: the node's reused one stays unbound). */
function bound<Client>(
  lease: Lease<Client>,
  bind: (client: Client, attempt: AttemptContext) => Client,
  attempt: AttemptContext,
): Lease<Client> {
  const client = bind(lease.client, attempt);
  return lease.node === undefined ? { client } : { client, node: lease.node };
}

/** What a target's {@link TargetSource} works with: the target's parts, shared, not owned. */
export interface TargetSourceParts<Options, Client> {
  policy: ResolvedPolicy;
  clock: Clock;
  reconnector: Reconnector;
  health: HealthChecker;
  slots: NodeSlots<Options, Client>;
  pool: NodePool | undefined;
  errors: TargetErrors;
  /** The target's database as its telemetry describes it (for the executor's spans and metrics). */
  db?: DbTarget | undefined;
  /** The driver's `bindAttempt`: each attempt's lease then carries the client bound to that attempt. */
  bind?: ((client: Client, attempt: AttemptContext) => Client) | undefined;
}

/**
 * The executor's way to a target's clients, once per attempt: the reused lease of a connected node (no
 * allocation on the connected path), a wait for the reconnect (bounded by the operation's deadline, with an
 * on-demand attempt), and what each attempt's outcome teaches passive health and the node pool.
 */
export class TargetSource<Options, Client> implements ConnectionSource<Client>, WaitingSource<Client> {
  /** The last failure an operation or health check saw, for `lastError()` and error causes. */
  lastFailure: unknown;
  /** Whether the target connected once since start(): an operation on one that never did says so. */
  everConnected = false;
  readonly #p: TargetSourceParts<Options, Client>;
  // Multi-node targets: the longest attempt timeout of any attempt handed a client, and the latest deadline of
  // one handed a client with no attempt timeout — what bounds how long a client that leaves may still be in use.
  #longestTimeoutMs = 0;
  #unboundedUntil = 0;

  // Operations that waited out an outage and were let go, whose attempts have not ended yet (see ReleaseGate).
  readonly #released: ReleaseGate;

  constructor(parts: TargetSourceParts<Options, Client>) {
    this.#p = { ...parts };
    this.#released = new ReleaseGate(() => this.#p.slots.capacity());
    this.#p.reconnector.waiters.pacer = this.#released;
  }

  /** The target's reconnector (for ReconnectWait). */
  get reconnector(): Reconnector {
    return this.#p.reconnector;
  }

  /** Takes a new policy (a reload): `whileReconnecting` and `connectTimeout` apply from the next acquire. */
  setPolicy(policy: ResolvedPolicy): void {
    this.#p.policy = policy;
  }

  acquire(request: AcquireRequest): ReturnType<ConnectionSource<Client>['acquire']> {
    const reconnector = this.#p.reconnector;
    if (reconnector.status === 'connected' && reconnector.waiters.size === 0) {
      const lease = this.#leaseFor(request);
      if (lease !== undefined) return this.#bound(lease, request);
    }
    return this.#acquireSlow(request);
  }

  // The lease handed out: its client bound to the attempt when the driver binds.
  #bound(lease: Lease<Client> | Promise<Lease<Client>>, request: AcquireRequest) {
    const bind = this.#p.bind;
    if (bind === undefined) return lease;
    return lease instanceof Promise
      ? lease.then((l) => bound(l, bind, request.context))
      : bound(lease, bind, request.context);
  }

  report(lease: Lease<Client>, report: AttemptReport): void {
    if (this.#released.count > 0) this.#releaseNext();
    const { health, pool, reconnector } = this.#p;
    const node = lease.node;
    if (report.ok) {
      health.record(true);
      if (node !== undefined && pool !== undefined) {
        pool.observe(node, report.durationMs);
        pool.markSuccess(node);
      }
      return;
    }
    // The loser of a hedged read was cancelled, not failed; an attempt cut at its timeout took at least that long.
    if (node !== undefined && (report.interrupt === 'hedged' || report.interrupt === 'timeout'))
      pool?.observe(node, report.durationMs, true);
    if (report.interrupt === 'hedged') return;
    // The caller's own deadline or abort cut the attempt, or the client failed it before sending (its pool closing
    // for a reconnect, a wait in its own queue): none says anything about the server.
    if (
      report.interrupt === 'deadline' ||
      report.interrupt === 'aborted' ||
      report.classification.local === true
    )
      return;
    const meaning = kindMeanings[report.classification.kind];
    if (meaning.healthFailure) {
      // Passive health: the first failing calls count, not only the next probe.
      this.lastFailure = report.error;
      if (node !== undefined && pool !== undefined) {
        pool.markFailure(node);
        // Node-level health: one failing node of several is the pool's business, not a target outage.
        if (pool.alive.length > 0) return;
      }
      if (reconnector.status === 'connected') health.record(false, report.error);
    } else if (meaning.serverAnswered) {
      // The server answered (with an error): it is alive.
      health.record(true);
    }
  }

  /** The target's database, as its spans and metrics describe it. */
  dbTarget(): DbTarget | undefined {
    return this.#p.db;
  }

  /** What the last attempt to connect failed with (the executor asks only while not connected). */
  lastConnectError(): unknown {
    return this.#p.reconnector.lastError() ?? this.lastFailure;
  }

  /** Whether the target is connected: while it reconnects, `whileReconnecting` rules, not the breaker. */
  connected(): boolean {
    return this.#p.reconnector.status === 'connected';
  }

  /** Whether a hedge of a read running on `avoid` has another live node to go to (multi-node targets only). */
  hedgeable(avoid: NodeAddress, readOnly: boolean): boolean {
    const pool = this.#p.pool;
    return pool !== undefined && this.connected() && pool.hasAlternative(avoid, readOnly);
  }

  /**
   * An operation that waited for a connection until its deadline, on a target that has never connected, fails
   * with NotConnectedError (the last connect error as cause) rather than a bare deadline.
   */
  unavailable(): ReconnectError | undefined {
    if (this.everConnected) return undefined;
    const r = this.#p.reconnector;
    return r.status === 'connecting' || r.status === 'failed'
      ? this.#p.errors.neverConnected(r.lastError())
      : undefined;
  }

  /**
   * The time (on the target's clock) by which every attempt handed a node's client so far has ended, at the
   * latest; infinite when one had neither an attempt timeout nor a deadline. Multi-node targets only.
   */
  attemptsEndBy(now: number): number {
    return Math.max(now + this.#longestTimeoutMs, this.#unboundedUntil);
  }

  // The connected path: the node's reused lease, or a connect of a node that has no client yet.
  #leaseFor(request: AcquireRequest): Lease<Client> | Promise<Lease<Client>> | undefined {
    const { pool, slots } = this.#p;
    if (pool === undefined) return slots.all[0]!.lease;
    const limit = request.attemptTimeoutMs;
    if (limit > this.#longestTimeoutMs) this.#longestTimeoutMs = limit;
    else if (limit === 0) this.#unboundedUntil = Math.max(this.#unboundedUntil, request.deadlineAt);
    const node = pool.select(request.avoid, request.readOnly);
    const slot = slots.get(node.id);
    if (slot === undefined) return undefined;
    return slot.lease ?? this.#acquireNode(slot, node.id, request);
  }

  // A node picked by the pool has no client yet (discovered, resurrected optimistically, or still connecting after
  // start): connect it now, within the attempt's own limit too — a hung node must not take the whole deadline.
  async #acquireNode(slot: Slot<Client>, id: string, request: AcquireRequest): Promise<Lease<Client>> {
    const { clock, policy, slots, errors } = this.#p;
    const limit = request.attemptTimeoutMs;
    const bound =
      limit > 0 ? Math.min(limit, policy.reconnect.connectTimeout) : policy.reconnect.connectTimeout;
    try {
      await withTimeout(clock, bound, (s) => slots.connect(slot, s), {
        signal: request.signal,
        timeoutError: () => new NotConnectedError('Connect timed out'),
      });
      if (slot.lease === undefined) throw new NotConnectedError(`Node ${id} has no client`);
      return slot.lease;
    } catch (error) {
      throw errors.nodeUnreachable(id, error);
    }
  }

  // Not connected (or no client right now): a lease after a wait for the reconnect, or a refusal.
  // The executor's attempts take the lease from the wait itself (no promise per waiting operation); others get one.
  #acquireSlow(request: AcquireRequest): ReturnType<ConnectionSource<Client>['acquire']> {
    let lease: Lease<Client> | Promise<Lease<Client>> | undefined;
    try {
      lease = this.slowRound(request);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the refusal as thrown (a ReconnectError)
      return Promise.reject(error);
    }
    if (lease !== undefined) return lease;
    if (receivesLeases<Client>(request)) {
      new ReconnectWait(this, request, request).begin();
      return leaseDeliveredLater;
    }
    return new Promise((resolve, reject) =>
      new ReconnectWait(this, request, new Settler(resolve, reject)).begin(),
    );
  }

  /**
   * One round of the slow path (internal, for ReconnectWait): the lease (bound) when connected, `undefined` when
   * the operation is to wait for the reconnect, a throw when it may not (stopped, fail-fast, too many waiting).
   */
  slowRound(request: AcquireRequest, released = false): Lease<Client> | Promise<Lease<Client>> | undefined {
    const { reconnector, policy, errors } = this.#p;
    const status = reconnector.status;
    if (status === 'stopped') throw new StoppedError();
    if (status === 'idle') throw this.#notConnected('it was not started');
    if (status === 'connected') {
      // Connected while the operations that waited out an outage are let go at the pool's pace (see ReleaseGate):
      // a new one queues behind them, so that it neither overtakes them nor floods the client's own queue.
      if (!released && reconnector.waiters.size > 0) return this.#roomToWait();
      const lease = this.#leaseFor(request);
      // A connected target with no client left (closing right now) goes round once more.
      if (lease !== undefined) return this.#bound(lease, request);
    }
    // Fast recovery: a waiting operation asks for an attempt now (single-flight, one per minProbeGap).
    reconnector.nudge();
    if (policy.reconnect.whileReconnecting === 'fail-fast')
      throw this.everConnected
        ? errors.notConnected(`it is ${status}`, reconnector.lastError() ?? this.lastFailure, true)
        : errors.neverConnected(reconnector.lastError(), true);
    return this.#roomToWait();
  }

  // Bounded: an outage must not grow the process without limit (each waiting operation holds memory).
  #roomToWait(): undefined {
    const { reconnector, policy } = this.#p;
    if (reconnector.waiters.size >= policy.reconnect.maxWaiting)
      throw new QueueFullError(policy.reconnect.maxWaiting, {
        target: this.#p.errors.target,
        cause: reconnector.lastError() ?? this.lastFailure,
      });
    return undefined;
  }

  /** The error of an operation whose connection kept dropping while it waited (internal, for ReconnectWait). */
  keepsDropping(): NotConnectedError {
    return this.#notConnected('the connection keeps dropping');
  }

  /** One let go after an outage got no lease (internal, for ReconnectWait): the next may go in its place. */
  passTurn(): void {
    if (this.#released.count > 0) this.#releaseNext();
  }

  // An attempt ended: one more operation that waited for the reconnect may go.
  #releaseNext(): void {
    this.#released.count--;
    const { reconnector } = this.#p;
    if (reconnector.waiters.size > 0 && reconnector.status === 'connected') reconnector.waiters.releaseMore();
  }

  #notConnected(why: string): NotConnectedError {
    return this.#p.errors.notConnected(why, this.#p.reconnector.lastError() ?? this.lastFailure);
  }
}
