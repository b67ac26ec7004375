// The backoff's public surface: one delay, its bounds, and the executor's choice between backoff,
// custom delay and server hint. The strategies (fixed, linear, exponential, jitter, decorrelated) are
// internal: these functions are the one way to use them.
export { computeDelay, delayBounds, retryDelay } from './compute-delay.js';
