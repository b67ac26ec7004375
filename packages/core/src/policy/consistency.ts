import type { ConfigIssue } from '../errors.js';
import type { Provenance } from './merge.js';
import type { ResolvedPolicy } from './resolved.js';
import { formatDuration } from './units.js';

interface Rule {
  /** The field reported (the one a person would most likely change). */
  path: string[];
  kind: string;
  /** The other field the rule compares with. */
  other: string[];
  ok(p: ResolvedPolicy): boolean;
  /** Whether the rule applies at all: a disabled section's fields are not used, so not compared. */
  applies?(p: ResolvedPolicy): boolean;
  relation: string;
  value(p: ResolvedPolicy): number;
  otherValue(p: ResolvedPolicy): number;
}

// Rules that a single field's schema cannot express, because they relate two fields of the merged policy.
const rules: Rule[] = [
  {
    path: ['retry', 'backoff', 'max'],
    other: ['retry', 'backoff', 'base'],
    kind: 'max_below_base',
    relation: '≥',
    ok: (p) => p.retry.backoff.max >= p.retry.backoff.base,
    value: (p) => p.retry.backoff.max,
    otherValue: (p) => p.retry.backoff.base,
  },
  {
    path: ['reconnect', 'backoff', 'max'],
    other: ['reconnect', 'backoff', 'base'],
    kind: 'max_below_base',
    relation: '≥',
    ok: (p) => p.reconnect.backoff.max >= p.reconnect.backoff.base,
    value: (p) => p.reconnect.backoff.max,
    otherValue: (p) => p.reconnect.backoff.base,
  },
  {
    path: ['healthCheck', 'timeout'],
    other: ['healthCheck', 'interval'],
    kind: 'timeout_not_below_interval',
    relation: '<',
    applies: (p) => p.healthCheck.enabled,
    ok: (p) => p.healthCheck.timeout < p.healthCheck.interval,
    value: (p) => p.healthCheck.timeout,
    otherValue: (p) => p.healthCheck.interval,
  },
  {
    path: ['retry', 'attemptTimeout'],
    other: ['retry', 'deadline'],
    kind: 'attempt_timeout_above_deadline',
    relation: '≤',
    // 0 means "no limit" for either, so there is nothing to compare.
    ok: (p) =>
      p.retry.attemptTimeout === 0 || p.retry.deadline === 0 || p.retry.attemptTimeout <= p.retry.deadline,
    value: (p) => p.retry.attemptTimeout,
    otherValue: (p) => p.retry.deadline,
  },
  {
    path: ['pool', 'deadTimeoutMax'],
    other: ['pool', 'deadTimeout'],
    kind: 'max_below_base',
    relation: '≥',
    ok: (p) => p.pool.deadTimeoutMax >= p.pool.deadTimeout,
    value: (p) => p.pool.deadTimeoutMax,
    otherValue: (p) => p.pool.deadTimeout,
  },
];

function where(provenance: Provenance | undefined, path: string[]): string {
  const source = provenance?.[path.join('.')];
  if (source === undefined) return '';
  return source === 'default' ? ', from the built-in defaults' : `, from ${source}`;
}

/**
 * Rules relating two fields of a complete policy (backoff max ≥ base, health-check timeout < interval,
 * attemptTimeout ≤ deadline, deadTimeoutMax ≥ deadTimeout, positive intervals). Paths are relative
 * to the policy and name the first field of the rule (the resolver turns them into the place in the
 * file that value was written); `provenance` lets the message say which layer set each value.
 * Rules of a disabled section (health checks, breaker, budget) do not run.
 */
export function checkPolicyConsistency(policy: ResolvedPolicy, provenance?: Provenance): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const rule of rules) {
    if (rule.applies?.(policy) === false || rule.ok(policy)) continue;
    const a = `${rule.path.join('.')} (${formatDuration(rule.value(policy))}${where(provenance, rule.path)})`;
    const b = `${rule.other.join('.')} (${formatDuration(rule.otherValue(policy))}${where(provenance, rule.other)})`;
    issues.push({
      path: rule.path,
      kind: rule.kind,
      message: `${a} must be ${rule.relation} ${b}`,
      expected: `${rule.path.at(-1) ?? ''} ${rule.relation} ${rule.other.at(-1) ?? ''}`,
    });
  }
  if (policy.healthCheck.enabled && policy.healthCheck.interval <= 0) {
    issues.push({
      path: ['healthCheck', 'interval'],
      kind: 'too_small',
      message: 'A health check interval of 0 would probe without pause',
      expected: 'a duration > 0',
    });
  }
  const discovery = policy.pool.discovery.interval;
  if (discovery !== false && discovery <= 0) {
    issues.push({
      path: ['pool', 'discovery', 'interval'],
      kind: 'too_small',
      message: 'A discovery interval of 0 would sniff without pause',
      expected: 'a duration > 0, or false',
    });
  }
  if (policy.circuitBreaker.openFor <= 0 && policy.circuitBreaker.enabled) {
    issues.push({
      path: ['circuitBreaker', 'openFor'],
      kind: 'too_small',
      message: 'An open breaker must stay open for some time',
      expected: 'a duration > 0',
    });
  }
  return issues;
}
