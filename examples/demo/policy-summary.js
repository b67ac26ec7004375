// The policy behind a demo target, in a few lines for the report: where it comes from (its preset and the
// overrides the demo's policy file writes) and what it does under failure.
import { formatDuration } from '@reconnect/core';

// Leaves of a resolved policy that are durations in ms (the rest are counts, ratios, names).
const durationKeys = new Set([
  'attemptTimeout',
  'deadline',
  'base',
  'max',
  'interval',
  'timeout',
  'connectTimeout',
  'minProbeGap',
  'startTimeout',
  'openFor',
  'window',
  'deadTimeout',
  'deadTimeoutMax',
]);

function valueAt(policy, path) {
  return path.split('.').reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), policy);
}

function show(path, value) {
  const key = path.split('.').at(-1);
  if (typeof value === 'number' && durationKeys.has(key)) return formatDuration(value);
  if (value === Number.POSITIVE_INFINITY) return 'unlimited';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/**
 * @param {import('@reconnect/core').ResolvedPolicy} policy the target's policy in force
 * @param {{ layers: string[], provenance: Record<string, string> }} resolved how the file resolved it
 * @param {string} file the policy file, as shown
 * @returns {{ from: string, overrides: string[], behaviour: string[] }}
 */
export function policySummary(policy, resolved, file) {
  const preset = resolved.layers.filter((l) => l.startsWith('preset:'));
  const overrides = Object.entries(resolved.provenance)
    .filter(([, source]) => source === 'target')
    .map(([path]) => `${path} ${show(path, valueAt(policy, path))}`);
  const { retry, healthCheck: hc, reconnect, circuitBreaker: cb } = policy;
  const d = formatDuration;
  const behaviour = [
    `retry: up to ${retry.maxRetries} retries, ${d(retry.attemptTimeout)} per attempt, ${d(retry.deadline)} deadline for the whole operation; retried: ${[...retry.retryOn.errors, ...retry.retryOn.codes, ...retry.retryOn.statusCodes].join(', ')}`,
    hc.enabled
      ? `health check: ${hc.query ?? 'probe'} every ${d(hc.interval)}, ${d(hc.timeout)} timeout, down after ${hc.failureThreshold} failed check${hc.failureThreshold === 1 ? '' : 's'}`
      : 'health check: off',
    `reconnect: ${reconnect.backoff.type} backoff from ${d(reconnect.backoff.base)} up to ${d(reconnect.backoff.max)}, ${d(reconnect.connectTimeout)} per connect`,
    cb.enabled
      ? `circuit breaker: opens after ${cb.failureThreshold} consecutive failures, for 1s at first, up to ${d(cb.openFor)} while trials fail`
      : 'circuit breaker: off (the node pool sets failing nodes aside)',
  ];
  return {
    from: `${preset.join(', ') || 'the built-in defaults'}, overridden in ${file}`,
    overrides,
    behaviour,
  };
}
