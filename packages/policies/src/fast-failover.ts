import { definePreset } from './preset.js';

/**
 * Sub-second detection and recovery, for latency-sensitive services with replicas to fail over to.
 * Numbers are derived, not copied: see `sources` for the arithmetic.
 */
export const fastFailover = definePreset({
  name: 'fast-failover',
  description:
    'Sub-second: a dead server is noticed within 0.63s, a node is retried after 1s, reconnects start at 50ms',
  sources: [
    'detection: health check every 300ms (±10%), 150ms timeout, 2 consecutive failures, the second probe right after the first fails → worst case 330ms + 2 · 150ms = 630ms (a loopback or LAN PING / SELECT 1 answers in well under 150ms)',
    'recovery: reconnect backoff 50ms doubling to 1s with full jitter (AWS full jitter) and probes at most every 50ms; a dead node is retried after 1s (elastic-transport dead-time formula, scaled down)',
    'operations: 2 retries 25–50ms, 50–100ms apart, 500ms per attempt, 2s in all; breaker opens after 3 consecutive failures for 1s',
  ],
  policy: {
    retry: {
      maxRetries: 2,
      backoff: { type: 'exponential', base: '50ms', factor: 2, max: '250ms', jitter: 'equal' },
      attemptTimeout: '500ms',
      deadline: '2s',
    },
    healthCheck: {
      enabled: true,
      interval: '300ms',
      timeout: '150ms',
      jitter: '10%',
      failureThreshold: 2,
      successThreshold: 1,
    },
    reconnect: {
      maxRetries: 'unlimited',
      backoff: { type: 'exponential', base: '50ms', factor: 2, max: '1s', jitter: 'full' },
      connectTimeout: '500ms',
      minProbeGap: '50ms',
    },
    circuitBreaker: {
      enabled: true,
      mode: 'consecutive',
      failureThreshold: 3,
      openFor: '1s',
      halfOpenMaxCalls: 1,
    },
    pool: { deadTimeout: '1s', deadTimeoutMax: '30s', resurrect: 'ping', nodeFailureThreshold: 1 },
  },
});
