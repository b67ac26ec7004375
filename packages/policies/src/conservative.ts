import { definePreset } from './preset.js';

/** Patient and gentle: few, widely spaced retries, slow verdicts, a small retry budget. For fragile or shared servers. */
export const conservative = definePreset({
  name: 'conservative',
  description:
    'Gentle: 5 retries from 500ms up to 30s, 10% retry budget, a node is down after 5 failed checks every 30s',
  sources: [
    'gRPC retryPolicy: at most 5 attempts; AWS full jitter between retries',
    'Finagle RetryBudget, halved: retries ≤ 10% of requests, 5/s minimum, over 10s',
    'Envoy outlier detection: 5 consecutive failures; elasticsearch-php dead time capped at 3600s',
    'Polly breaker: break for 60s after 10 consecutive failures (BreakDuration scaled up for fragile servers)',
  ],
  policy: {
    retry: {
      maxRetries: 5,
      backoff: { type: 'exponential', base: '500ms', factor: 2, max: '30s', jitter: 'full' },
      attemptTimeout: '10s',
      deadline: '60s',
      budget: { enabled: true, ratio: '10%', minPerSecond: 5, window: '10s' },
    },
    healthCheck: { enabled: true, interval: '30s', timeout: '5s', failureThreshold: 5, successThreshold: 2 },
    reconnect: {
      maxRetries: 'unlimited',
      backoff: { type: 'exponential', base: '1s', factor: 2, max: '60s', jitter: 'full' },
    },
    circuitBreaker: {
      enabled: true,
      mode: 'consecutive',
      failureThreshold: 10,
      openFor: '60s',
      halfOpenMaxCalls: 1,
    },
    pool: { deadTimeout: '60s', deadTimeoutMax: '1h', resurrect: 'ping', nodeFailureThreshold: 3 },
  },
});
