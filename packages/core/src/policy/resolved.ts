import type { z } from 'zod';
import type {
  backoffSchema,
  budgetSchema,
  circuitBreakerSchema,
  healthCheckSchema,
  poolSchema,
  reconnectSchema,
  resolvedPolicySchema,
  retryOnSchema,
  retrySchema,
} from './schema.js';

/** A complete policy after merging, durations in milliseconds. */
export type ResolvedPolicy = z.output<typeof resolvedPolicySchema>;
/** A backoff section, durations in milliseconds. */
export type BackoffPolicy = z.output<typeof backoffSchema>;
/** The retry section, durations in milliseconds. */
export type RetryPolicy = z.output<typeof retrySchema>;
/** Which failures are retried. */
export type RetryOnPolicy = z.output<typeof retryOnSchema>;
/** The retry budget section. */
export type BudgetPolicy = z.output<typeof budgetSchema>;
/** The health-check section, durations in milliseconds. */
export type HealthCheckPolicy = z.output<typeof healthCheckSchema>;
/** The reconnect section, durations in milliseconds. */
export type ReconnectPolicy = z.output<typeof reconnectSchema>;
/** The circuit-breaker section, durations in milliseconds. */
export type CircuitBreakerPolicy = z.output<typeof circuitBreakerSchema>;
/** The node-pool section, durations in milliseconds. */
export type PoolPolicy = z.output<typeof poolSchema>;
