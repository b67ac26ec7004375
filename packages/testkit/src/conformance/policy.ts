import type { PolicyInput, ResolvedPolicy } from '@reconnect/core';

/**
 * The policy every conformance scenario starts from: fast health checks and small backoffs, so the
 * whole suite runs in well under a minute, with thresholds of 2 so one slow probe on a busy machine
 * is not taken for an outage. The breaker and the retry budget are off: the suite measures detection
 * and recovery, not load shedding.
 */
export const conformancePolicy = {
  retry: {
    maxRetries: 100,
    backoff: { type: 'exponential', base: 50, factor: 2, max: 400, jitter: 'none' },
    retryOn: { errors: ['connection', 'timeout'] },
    attemptTimeout: 1000,
    deadline: 6000,
    budget: { enabled: false },
  },
  healthCheck: {
    enabled: true,
    interval: 200,
    timeout: 150,
    jitter: 0,
    failureThreshold: 2,
    successThreshold: 1,
  },
  reconnect: {
    maxRetries: 'unlimited',
    backoff: { type: 'exponential', base: 50, factor: 2, max: 400, jitter: 'none' },
    connectTimeout: 1000,
    onExhausted: 'keep-probing',
    minProbeGap: 50,
    whileReconnecting: 'wait',
  },
  circuitBreaker: { enabled: false },
} as const satisfies PolicyInput;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** Deep-merges policy layers (later wins; arrays and functions are replaced, not merged). */
export function mergePolicies(...layers: (PolicyInput | undefined)[]): PolicyInput {
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...a };
    for (const [key, value] of Object.entries(b)) {
      if (value === undefined) continue;
      const prev = out[key];
      out[key] = isPlainObject(prev) && isPlainObject(value) ? merge(prev, value) : value;
    }
    return out;
  };
  return layers.reduce<Record<string, unknown>>(
    (acc, layer) => (layer === undefined ? acc : merge(acc, layer)),
    {},
  );
}

/** Timing bounds the suite asserts, computed from the target's resolved policy. */
export interface ConformanceBounds {
  /** A fault must be noticed (state leaves `connected`) within this. */
  detectionMs: number;
  /** After the server accepts again, the target must be `connected` within this. */
  recoveryMs: number;
  /** An operation may overrun its deadline by at most this (timer and event-loop slack). */
  deadlineSlackMs: number;
}

/**
 * Detection: `failureThreshold` health checks, each up to `interval · (1 + jitter)` apart, the last
 * one timing out after `timeout`, plus slack. Recovery: the longest reconnect backoff wait plus one
 * health-check interval (clients that reconnect by themselves may wait for their own timer), plus slack.
 */
export function conformanceBounds(policy: ResolvedPolicy, slackMs: number): ConformanceBounds {
  const hc = policy.healthCheck;
  // Rounded up to whole ms, ignoring floating-point dust (1000 × 1.1 is 1100.0000000000002).
  const ms = (x: number): number => Math.ceil(x - 1e-6);
  return {
    detectionMs: ms(hc.failureThreshold * hc.interval * (1 + hc.jitter) + hc.timeout + slackMs),
    recoveryMs: ms(policy.reconnect.backoff.max + hc.interval + slackMs),
    deadlineSlackMs: slackMs,
  };
}
