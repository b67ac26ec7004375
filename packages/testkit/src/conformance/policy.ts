import { worstCaseDetectionMs, type PolicyInput, type ResolvedPolicy } from '@reconnect/core';

/**
 * The policy every conformance scenario starts from: fast health checks and small backoffs, so the
 * whole suite runs in well under a minute. The health check declares a server down after ONE failed
 * probe, so the worst case detection (`worstCaseDetectionMs`: interval + 1 × timeout) is within
 * issue 5's "interval + timeout of the health check plus a small slack"; its timeout of 200 ms (far above a
 * loopback PING or `SELECT 1`) keeps one slow probe on a busy machine from being taken for an outage.
 * The breaker and the retry budget are off: the suite measures detection and recovery, not load shedding.
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
    interval: 250,
    timeout: 200,
    jitter: 0,
    failureThreshold: 1,
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
 * Slack on top of the health check's worst case detection, in ms: timer lateness and event-loop stalls on
 * a loaded two-core machine. Measured hang/blackhole detections stay well under the bound with it.
 */
export const defaultDetectionSlackMs = 200;

/**
 * Detection: the core's `worstCaseDetectionMs` (the next probe at most `interval · (1 + jitter)` away,
 * then `failureThreshold` probes each timing out after `timeout`, back to back) plus `detectionSlackMs`.
 * Recovery: the longest reconnect backoff wait plus one health-check interval (clients that reconnect by
 * themselves may wait for their own timer), plus `slackMs`.
 */
export function conformanceBounds(
  policy: ResolvedPolicy,
  slackMs: number,
  detectionSlackMs: number = defaultDetectionSlackMs,
): ConformanceBounds {
  const hc = policy.healthCheck;
  // Rounded up to whole ms, ignoring floating-point dust (1000 × 1.1 is 1100.0000000000002).
  const ms = (x: number): number => Math.ceil(x - 1e-6);
  return {
    detectionMs: ms(worstCaseDetectionMs(hc) + detectionSlackMs),
    recoveryMs: ms(policy.reconnect.backoff.max + hc.interval + slackMs),
    deadlineSlackMs: slackMs,
  };
}
