import { ConcurrencyLimitedError } from '../../errors.js';
import type { ConcurrencyPolicy } from '../../policy/resolved.js';
import type { Clock, TimerHandle } from '../../time/clock.js';
import { GradientLimit } from './gradient-limit.js';

/** What a waiting operation is: its deadline and the way it is told it was cut short. */
export interface Admission {
  /** Absolute time (on the limiter's clock) the operation's deadline falls at. */
  readonly deadlineAt: number;
  /** Whether the operation was already cut short (the caller's abort, its deadline). */
  readonly aborted: boolean;
  onAbort(listener: () => void): void;
  offAbort(listener: () => void): void;
}

/** One operation's right to run against the target; released exactly once. */
export class Permit {
  /** When it was granted (the limiter's clock): an operation's latency is measured from here. */
  grantedAt = 0;
  /** In-flight operations when it was granted, itself included. */
  inFlight = 0;
  released = false;
  /** Neighbours in the limiter's list of held permits (no hashing on the success path). */
  prev: Permit | undefined = undefined;
  next: Permit | undefined = undefined;
  constructor(readonly deadlineAt: number) {}
}

/** A queued operation. */
interface Waiter {
  readonly admission: Admission;
  readonly permit: Permit;
  readonly resolve: (permit: Permit) => void;
  readonly reject: (error: unknown) => void;
  readonly onAbort: () => void;
  timer: TimerHandle | undefined;
}

/** Counts since the limiter was built, for telemetry and tests. */
export interface LimiterCounts {
  /** Operations refused at once (queue full or off). */
  refused: number;
  /** Operations refused after waiting in the queue (its timeout or their deadline). */
  timedOut: number;
  /** Operations that waited in the queue (whatever came of it). */
  queued: number;
}

/** Permits older than their deadline by this much are taken back (a release the executor never made). */
const LEAK_GRACE_MS = 1000;

/**
 * A target's concurrency limit: at most `limit` operations hold a {@link Permit} at once; the next ones wait in
 * a FIFO queue of `maxQueue` for at most `queueTimeout` (and never past their deadline), and the rest are refused
 * at once with a {@link ConcurrencyLimitedError} (`not_sent`). The limit is fixed (`limit: N`) or adaptive
 * (`limit: 'adaptive'`, a {@link GradientLimit} fed each operation's latency at its release).
 */
export class ConcurrencyLimiter {
  readonly counts: LimiterCounts = { refused: 0, timedOut: 0, queued: 0 };
  readonly #policy: ConcurrencyPolicy;
  readonly #clock: Clock;
  readonly #target: string;
  readonly #adaptive: GradientLimit | undefined;
  readonly #fixed: number;
  readonly #queue: Waiter[] = [];
  /** The held permits, newest first: a doubly linked list, for the leak sweep. */
  #newest: Permit | undefined = undefined;
  #held = 0;
  #nextSweep = 0;

  constructor(policy: ConcurrencyPolicy, clock: Clock, target: string) {
    if (policy.limit === 'off') throw new RangeError('concurrency.limit is off: no limiter to build');
    this.#policy = policy;
    this.#clock = clock;
    this.#target = target;
    this.#fixed = typeof policy.limit === 'number' ? policy.limit : 0;
    this.#adaptive =
      policy.limit === 'adaptive'
        ? new GradientLimit(
            {
              initialLimit: policy.initialLimit,
              minLimit: Math.min(policy.minLimit, policy.maxLimit),
              maxLimit: policy.maxLimit,
              tolerance: policy.tolerance,
              window: policy.window,
              baselineWindow: policy.baselineWindow,
            },
            clock.now(),
          )
        : undefined;
  }

  /** The current limit. */
  get limit(): number {
    return this.#adaptive?.limit ?? this.#fixed;
  }

  /** Operations holding a permit now. */
  get inFlight(): number {
    return this.#held;
  }

  /** Operations waiting in the queue now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** The latency the adaptive limit measures against (ms); undefined for a fixed limit or before a window. */
  get baseline(): number | undefined {
    return this.#adaptive?.baseline;
  }

  /**
   * A permit now, a promise of one (queued), or a ConcurrencyLimitedError thrown at once (the queue is full or
   * off). A queued operation that is cut short (`admission.onAbort`) leaves the queue, its promise rejected.
   */
  acquire(admission: Admission): Permit | Promise<Permit> {
    const now = this.#clock.now();
    if (this.#held >= this.limit) this.#sweep(now);
    const permit = new Permit(admission.deadlineAt);
    if (this.#held < this.limit && this.#queue.length === 0) return this.#grant(permit, now);
    const wait = Math.min(this.#policy.queueTimeout, admission.deadlineAt - now);
    if (this.#queue.length >= this.#policy.maxQueue || wait <= 0) {
      this.counts.refused++;
      throw this.#refusal(false);
    }
    this.counts.queued++;
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = {
        admission,
        permit,
        resolve,
        reject,
        timer: undefined,
        onAbort: () => this.#leave(waiter, admission.aborted ? undefined : this.#refusal(true)),
      };
      waiter.timer = this.#clock.setTimeout(() => {
        waiter.timer = undefined;
        this.counts.timedOut++;
        this.#leave(waiter, this.#refusal(true));
      }, wait);
      admission.onAbort(waiter.onAbort);
      this.#queue.push(waiter);
    });
  }

  /**
   * Gives `permit` back (a second release does nothing). `latencyMs`, when given, is the operation's latency
   * from the grant: the adaptive limit learns from it. The next queued operation, if any, gets its turn.
   */
  release(permit: Permit, latencyMs?: number): void {
    if (permit.released) return;
    permit.released = true;
    this.#unlink(permit);
    const now = this.#clock.now();
    if (latencyMs !== undefined) this.#adaptive?.sample(latencyMs, permit.inFlight, now);
    this.#drain(now);
  }

  #grant(permit: Permit, now: number): Permit {
    permit.grantedAt = now;
    const newest = this.#newest;
    permit.next = newest;
    if (newest !== undefined) newest.prev = permit;
    this.#newest = permit;
    permit.inFlight = ++this.#held;
    return permit;
  }

  // Queued operations take the permits free under the current limit, oldest first.
  #drain(now: number): void {
    while (this.#queue.length > 0 && this.#held < this.limit) {
      const waiter = this.#queue.shift()!;
      this.#settle(waiter);
      // Its deadline passed while it waited (its timer had not fired yet): a permit now would be wasted.
      if (waiter.permit.deadlineAt <= now) {
        this.counts.timedOut++;
        waiter.reject(this.#refusal(true));
      } else waiter.resolve(this.#grant(waiter.permit, now));
    }
  }

  // A waiter leaves the queue before its turn: timed out, or cut short (then `error` is undefined and the
  // operation's own race has already settled with the interrupt, so the rejection is only for completeness).
  #leave(waiter: Waiter, error: ConcurrencyLimitedError | undefined): void {
    const i = this.#queue.indexOf(waiter);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    this.#settle(waiter);
    waiter.reject(error ?? this.#refusal(true));
  }

  #settle(waiter: Waiter): void {
    if (waiter.timer !== undefined) this.#clock.clearTimeout(waiter.timer);
    waiter.timer = undefined;
    waiter.admission.offAbort(waiter.onAbort);
  }

  // Safety net, at most once a second and only at the limit: a permit still held well past its operation's
  // deadline was never released (an attempt that ended without a report): it is taken back, unmeasured.
  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + LEAK_GRACE_MS;
    for (let permit = this.#newest; permit !== undefined;) {
      const next = permit.next;
      if (permit.deadlineAt + LEAK_GRACE_MS < now) {
        permit.released = true;
        this.#unlink(permit);
      }
      permit = next;
    }
  }

  #unlink(permit: Permit): void {
    const { prev, next } = permit;
    if (prev === undefined) this.#newest = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    permit.prev = permit.next = undefined;
    this.#held--;
  }

  #refusal(queued: boolean): ConcurrencyLimitedError {
    return new ConcurrencyLimitedError(this.limit, this.#held, { target: this.#target, queued });
  }
}
