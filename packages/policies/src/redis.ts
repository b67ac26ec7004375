import { definePreset } from './preset.js';

/**
 * Redis. Reconnect and health-check numbers are the Redis defaults table of the storage
 * auto-reconnect module (seed 002); the retryable reply codes are the transient ones Redis sends.
 */
export const redis = definePreset({
  name: 'redis',
  description:
    'Redis: 5 reconnect attempts within 1s, 2s, 4s… (full jitter); PING every 5s with a 2s timeout',
  sources: [
    'seed 002 (storage auto-reconnect module), Redis table: MaxRetries 5, RetryInterval exponential, HealthCheck true, HealthCheckInterval 5s, HealthCheckTimeout 2s; the probe is PING',
    'seed 002, ExponentialBackoff(time.Second): 2^n · 1s → 1s, 2s, 4s… (the envelope); full jitter is ours (AWS full jitter: each wait uniform in [0, envelope]) so that a fleet reconnecting after a shared server restarts does not arrive as one wall — BENCHMARKS.md fleet table: 1 000 targets without jitter opened 319 connections per 100 ms, more than raw clients; the 30s cap is ours',
    'Redis replies that pass by themselves: LOADING (restart), READONLY (replica after failover), TRYAGAIN, CLUSTERDOWN, MASTERDOWN',
  ],
  policy: {
    retry: {
      retryOn: {
        errors: ['connection', 'timeout', 'transient'],
        codes: ['LOADING', 'READONLY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN'],
      },
    },
    healthCheck: { enabled: true, interval: '5s', timeout: '2s', query: 'PING' },
    reconnect: {
      maxRetries: 5,
      backoff: { type: 'exponential', base: '1s', factor: 2, max: '30s', jitter: 'full' },
    },
  },
});
