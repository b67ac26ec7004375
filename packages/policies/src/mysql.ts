import { definePreset } from './preset.js';

/**
 * MySQL / MariaDB. Reconnect and health-check numbers are the MySQL defaults table of the storage
 * auto-reconnect module (seed 002); the retryable codes are mysql2's transient server errors.
 */
export const mysql = definePreset({
  name: 'mysql',
  description:
    'MySQL/MariaDB: 10 reconnect attempts within 1s, 2s, 4s… (full jitter); SELECT 1 every 10s with a 3s timeout',
  sources: [
    'seed 002 (storage auto-reconnect module), MySQL table: MaxRetries 10, RetryInterval exponential, HealthCheck true, HealthCheckInterval 10s, HealthCheckTimeout 3s, HealthCheckQuery "SELECT 1"',
    'seed 002, ExponentialBackoff(time.Second): 2^n · 1s → 1s, 2s, 4s, 8s… (the envelope); full jitter is ours (AWS full jitter: each wait uniform in [0, envelope]) so that a fleet reconnecting after a shared server restarts does not arrive as one wall — BENCHMARKS.md fleet table: 1 000 targets without jitter opened 319 connections per 100 ms, more than raw clients; the 60s cap is ours',
    'mysql2: retryable 1213 deadlock, 1205 lock wait timeout, 1040 too many connections, 1290/1792/1836 read-only after failover',
  ],
  policy: {
    retry: {
      retryOn: {
        errors: ['connection', 'timeout', 'transient'],
        codes: [
          'ER_LOCK_DEADLOCK',
          'ER_LOCK_WAIT_TIMEOUT',
          'ER_CON_COUNT_ERROR',
          'ER_OPTION_PREVENTS_STATEMENT',
          1213,
          1205,
          1040,
          1290,
          1792,
          1836,
        ],
      },
    },
    healthCheck: { enabled: true, interval: '10s', timeout: '3s', query: 'SELECT 1' },
    reconnect: {
      maxRetries: 10,
      backoff: { type: 'exponential', base: '1s', factor: 2, max: '60s', jitter: 'full' },
    },
  },
});
