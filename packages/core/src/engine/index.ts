// The engine's public surface: backoff, retry budget, circuit breaker, the retry executor.
export type * from './types.js';
export * from './backoff/index.js';
