import type { Span } from '@opentelemetry/api';
import type { ExecuteTelemetry } from './execute-telemetry.js';
import type { LazySignal } from './lazy-signal.js';
import { Interrupt, isPromiseLike, type InterruptWhy, type Run } from './operation-run.js';
import { interruptReason } from './timer-race.js';
import type { Timed, TimeoutList } from './timeout-list.js';
import type { Lease } from './types.js';

// Until the wait starts, it has nothing to settle.
const unset = (): void => {};

/** The method of an attempt that takes over when its wait for a connection ends (see {@link LeaseWait}). */
export const leaseSettled: unique symbol = Symbol('attempt.leaseSettled');

/** An attempt as the wait for its connection sees it: its lazy signal, and what it does once the wait ends. */
export interface LeaseWaiter<Client, T> extends LazySignal {
  /**
   * The wait ended: with `lease` (run the operation), or without one (`error`: the source's, or the executor's
   * Interrupt). Returns the attempt's value or promise, as the attempt itself would; throws an AttemptFailed.
   */
  [leaseSettled](lease: Lease<Client> | undefined, error: unknown): T | Promise<T>;
}

/**
 * One attempt's wait for a connection, bounded by the operation's deadline (a link in the executor's list of waits,
 * not a timer of its own) and the caller's abort; it settles the attempt's promise once the attempt has taken over.
 * The lease comes by {@link deliver}: from the source itself (a {@link LeaseReceiver}'s delivery), or from a
 * promise the source returned. Besides the attempt's own promise this record is all a wait holds: an outage can
 * queue tens of thousands of waiting operations, and every promise and closure a wait makes is multiplied by that.
 */
export class LeaseWait<Client, T> implements Timed {
  prev: Timed | undefined = undefined;
  next: Timed | undefined = undefined;
  /** When the deadline falls; NEGATIVE_INFINITY once out of the list (or never in it: no deadline). */
  at: number;
  #settled = false;
  #resolve: (value: T | PromiseLike<T>) => void = unset;
  #reject: (failure: unknown) => void = unset;
  readonly #span: Span | undefined;

  constructor(
    readonly attempt: LeaseWaiter<Client, T>,
    readonly run: Run,
    readonly list: TimeoutList,
    readonly telemetry: ExecuteTelemetry,
    attemptSpan: Span | undefined,
  ) {
    this.at = run.deadlineAt === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : run.deadlineAt;
    this.#span = telemetry.startWait(attemptSpan);
  }

  /** Starts waiting (the deadline's link, the caller's abort), `now` being the clock's reading: the attempt's promise. */
  start(now: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      if (this.at !== Number.NEGATIVE_INFINITY) this.list.add(this, this.at - now);
      if (this.run.signal !== undefined || this.run.hedgeRole !== undefined)
        this.run.interrupt = (why) => this.stop(why);
    });
  }

  /** The lease (or a promise of it), or the error that ended the wait; ignored once the wait was cut short. */
  deliver(lease: Lease<Client> | PromiseLike<Lease<Client>> | undefined, error: unknown): void {
    if (this.#settled) return;
    if (lease !== undefined && isPromiseLike(lease)) {
      lease.then(
        (l) => this.deliver(l, undefined),
        (e: unknown) => this.deliver(undefined, e),
      );
      return;
    }
    this.#finish();
    this.telemetry.endWait(this.#span, lease === undefined ? error : undefined);
    this.#continue(lease, error);
  }

  expire(): void {
    // The list took it out already: #finish() must not remove it a second time.
    this.at = Number.NEGATIVE_INFINITY;
    this.stop('deadline');
  }

  /** Cuts the wait short (the deadline, the caller's abort): the attempt's signal aborts, the attempt fails unsent. */
  stop(why: InterruptWhy): void {
    if (this.#settled) return;
    this.#finish();
    const interrupt = new Interrupt(why);
    this.telemetry.endWait(this.#span, interrupt);
    // The source's own wait listens to the attempt's signal: aborting it takes the request out of its queue.
    this.attempt.abort(interruptReason(this.run, why));
    this.#continue(undefined, interrupt);
  }

  #finish(): void {
    this.#settled = true;
    if (this.at !== Number.NEGATIVE_INFINITY) this.list.remove(this);
    this.run.interrupt = undefined;
  }

  #continue(lease: Lease<Client> | undefined, error: unknown): void {
    try {
      this.#resolve(this.attempt[leaseSettled](lease, error));
    } catch (failure) {
      this.#reject(failure);
    }
  }
}
