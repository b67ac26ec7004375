import type { Span } from '@opentelemetry/api';
import type { ExecuteTelemetry } from './execute-telemetry.js';
import type { LazySignal } from './lazy-signal.js';
import { isPromiseLike, type Run } from './operation-run.js';
import { settleError, settleValue, TimedRace, type Settle } from './timer-race.js';
import type { TimeoutList } from './timeout-list.js';
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
 * One attempt's wait for a connection, bounded by the operation's deadline (a {@link TimedRace}: a link in the
 * executor's list of waits, not a timer of its own) and the caller's abort; it settles the attempt's promise once the
 * attempt has taken over. The lease comes by {@link deliver}: from the source itself (a {@link LeaseReceiver}'s
 * delivery), or from a promise the source returned. Besides the attempt's own promise this record is all a wait
 * holds: an outage can queue tens of thousands of waiting operations, and every promise and closure a wait makes is
 * multiplied by that.
 */
export class LeaseWait<Client, T> extends TimedRace<Lease<Client>> implements Settle<Lease<Client>> {
  #resolve: (value: T | PromiseLike<T>) => void = unset;
  #reject: (failure: unknown) => void = unset;
  readonly #span: Span | undefined;

  constructor(
    attempt: LeaseWaiter<Client, T>,
    run: Run,
    list: TimeoutList,
    readonly telemetry: ExecuteTelemetry,
    attemptSpan: Span | undefined,
  ) {
    // No deadline: never in the list (the race's "out of the list" mark).
    const at = run.deadlineAt === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : run.deadlineAt;
    super(list, run, 'deadline', attempt, undefined, at);
    this.#span = telemetry.startWait(attemptSpan);
  }

  /** Starts waiting (the deadline's link, the caller's abort), `now` being the clock's reading: the attempt's promise. */
  start(now: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      if (this.at !== Number.NEGATIVE_INFINITY) this.timeouts.add(this, this.at - now);
      if (this.run.signal !== undefined || this.run.hedgeRole !== undefined)
        this.run.interrupt = (why) => this.stop(why);
    });
  }

  /** The lease (or a promise of it), or the error that ended the wait; ignored once the wait was cut short. */
  deliver(lease: Lease<Client> | PromiseLike<Lease<Client>> | undefined, error: unknown): void {
    if (lease !== undefined && isPromiseLike(lease)) {
      lease.then(
        (l) => this.deliver(l, undefined),
        (e: unknown) => this.deliver(undefined, e),
      );
      return;
    }
    if (!this.finish()) return;
    if (lease === undefined) this[settleError](error);
    else this[settleValue](lease);
  }

  /** The wait ended with a connection. */
  [settleValue](lease: Lease<Client>): void {
    this.telemetry.endWait(this.#span, undefined);
    this.#continue(lease, undefined);
  }

  /**
   * The wait ended without one: the source's error, or the race's Interrupt (the deadline, the caller's abort: the
   * attempt's signal was aborted first, which takes the request out of the source's own queue).
   */
  [settleError](error: unknown): void {
    this.telemetry.endWait(this.#span, error);
    this.#continue(undefined, error);
  }

  #continue(lease: Lease<Client> | undefined, error: unknown): void {
    try {
      this.#resolve((this.target as LeaseWaiter<Client, T>)[leaseSettled](lease, error));
    } catch (failure) {
      this.#reject(failure);
    }
  }
}
