import type { AcquireRequest, Lease, LeaseReceiver } from '../../engine/types.js';
import { receiveLease } from '../../engine/types.js';
import type { NotConnectedError } from '../../errors.js';
import { hold, letGo } from '../../time/keep-alive.js';
import type { Reconnector } from '../reconnect/reconnector.js';
import { Waiter, type ReleasePacer } from '../reconnect/waiters.js';

/** What a {@link ReconnectWait} asks of the target's source (TargetSource). */
export interface WaitingSource<Client> {
  readonly reconnector: Reconnector;
  /** One round of the slow path: a lease, `undefined` to wait (again), or a throw (see TargetSource.slowRound). */
  slowRound(request: AcquireRequest, released: boolean): Lease<Client> | Promise<Lease<Client>> | undefined;
  keepsDropping(): NotConnectedError;
  /** One let go after an outage got no lease: the next may go in its place (see ReleaseGate). */
  passTurn(): void;
}

/**
 * An operation waiting for the reconnect, or queued behind those let go after one: one record per waiting operation,
 * which hands its receiver (the executor's attempt, or a promise's {@link Settler}) the lease or the error. Bounded: each wake either settles it or waits again for a state change, at most three rounds in all. While it
 * waits the process is held open (every library timer is unref'd, and the caller awaits us).
 */
export class ReconnectWait<Client> extends Waiter {
  #rounds = 1;

  constructor(
    readonly source: WaitingSource<Client>,
    readonly request: AcquireRequest,
    readonly receiver: LeaseReceiver<Client>,
  ) {
    super();
  }

  begin(): void {
    hold();
    const reconnector = this.source.reconnector;
    // Connected, behind operations still being let go after an outage: in their queue, let go in turn.
    // The request itself, not its signal: waiting makes no AbortController and adds no event listener.
    if (reconnector.status === 'connected' && reconnector.waiters.size > 0)
      this.join(reconnector.waiters, this.request);
    else reconnector.join(this, this.request);
  }

  // Woken without an error, it was let go (perhaps in its turn, see ReleaseGate): a lease's end gives the turn back
  // (the attempt reports it); without a lease it passes the turn on at once, so a turn is never lost.
  protected wake(error: unknown): void {
    letGo();
    if (error !== undefined) return this.receiver[receiveLease](undefined, error);
    if (this.#rounds >= 3) return this.#fail(this.source.keepsDropping());
    let lease: Lease<Client> | Promise<Lease<Client>> | undefined;
    try {
      lease = this.source.slowRound(this.request, true);
    } catch (e) {
      return this.#fail(e);
    }
    if (lease instanceof Promise) lease.catch(() => this.source.passTurn());
    if (lease !== undefined) return this.receiver[receiveLease](lease);
    this.source.passTurn();
    this.#rounds++;
    this.begin();
  }

  #fail(error: unknown): void {
    this.source.passTurn();
    this.receiver[receiveLease](undefined, error);
  }
}

/** A promise's two functions as a {@link LeaseReceiver}: the wait of a request that is not one (tests, tools). */
export class Settler<Client> implements LeaseReceiver<Client> {
  constructor(
    readonly resolve: (lease: Lease<Client> | PromiseLike<Lease<Client>>) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  [receiveLease](lease: Lease<Client> | PromiseLike<Lease<Client>> | undefined, error?: unknown): void {
    if (lease === undefined) this.reject(error);
    else this.resolve(lease);
  }
}

/**
 * Paces the operations that waited out an outage when the target is back: at most `capacity()` (the clients' pools'
 * size) go at once, in the order they came, and one more each time an attempt ends. The hundreds an outage queued
 * then do not land on ten pooled connections at once, where most would time out waiting in the client's own queue.
 * Clients without a pool (one multiplexed connection: `capacity()` undefined) take them all at once. The count is
 * approximate by design (any attempt's end lets the next go) and starts again from zero at each reconnect.
 */
export class ReleaseGate implements ReleasePacer {
  count = 0;
  constructor(readonly capacity: () => number | undefined) {}

  reset(): void {
    this.count = 0;
  }

  unuse(n: number): void {
    this.count = Math.max(0, this.count - n);
  }

  allow(waiting: number): number {
    const capacity = this.capacity();
    if (capacity === undefined) return waiting;
    const n = Math.max(0, Math.min(waiting, capacity - this.count));
    this.count += n;
    return n;
  }
}
