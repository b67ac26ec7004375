import type { z } from 'zod';
import type {
  backoffSchema,
  budgetSchema,
  circuitBreakerSchema,
  concurrencySchema,
  healthCheckSchema,
  hedgeSchema,
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
/** The retry section's hedged reads, durations in milliseconds. */
export type HedgePolicy = z.output<typeof hedgeSchema>;
/** The health-check section, durations in milliseconds. */
export type HealthCheckPolicy = z.output<typeof healthCheckSchema>;
/** The reconnect section, durations in milliseconds. */
export type ReconnectPolicy = z.output<typeof reconnectSchema>;
/** The circuit-breaker section, durations in milliseconds. */
export type CircuitBreakerPolicy = z.output<typeof circuitBreakerSchema>;
/** The concurrency-limit section, durations in milliseconds. */
export type ConcurrencyPolicy = z.output<typeof concurrencySchema>;
/** The node-pool section, durations in milliseconds. */
export type PoolPolicy = z.output<typeof poolSchema>;

// A resolved policy carries this (non-enumerable, surviving two copies of the package), so it is never resolved
// again: a second pass would interpolate `${…}` in text the first pass produced from an escaped `$${…}`.
const resolvedBrand = Symbol.for('@reconnect/core/resolved-policy');

/** Marks `policy` as the output of resolution (done once, by the resolver) and returns it. */
export function markResolved<P extends object>(policy: P): P {
  Object.defineProperty(policy, resolvedBrand, { value: true });
  return policy;
}

/** Whether `value` is a policy the resolver produced: resolving it again must leave it as it is. */
export function isResolvedPolicy(value: unknown): value is ResolvedPolicy {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[resolvedBrand] === true
  );
}
