// The engine's public surface: backoff, retry budget, circuit breaker, the retry executor.
export type * from './types.js';
export type { AbortListener, AbortListenerObject } from './lazy-signal.js';
export { computeDelay, delayBounds } from './backoff/index.js';
export { CircuitBreaker, type CircuitBreakerEvents } from './breaker/circuit-breaker.js';
export {
  transition as breakerTransition,
  closedState as closedBreakerState,
  type BreakerEvent,
  type BreakerState,
  type CircuitState,
  type RateBucket,
} from './breaker/breaker-state.js';
export { RetryBudget } from './budget/retry-budget.js';
export { RetryExecutor, type RetryExecutorOptions } from './retry-executor.js';
export type { RetryExecutorEvents } from './events.js';
export { decideRetry, type RetryVerdict } from './retry-decision.js';
export { classifyFailure, reflectsServerHealth } from './classify-failure.js';
