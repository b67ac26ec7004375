// The backoff strategies: pure functions from a retry number to a delay.
export { Backoff } from './backoff.js';
export { computeDelay, delayBounds, retryDelay } from './compute-delay.js';
export { applyJitter, jitterBounds, type Jitter } from './jitter.js';
export { fixedCeiling } from './fixed.js';
export { linearCeiling } from './linear.js';
export { exponentialCeiling } from './exponential.js';
export { decorrelatedBounds, decorrelatedDelay } from './decorrelated.js';
