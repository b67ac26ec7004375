import type { Driver } from '../../driver/driver.js';
import { CircuitBreaker, RetryBudget, RetryExecutor } from '../../engine/index.js';
import { ConcurrencyLimiter, LimitedSource } from '../../engine/concurrency/index.js';
import type { BreakerStateChangeEvent, RetryExecutorEvents } from '../../engine/events.js';
import type { ConnectionSource } from '../../engine/types.js';
import type { ResolvedPolicy } from '../../policy/resolved.js';
import type { Clock, RandomSource } from '../../time/clock.js';

/**
 * What runs a target's operations under one policy: the executor and the breaker, budget and concurrency limiter
 * it consults. A
 * reload builds a new set and the target swaps its reference, so operations already running keep the executor
 * (and the policy) they started with, and the next operation gets the new one.
 */
export interface TargetRunner<Client> {
  readonly executor: RetryExecutor<Client>;
  readonly breaker: CircuitBreaker | undefined;
  readonly budget: RetryBudget | undefined;
  /** The concurrency limit (`concurrency.limit` not `off`): the executor's source takes its permits. */
  readonly limiter: ConcurrencyLimiter | undefined;
  /**
   * Detaches what this runner hung on its breaker: the executor's metric listener always, the target's own
   * listener unless `next` keeps the same breaker (it then moves to `next`).
   */
  retire(next?: TargetRunner<Client>): void;
}

/** What {@link buildRunner} needs from the target. */
export interface RunnerOptions<Client> {
  target: string;
  driver: Pick<Driver<never, Client>, 'system' | 'classify'>;
  policy: ResolvedPolicy;
  source: ConnectionSource<Client>;
  clock: Clock;
  random: RandomSource;
  events: RetryExecutorEvents;
  /** The target's breaker events. */
  breakerChanged: (e: BreakerStateChangeEvent) => void;
}

class Runner<Client> implements TargetRunner<Client> {
  /** The target's listener on the breaker: it lives as long as the breaker, across runners. */
  breakerOffs: (() => void)[] = [];
  /** The executor's own listeners on the breaker (its metric): they go with this executor. */
  readonly executorOffs: (() => void)[] = [];
  executor!: RetryExecutor<Client>;

  constructor(
    readonly breaker: CircuitBreaker | undefined,
    readonly budget: RetryBudget | undefined,
    readonly limiter: ConcurrencyLimiter | undefined,
  ) {}

  retire(next?: TargetRunner<Client>): void {
    for (const off of this.executorOffs.splice(0)) off();
    if (next instanceof Runner && next.breaker === this.breaker) next.breakerOffs = this.breakerOffs;
    else for (const off of this.breakerOffs) off();
    this.breakerOffs = [];
  }
}

/**
 * Builds the executor for `o.policy`. With `previous` (a reload), its breaker, budget and concurrency limiter are
 * kept, state and all, unless their own section changed: a reload that only lowers `retry.maxRetries` must not
 * close an open breaker, refill a spent budget or forget a limit learned. A new limiter starts empty: operations
 * still running under the old one hold (and give back) the old one's permits.
 */
export function buildRunner<Client>(
  o: RunnerOptions<Client>,
  previous?: { runner: TargetRunner<Client>; before: ResolvedPolicy },
): TargetRunner<Client> {
  const { policy, clock } = o;
  const keepBreaker =
    previous !== undefined && sameJson(previous.before.circuitBreaker, policy.circuitBreaker);
  const keepBudget = previous !== undefined && sameJson(previous.before.retry.budget, policy.retry.budget);
  const breaker = keepBreaker
    ? previous.runner.breaker
    : policy.circuitBreaker.enabled
      ? new CircuitBreaker(policy.circuitBreaker, clock)
      : undefined;
  const budget = keepBudget
    ? previous.runner.budget
    : policy.retry.budget.enabled
      ? new RetryBudget(policy.retry.budget, clock)
      : undefined;
  const keepLimiter = previous !== undefined && sameJson(previous.before.concurrency, policy.concurrency);
  const limiter = keepLimiter
    ? previous.runner.limiter
    : policy.concurrency.limit === 'off'
      ? undefined
      : new ConcurrencyLimiter(policy.concurrency, clock, o.target);
  const runner = new Runner<Client>(breaker, budget, limiter);
  if (breaker !== undefined && !keepBreaker)
    runner.breakerOffs.push(breaker.on('stateChange', o.breakerChanged));
  // The executor watches its breaker for the breaker-state metric; a breaker shared across reloads must not
  // collect one such listener per reload, so the subscription is captured and dropped at retire().
  runner.executor = captureSubscriptions(breaker, runner.executorOffs, () => {
    return new RetryExecutor<Client>({
      target: o.target,
      system: o.driver.system,
      policy: policy.retry,
      classify: (error) => o.driver.classify(error),
      source: limiter === undefined ? o.source : new LimitedSource(o.source, limiter, clock),
      ...(breaker ? { breaker } : {}),
      ...(budget ? { budget } : {}),
      clock,
      random: o.random,
      events: o.events,
    });
  });
  return runner;
}

// Records the unsubscribe functions of listeners `build` adds to `emitter`, so they can be removed later.
function captureSubscriptions<T>(
  emitter: CircuitBreaker | undefined,
  into: (() => void)[],
  build: () => T,
): T {
  if (emitter === undefined) return build();
  const on = emitter.on.bind(emitter);
  const capturing: typeof emitter.on = (event, listener) => {
    const off = on(event, listener);
    into.push(off);
    return off;
  };
  emitter.on = capturing;
  try {
    return build();
  } finally {
    // Back to the prototype's method.
    delete (emitter as { on?: unknown }).on;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
