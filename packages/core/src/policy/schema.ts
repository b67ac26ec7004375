import { z } from 'zod';
import { errorKinds, type Classification } from '../error-kinds.js';
import { type NodeAddress } from '../node-address.js';
import { durationPatternSource, parseDuration, parseFraction, percentPatternSource } from './units.js';

// Editors validate against the JSON Schema before interpolation, so `${VAR}` must pass the patterns too.
const orEnvReference = (pattern: string): string => `(${pattern})|^\\$\\{[^}]+\\}$`;

// Field types. Each accepts what a person writes in YAML and outputs plain numbers (milliseconds, fractions).

/** A duration: `250ms`, `10s`, `5m`, `1h`, or milliseconds. Outputs milliseconds. */
export const durationSchema = z
  .union([z.number(), z.string().meta({ pattern: orEnvReference(durationPatternSource) })])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: 'Invalid duration',
        params: {
          kind: 'invalid_duration',
          expected: 'a duration like 250ms, 10s, 5m or 1h, or milliseconds ≥ 0',
        },
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'A duration: 250ms, 10s, 5m, 1h, or a number of milliseconds.' });

/** A fraction: `10%` or a number in [0, 1]. Outputs a number in [0, 1]. */
export const fractionSchema = z
  .union([z.number(), z.string().meta({ pattern: orEnvReference(percentPatternSource) })])
  .transform((value, ctx) => {
    const f = parseFraction(value);
    if (f === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: 'Invalid percentage',
        params: { kind: 'invalid_percentage', expected: 'a percentage like 10% or a fraction from 0 to 1' },
      });
      return z.NEVER;
    }
    return f;
  })
  .meta({ description: 'A percentage (10%) or a fraction from 0 to 1.' });

const count = z.number().int().nonnegative();
const positiveCount = z.number().int().positive();

/** The context a code-defined retry predicate receives. */
export interface RetryIfContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** The driver's classification of the error. */
  classification: Classification;
  /** Whether the operation was declared idempotent. */
  idempotent: boolean;
  /** The node the attempt ran on, for multi-node targets. */
  node: NodeAddress | undefined;
  /** Milliseconds elapsed since the operation started. */
  elapsedMs: number;
}
/** A code-defined retry predicate (configs written in TypeScript or JavaScript only). */
export type RetryIf = (error: unknown, ctx: RetryIfContext) => boolean;
/** A code-defined delay: milliseconds to wait before retry number `attempt` (1-based). */
export type DelayFn = (attempt: number) => number;
/** A code-defined node selector: picks one of the alive nodes, or `undefined` for none usable. */
export type NodeSelectorFn = (nodes: readonly NodeAddress[]) => NodeAddress | undefined;

const fn = <T>(what: string) =>
  z
    .custom<T>((v) => typeof v === 'function', {
      message: `Expected a function (${what})`,
      params: { kind: 'invalid_type', expected: 'a function (only in TypeScript or JavaScript configs)' },
    })
    .meta({
      description: `${what}; only in configs written in TypeScript or JavaScript.`,
    });

/** How long to wait before each retry. */
export const backoffSchema = z.strictObject({
  type: z.enum(['fixed', 'linear', 'exponential', 'decorrelated']),
  base: durationSchema,
  factor: z.number().min(1),
  max: durationSchema,
  jitter: z.enum(['none', 'full', 'equal']),
});

/** Which failures are retried, in the driver's vocabulary. */
export const retryOnSchema = z.strictObject({
  errors: z.array(z.enum(errorKinds)),
  codes: z.array(z.union([z.string().min(1), z.number().int()])),
  statusCodes: z.array(z.number().int().min(100).max(599)),
});

/** The retry budget: retries may be at most `ratio` of requests over `window`, plus `minPerSecond`. */
export const budgetSchema = z.strictObject({
  enabled: z.boolean(),
  ratio: fractionSchema,
  minPerSecond: z.number().nonnegative(),
  window: durationSchema,
});

const percentiles = ['p50', 'p90', 'p95', 'p99'] as const;

/** A hedge delay: a percentile of recent latency (`p95`) or a duration. Outputs the percentile's name or milliseconds. */
const hedgeDelaySchema = z
  .union([z.number(), z.string()])
  .transform((value, ctx): (typeof percentiles)[number] | number => {
    const percentile = percentiles.find((p) => p === value);
    if (percentile !== undefined) return percentile;
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
    ctx.issues.push({
      code: 'custom',
      input: value,
      message: 'Invalid hedge delay',
      params: { kind: 'invalid_hedge_delay', expected: 'p50, p90, p95 or p99, or a duration like 50ms' },
    });
    return z.NEVER;
  })
  .meta({
    description:
      "When to hedge: p50, p90, p95 or p99 of the target's recent latency of hedgeable reads (none hedged until 32 were seen), or a duration.",
  });

/**
 * Hedged reads: an operation declared both `readOnly` and `idempotent`, not answered within `delay` (a duration, or
 * a percentile of the target's recent latency of such reads), is sent to another live node as well; the first
 * answer wins and the others are cancelled. At most `maxExtraLoad` of such reads are hedged, and at most
 * `maxAttempts` attempts of one operation run at once.
 */
export const hedgeSchema = z.strictObject({
  enabled: z.boolean(),
  delay: hedgeDelaySchema,
  maxExtraLoad: fractionSchema,
  maxAttempts: z.number().int().min(2).max(5),
});

/** What happens to one operation, attempt by attempt. */
export const retrySchema = z.strictObject({
  maxRetries: count,
  backoff: backoffSchema,
  retryOn: retryOnSchema,
  attemptTimeout: durationSchema,
  deadline: durationSchema,
  budget: budgetSchema,
  hedge: hedgeSchema,
  retryIf: fn<RetryIf>('retryIf(error, ctx) => boolean').optional(),
  delay: fn<DelayFn>('delay(attempt) => milliseconds').optional(),
});

/** Active health checks and the thresholds that turn outcomes into up/down verdicts. */
export const healthCheckSchema = z.strictObject({
  enabled: z.boolean(),
  interval: durationSchema,
  timeout: durationSchema,
  jitter: fractionSchema,
  failureThreshold: positiveCount,
  successThreshold: positiveCount,
  query: z.string().min(1).optional(),
});

/** How a lost connection is re-established. */
export const reconnectSchema = z.strictObject({
  // `unlimited` becomes Infinity, so code compares numbers and never a magic string.
  maxRetries: z
    .union([count, z.literal('unlimited')])
    .transform((v): number => (v === 'unlimited' ? Number.POSITIVE_INFINITY : v)),
  backoff: backoffSchema,
  connectTimeout: durationSchema,
  // How long start() waits for the first connect before it reports the target down (0: until connected or given up).
  startTimeout: durationSchema,
  onExhausted: z.enum(['keep-probing', 'stop']),
  minProbeGap: durationSchema,
  whileReconnecting: z.enum(['wait', 'fail-fast']),
  // How many operations may wait for a reconnect at once; more are refused at once (QueueFullError).
  maxWaiting: z
    .union([positiveCount, z.literal('unlimited')])
    .transform((v): number => (v === 'unlimited' ? Number.POSITIVE_INFINITY : v)),
  delay: fn<DelayFn>('delay(attempt) => milliseconds').optional(),
});

/** The circuit breaker: consecutive failures, or a failure rate over a window. */
export const circuitBreakerSchema = z.strictObject({
  enabled: z.boolean(),
  mode: z.enum(['consecutive', 'rate']),
  failureThreshold: positiveCount,
  failureRate: fractionSchema,
  window: durationSchema,
  minimumCalls: positiveCount,
  openFor: durationSchema,
  halfOpenMaxCalls: positiveCount,
});

/** Node discovery (sniffing). */
export const discoverySchema = z.strictObject({
  onStart: z.boolean(),
  interval: z.union([durationSchema, z.literal(false)]),
  onFault: z.boolean(),
});

/** Multi-node targets: dead-node tracking, resurrection, selection, discovery. */
export const poolSchema = z.strictObject({
  selector: z.union([
    z.enum(['round-robin', 'random', 'least-latency']),
    z
      .strictObject({
        /** Round-robin over the nodes whose URL (or host:port) contains this text; the others only when none is alive. */
        prefer: z.string().min(1),
      })
      .meta({
        description:
          'Prefer nodes whose URL contains this text (the hostname selector): round-robin over those, the others only when none of them is alive.',
      }),
    fn<NodeSelectorFn>('selector(nodes) => node'),
  ]),
  deadTimeout: durationSchema,
  deadTimeoutMax: durationSchema,
  deadTimeoutCutoff: count,
  resurrect: z.enum(['ping', 'optimistic', 'none']),
  nodeFailureThreshold: positiveCount,
  discovery: discoverySchema,
});

/**
 * The target's concurrency limit: how many operations may run against it at once (`limit`: `off`, a fixed number,
 * or `adaptive`: a latency-gradient limit between `minLimit` and `maxLimit`), and what happens to the excess (it
 * waits in a queue of `maxQueue` for at most `queueTimeout` and its deadline, or is refused at once, `not_sent`).
 */
export const concurrencySchema = z.strictObject({
  limit: z.union([z.enum(['off', 'adaptive']), positiveCount]),
  initialLimit: positiveCount,
  minLimit: positiveCount,
  maxLimit: positiveCount,
  tolerance: z.number().min(1),
  window: durationSchema,
  baselineWindow: durationSchema,
  maxQueue: count,
  queueTimeout: durationSchema,
});

/** A complete policy, every field present: what a target runs with after merging. */
export const resolvedPolicySchema = z.strictObject({
  retry: retrySchema,
  healthCheck: healthCheckSchema,
  reconnect: reconnectSchema,
  circuitBreaker: circuitBreakerSchema,
  pool: poolSchema,
  concurrency: concurrencySchema,
});

/** A partial policy as written in a file: every field optional, merged over defaults. */
export const policyInputSchema = z.strictObject({
  retry: retrySchema
    .extend({
      backoff: backoffSchema.partial(),
      retryOn: retryOnSchema.partial(),
      budget: budgetSchema.partial(),
      hedge: hedgeSchema.partial(),
    })
    .partial()
    .optional(),
  healthCheck: healthCheckSchema.partial().optional(),
  reconnect: reconnectSchema.extend({ backoff: backoffSchema.partial() }).partial().optional(),
  circuitBreaker: circuitBreakerSchema.partial().optional(),
  pool: poolSchema.extend({ discovery: discoverySchema.partial() }).partial().optional(),
  concurrency: concurrencySchema.partial().optional(),
});

/** A named or inline policy: a partial policy that may extend a preset (`preset:mysql`) or another named policy. */
export const extendablePolicySchema = policyInputSchema.extend({
  extends: z.string().min(1).optional(),
});

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, {
  error: 'Invalid name: use letters, digits, _, . and -, starting with a letter or _',
});

/** One target: a named connection the application uses. */
export const targetSchema = z.strictObject({
  driver: z.string().min(1),
  policy: z.union([z.string().min(1), extendablePolicySchema]).optional(),
  options: z.unknown().optional(),
  pool: policyInputSchema.shape.pool,
  required: z.boolean().optional(),
  description: z.string().optional(),
});

/** The whole policy file. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  defaults: policyInputSchema.optional(),
  policies: z.record(name, extendablePolicySchema).optional(),
  targets: z.record(name, targetSchema),
});

/** A partial policy as written in a file or in code. */
export type PolicyInput = z.input<typeof policyInputSchema>;
/** A policy that may `extends` another. */
export type ExtendablePolicyInput = z.input<typeof extendablePolicySchema>;
/** A target as written. */
export type TargetInput = z.input<typeof targetSchema>;
/** The whole policy file as written. */
export type ConfigInput = z.input<typeof configSchema>;
/** The whole policy file after validation (durations in ms). */
export type ParsedConfig = z.output<typeof configSchema>;
/** A partial policy after validation (durations in ms). */
export type ParsedPolicy = z.output<typeof policyInputSchema>;
