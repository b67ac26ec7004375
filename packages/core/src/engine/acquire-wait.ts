import type { Span } from '@opentelemetry/api';
import type { Clock } from '../time/clock.js';
import type { ExecuteTelemetry } from './execute-telemetry.js';
import type { LazySignal } from './lazy-signal.js';
import type { Run } from './operation-run.js';
import { settleError, settleFirst, settleValue, settleWithin, type Settle } from './timer-race.js';
import type { TimeoutList } from './timeout-list.js';
import type { Lease } from './types.js';

/** The method of an attempt that takes over when its wait for a connection ends (see {@link waitForLease}). */
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
 * Waits for the connection `acquired` promises, bounded by the operation's deadline (a link in `timeouts`, the
 * executor's list of waits, not a timer of its own) and the caller's abort, then hands over to the attempt. One
 * promise (the attempt's own) and one small record per waiting operation: an outage can queue tens of
 * thousands of them, and every closure and promise a wait makes is multiplied by that.
 */
export function waitForLease<Client, T>(
  timeouts: TimeoutList,
  clock: Clock,
  run: Run,
  acquired: PromiseLike<Lease<Client>>,
  attempt: LeaseWaiter<Client, T>,
  telemetry: ExecuteTelemetry,
  span: Span | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const wait = new LeaseWait(attempt, resolve, reject, telemetry, telemetry.startWait(span));
    const limit = run.deadlineAt - clock.now();
    if (limit === Number.POSITIVE_INFINITY)
      settleFirst(clock, run, acquired, limit, 'deadline', attempt, wait);
    else settleWithin(timeouts, run, acquired, run.deadlineAt, limit, 'deadline', attempt, wait);
  });
}

/** One wait for a connection: receives its outcome (see {@link Settle}) and settles the attempt's promise. */
class LeaseWait<Client, T> implements Settle<Lease<Client>> {
  constructor(
    readonly attempt: LeaseWaiter<Client, T>,
    readonly resolve: (value: T | PromiseLike<T>) => void,
    readonly reject: (failure: unknown) => void,
    readonly telemetry: ExecuteTelemetry,
    readonly span: Span | undefined,
  ) {}

  [settleValue](lease: Lease<Client>): void {
    this.telemetry.endWait(this.span, undefined);
    this.#continue(lease, undefined);
  }

  [settleError](error: unknown): void {
    this.telemetry.endWait(this.span, error);
    this.#continue(undefined, error);
  }

  #continue(lease: Lease<Client> | undefined, error: unknown): void {
    try {
      this.resolve(this.attempt[leaseSettled](lease, error));
    } catch (failure) {
      this.reject(failure);
    }
  }
}
