import { isAttemptTimeoutError, isDeadlineExceededError } from '../../errors.js';
import type { NodeAddress } from '../../node-address.js';
import type { DbTarget } from '../../telemetry/db-target.js';
import type { Clock } from '../../time/clock.js';
import { isPromiseLike } from '../attempt.js';
import { leaseDeliveredLater, receiveLease, receivesLeases } from '../types.js';
import type { AcquireRequest, AttemptReport, ConnectionSource, Lease, LeaseReceiver } from '../types.js';
import type { ConcurrencyLimiter, Permit } from './concurrency-limiter.js';

/** A lease handed out under a permit: the inner source's lease, and the permit the attempt holds. */
class LimitedLease<Client> implements Lease<Client> {
  readonly client: Client;
  readonly node: Lease<Client>['node'];
  constructor(
    readonly inner: Lease<Client>,
    readonly permit: Permit,
  ) {
    this.client = inner.client;
    this.node = inner.node;
  }
}

/**
 * A {@link ConnectionSource} under a {@link ConcurrencyLimiter}: `acquire` takes a permit (at once, after a wait
 * in the limiter's queue, or refused with a ConcurrencyLimitedError, nothing sent) before the inner source's
 * acquire; `report` gives it back with the operation's latency (from the grant, so time spent queued is not
 * counted as the server's). An attempt cut short gives its permit back at once (its latency counts when the
 * attempt timeout or the deadline cut it: the server was that slow). While the inner source is not connected
 * (reconnecting), operations pass without a permit: the reconnect's own wait and `maxWaiting` rule then.
 */
export class LimitedSource<Client> implements ConnectionSource<Client> {
  constructor(
    readonly inner: ConnectionSource<Client>,
    readonly limiter: ConcurrencyLimiter,
    readonly clock: Clock,
  ) {}

  acquire(request: AcquireRequest): ReturnType<ConnectionSource<Client>['acquire']> {
    if (this.inner.connected?.() === false) return this.inner.acquire(request);
    const permit = this.limiter.acquire(request);
    if (!isPromiseLike(permit)) return this.#withPermit(request, permit);
    // Queued for a permit: the executor's attempt (a LeaseReceiver) is handed its lease when the permit comes, as
    // the inner source hands it one after a reconnect; another request gets a promise (and, not being a receiver,
    // never leaseDeliveredLater from the inner source).
    if (receivesLeases<Client>(request)) {
      permit.then(
        (p) => this.#handOver(request, p),
        (error: unknown) => request[receiveLease](undefined, error),
      );
      return leaseDeliveredLater;
    }
    return permit.then((p) => this.#withPermit(request, p)) as Promise<Lease<Client>>;
  }

  // The permit came for a receiver: its lease now, or later from the inner source (which then delivers it itself).
  #handOver(request: AcquireRequest & LeaseReceiver<Client>, permit: Permit): void {
    let lease: ReturnType<ConnectionSource<Client>['acquire']>;
    try {
      lease = this.#withPermit(request, permit);
    } catch (error) {
      request[receiveLease](undefined, error);
      return;
    }
    if (lease !== leaseDeliveredLater) request[receiveLease](lease);
  }

  report(lease: Lease<Client>, report: AttemptReport): void {
    if (!(lease instanceof LimitedLease)) {
      this.inner.report?.(lease, report);
      return;
    }
    const { permit, inner } = lease as LimitedLease<Client>;
    // A failure the client made before sending (its pool closing, its own queue) says nothing of the server's
    // latency. (An attempt cut at its timeout or the deadline was released and measured as it was cut, in #leased.)
    // Nor does an attempt the caller's deadline or abort stopped (before it ran, or cut and measured in #leased).
    const measured =
      report.ok ||
      (report.classification.local !== true &&
        report.interrupt !== 'deadline' &&
        report.interrupt !== 'aborted');
    this.limiter.release(permit, measured ? this.clock.now() - permit.grantedAt : undefined);
    this.inner.report?.(inner, report);
  }

  unavailable(): Error | undefined {
    return this.inner.unavailable?.();
  }

  dbTarget(): DbTarget | undefined {
    return this.inner.dbTarget?.();
  }

  connected(): boolean {
    return this.inner.connected?.() !== false;
  }

  lastConnectError(): unknown {
    return this.inner.lastConnectError?.();
  }

  hedgeable(avoid: NodeAddress, readOnly: boolean): boolean {
    return this.inner.hedgeable?.(avoid, readOnly) === true;
  }

  // The inner acquire under `permit`: its failure gives the permit back; so does an attempt cut short.
  #withPermit(request: AcquireRequest, permit: Permit): ReturnType<ConnectionSource<Client>['acquire']> {
    let lease: ReturnType<ConnectionSource<Client>['acquire']>;
    try {
      lease = this.inner.acquire(request);
    } catch (error) {
      this.limiter.release(permit);
      throw error;
    }
    // The inner source lost its connection meanwhile and hands the attempt its lease after the reconnect: such an
    // operation goes without a permit, as one that arrives while it reconnects.
    if (lease === leaseDeliveredLater) {
      this.limiter.release(permit);
      return lease;
    }
    if (!isPromiseLike(lease)) return this.#leased(request, permit, lease);
    return Promise.resolve(lease).then(
      (l) => this.#leased(request, permit, l),
      (error: unknown) => {
        this.limiter.release(permit);
        throw error;
      },
    );
  }

  #leased(request: AcquireRequest, permit: Permit, inner: Lease<Client>): Lease<Client> {
    // Cut short while the inner source was connecting: nobody will run, or report, this lease.
    if (request.aborted) {
      this.limiter.release(permit);
      return inner;
    }
    // An attempt cut short (its timeout, the deadline, the caller) may never be reported: release it then.
    request.onAbort(() => {
      const reason = request.reason;
      const slow = isAttemptTimeoutError(reason) || isDeadlineExceededError(reason);
      this.limiter.release(permit, slow ? this.clock.now() - permit.grantedAt : undefined);
    });
    return new LimitedLease(inner, permit);
  }
}
