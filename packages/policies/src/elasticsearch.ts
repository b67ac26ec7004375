import { definePreset } from './preset.js';

/**
 * Elasticsearch. Reconnect, health-check and node-failure numbers are the Elasticsearch defaults
 * table of the storage auto-reconnect module (seed 002); retries and dead time follow the
 * official transports (go-elasticsearch estransport, elastic-transport-js).
 */
export const elasticsearch = definePreset({
  name: 'elasticsearch',
  description:
    'Elasticsearch: retry connection errors, 429 and 502/503/504 3 times (1–2s, 2–4s, 2–4s); dead node 60s doubling to 32m; no target breaker; GET _cluster/health?local=true every 15s',
  sources: [
    'seed 002 (storage auto-reconnect module), Elasticsearch table: MaxRetries 15, RetryInterval exponential, HealthCheck true, HealthCheckInterval 15s, HealthCheckTimeout 5s, NodeFailureThreshold 3; the probe is GET _cluster/health (asked with local=true, per node)',
    'seed 001 (go-elasticsearch estransport) and elastic-transport-js: 3 retries on network errors and 502/503/504; timeouts are not retried (retryOnTimeout off)',
    '429 is retried (honouring Retry-After): the official clients do not, and users ask for it (elasticsearch-py #2485)',
    'elastic-transport-js retry wait c = min(4, 2^attempt)/2 seconds, c + random·c → exponential base 2s, cap 4s, equal jitter: 1–2s, 2–4s, 2–4s',
    'elastic-transport-js 8.x requestTimeout 30s per attempt (searches and bulk requests can be slow); the 60s deadline over all attempts is ours',
    'elastic-transport-js / estransport dead time 60s · 2^min(deadCount−1, 5): 1, 2, 4, 8, 16, 32 min, resurrected by ping',
    "no target-level circuit breaker: the official transports have none (their node pools are per-node breakers); a target-level breaker counts every node's failures as one server's, so one bad node of three would shed the healthy ones' traffic",
    'seed 002, ExponentialBackoff(time.Second) for reconnects: 1s, 2s, 4s… (the envelope); full jitter is ours (AWS full jitter, each wait uniform in [0, envelope]) so that a fleet does not reconnect as one wall; the 60s cap is ours',
  ],
  policy: {
    retry: {
      maxRetries: 3,
      backoff: { type: 'exponential', base: '2s', factor: 2, max: '4s', jitter: 'equal' },
      // 429 (es_rejected_execution: queue full, never applied) is retried after Retry-After or the backoff,
      // which the transports do not do (elasticsearch-py #2485).
      retryOn: { errors: ['connection', 'throttled'], statusCodes: [502, 503, 504] },
      attemptTimeout: '30s',
      deadline: '60s',
    },
    // local=true: each node answers from its own cluster state, so the probe measures that node, not the master.
    healthCheck: { enabled: true, interval: '15s', timeout: '5s', query: 'GET _cluster/health?local=true' },
    reconnect: {
      maxRetries: 15,
      backoff: { type: 'exponential', base: '1s', factor: 2, max: '60s', jitter: 'full' },
    },
    // The node pool is a cluster's breaker (a dead node waits out its dead time); a target-level breaker counts
    // every node's failures as one server's.
    circuitBreaker: { enabled: false },
    pool: {
      selector: 'round-robin',
      nodeFailureThreshold: 3,
      deadTimeout: '60s',
      deadTimeoutCutoff: 5,
      deadTimeoutMax: '32m',
      resurrect: 'ping',
    },
  },
});
