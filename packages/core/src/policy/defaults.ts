import { defaultRetryKinds } from '../error-kinds.js';
import type { PolicyInput } from './schema.js';

/**
 * The built-in defaults every policy is merged over (the bottom layer, "default" in `reconnect validate`).
 * Sources: retry budget from Finagle (20 %, 10/s, 10 s); breaker threshold from Finagle's failure accrual (5);
 * dead time from elastic-transport's cluster pool (60 s · 2^min(n−1, 5)); the concurrency limit's initial limit (20),
 * tolerance (2) and most cut per window (half) from Netflix concurrency-limits' Gradient2 (off unless asked for);
 * hedged reads at the p95 with at most 5 % extra load from "The Tail at Scale" and Finagle's backup requests (off
 * unless asked for); the rest from DESIGN.md.
 */
export const builtinDefaults = {
  retry: {
    maxRetries: 3,
    backoff: { type: 'exponential', base: '100ms', factor: 2, max: '10s', jitter: 'full' },
    retryOn: { errors: [...defaultRetryKinds], codes: [], statusCodes: [] },
    attemptTimeout: '2s',
    deadline: '10s',
    budget: { enabled: true, ratio: '10%', minPerSecond: 10, window: '10s' },
    hedge: { enabled: false, delay: 'p95', maxExtraLoad: '5%', maxAttempts: 2 },
  },
  healthCheck: {
    enabled: true,
    interval: '10s',
    timeout: '3s',
    jitter: '10%',
    failureThreshold: 3,
    successThreshold: 1,
  },
  reconnect: {
    maxRetries: 'unlimited',
    backoff: { type: 'exponential', base: '500ms', factor: 2, max: '30s', jitter: 'full' },
    connectTimeout: '5s',
    startTimeout: '5s',
    onExhausted: 'keep-probing',
    minProbeGap: '100ms',
    whileReconnecting: 'wait',
    maxWaiting: 50_000,
  },
  circuitBreaker: {
    enabled: true,
    mode: 'consecutive',
    failureThreshold: 5,
    failureRate: '50%',
    window: '30s',
    minimumCalls: 20,
    openFor: '30s',
    halfOpenMaxCalls: 1,
  },
  pool: {
    selector: 'round-robin',
    deadTimeout: '60s',
    deadTimeoutMax: '30m',
    deadTimeoutCutoff: 5,
    resurrect: 'ping',
    nodeFailureThreshold: 1,
    discovery: { onStart: false, interval: false, onFault: false },
  },
  concurrency: {
    limit: 'off',
    initialLimit: 20,
    minLimit: 2,
    maxLimit: 500,
    tolerance: 2,
    window: '100ms',
    baselineWindow: '60s',
    maxQueue: 100,
    queueTimeout: '10ms',
  },
} as const satisfies PolicyInput;
