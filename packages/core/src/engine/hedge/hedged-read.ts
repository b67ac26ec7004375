import type { HedgePolicy, RetryPolicy } from '../../policy/resolved.js';
import type { Clock } from '../../time/clock.js';
import { Attempt, isPromiseLike, type AttemptHost } from '../attempt.js';
import { AttemptFailed, Run } from '../operation-run.js';
import { TimeoutList, type Timed } from '../timeout-list.js';
import type { ExecuteOptions, Operation } from '../types.js';
import { HedgeBudget } from './hedge-budget.js';
import { LatencyWindow } from './latency-window.js';

const quantiles = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 } as const;

/** The shortest hedge delay: a percentile of sub-millisecond reads would hedge at once. */
const MIN_DELAY_MS = 1;

/**
 * One executor's hedged reads (`retry.hedge`): when a hedge is due (a fixed delay, or a percentile of the recent
 * latency of hedgeable reads), the budget hedges spend, and the one timer list their delays share.
 */
export class Hedging {
  readonly budget: HedgeBudget;
  /** The hedge delays of running reads: one timer, and all delays alike, so each is appended at the tail. */
  readonly timers: TimeoutList;
  readonly #window: LatencyWindow | undefined;
  readonly #fixed: number;

  constructor(
    readonly policy: HedgePolicy,
    clock: Clock,
  ) {
    this.budget = new HedgeBudget(policy.maxExtraLoad);
    this.timers = new TimeoutList(clock);
    const delay = policy.delay;
    this.#window = typeof delay === 'number' ? undefined : new LatencyWindow(quantiles[delay]);
    this.#fixed = typeof delay === 'number' ? delay : 0;
  }

  /** The wait before a hedge in ms; `undefined` while the percentile is not known yet (no hedge then). */
  get delay(): number | undefined {
    const ms = this.#window === undefined ? this.#fixed : this.#window.value;
    return ms === undefined ? undefined : Math.max(MIN_DELAY_MS, ms);
  }

  /** A hedgeable read answered `ms` after it started. */
  record(ms: number): void {
    this.#window?.record(ms);
  }
}

/**
 * One hedged read: an operation declared `readOnly` and `idempotent`, on an executor with `retry.hedge` on. Its
 * first attempt runs as any; if it has not answered after the hedge delay, the node it runs on has a live
 * alternative, the breaker is closed and the hedge budget allows, the same operation is sent there too (an attempt
 * in a run of its own, with the caller's options, deadline and signal). The first attempt to succeed wins; the
 * others are cancelled (their signals abort with a HedgeCancelledError) and count for nothing: not a failure of
 * their node, not a breaker verdict. When every attempt failed, the retry loop goes on from the last failure, the
 * hedges not counted against `maxRetries`.
 */
export class HedgedRead<Client, T> implements Timed {
  at = Number.NEGATIVE_INFINITY;
  prev: Timed | undefined = undefined;
  next: Timed | undefined = undefined;
  /** The original's run first, then each hedge's: one attempt each. */
  readonly #runs: Run[] = [];
  /** The original attempt: a hedge avoids its node. */
  #original: Attempt<Client, T> | undefined = undefined;
  /** Failed attempts, in the order they failed, with the index of their run; the others still run until settled. */
  readonly #failures: { index: number; failure: unknown }[] = [];
  #settled = false;

  private constructor(
    readonly host: AttemptHost<Client>,
    readonly hedging: Hedging,
    readonly policy: RetryPolicy,
    readonly options: ExecuteOptions,
    readonly op: Operation<Client, T>,
    readonly resolve: (value: T | PromiseLike<T>) => void,
  ) {}

  /** Runs `op` hedged; `run` is the operation's own (its span, its deadline, its give-up). */
  static run<Client, T>(
    host: AttemptHost<Client>,
    hedging: Hedging,
    policy: RetryPolicy,
    options: ExecuteOptions,
    run: Run,
    op: Operation<Client, T>,
  ): Promise<T> {
    hedging.budget.earn();
    run.hedgeRole = 'original';
    return new Promise<T>((resolve) => {
      const read = new HedgedRead(host, hedging, policy, options, op, resolve);
      read.#launch(run);
      read.#arm();
    });
  }

  /** The hedge delay is over (part of {@link Timed}): hedge, and arm for the next one if more may go. */
  expire(): void {
    this.at = Number.NEGATIVE_INFINITY;
    if (this.#settled) return;
    this.#hedge();
    if (this.#runs.length < this.hedging.policy.maxAttempts) this.#arm();
  }

  #arm(): void {
    const delay = this.hedging.delay;
    if (this.#settled || delay === undefined) return;
    const at = this.host.clock.now() + delay;
    if (at >= this.#runs[0]!.deadlineAt) return;
    this.at = at;
    this.hedging.timers.add(this, delay);
  }

  /** Sends a hedge, when the original runs on a node that has a live alternative and nothing forbids it. */
  #hedge(): void {
    const { host, hedging } = this;
    const run = this.#runs[0]!;
    const node = this.#original!.node;
    // Still waiting for a connection (node unset): a hedge would wait too. (Every attempt failed: settled already.)
    if (node === undefined) return;
    if (host.breaker !== undefined && host.breaker.state !== 'closed') return;
    if (host.source.hedgeable?.(node, run.readOnly) !== true || !hedging.budget.trySpend()) return;
    const hedge = new Run(this.policy, this.options, run.start);
    hedge.span = run.span;
    hedge.spanContext = run.spanContext;
    hedge.metricAttributes = run.metricAttributes;
    hedge.avoid = node;
    hedge.hedgeRole = 'hedge';
    if (hedge.signal !== undefined) hedge.listen(hedge.signal);
    run.hedges++;
    this.#launch(hedge);
  }

  #launch(run: Run): void {
    const index = this.#runs.length;
    this.#runs.push(run);
    let result: T | Promise<T>;
    try {
      result = Attempt.launch(this.host, run, this.op, index + 1, (a) => (this.#original ??= a));
    } catch (failure) {
      this.#failed(index, failure);
      return;
    }
    if (!isPromiseLike(result)) this.#won(index, result);
    else
      result.then(
        (value) => this.#won(index, value),
        (failure: unknown) => this.#failed(index, failure),
      );
  }

  /** Attempt `index + 1` answered first: the others are cancelled and the operation succeeds with its value. */
  #won(index: number, value: T): void {
    if (!this.#settle()) return;
    const runs = this.#runs;
    for (let i = 0; i < runs.length; i++) if (i !== index) runs[i]!.interrupt?.('hedged');
    const run = runs[0]!;
    const { clock, telemetry } = this.host;
    this.hedging.record(clock.now() - run.start);
    run.endedAt = runs[index]!.endedAt;
    if (run.hedges > 0) telemetry.hedged(run, index + 1);
    for (const r of runs) r.done();
    telemetry.succeeded(run, runs.length);
    this.resolve(value);
  }

  /** Attempt `index + 1` failed: wait for the others; when none is left, the retry loop takes the last failure. */
  #failed(index: number, failure: unknown): void {
    if (this.#settled) return;
    this.#failures.push({ index, failure });
    if (this.#failures.length < this.#runs.length) return;
    this.#settle();
    const runs = this.#runs;
    const run = runs[0]!;
    // The retries that follow are plain attempts of the operation's own run.
    run.hedgeRole = undefined;
    for (let i = 1; i < runs.length; i++) runs[i]!.done();
    const last = this.#failures.pop()!;
    // Anything but an AttemptFailed is a bug: the retry loop lets it surface as is.
    for (const f of this.#failures)
      if (f.failure instanceof AttemptFailed) run.recordFailure(f.failure, f.index + 1);
    if (run.hedges > 0) {
      run.errorType = runs[last.index]!.errorType;
      this.host.telemetry.hedged(run, 0);
    }
    this.resolve(this.host.recover(run, this.op, last.failure, runs.length));
  }

  /** Marks the read settled (false if it was) and stops its hedge timer. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.at !== Number.NEGATIVE_INFINITY) this.hedging.timers.remove(this);
    return true;
  }
}
