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
    // An interval of 0 is reported on its own (below); comparing with it would only echo that.
    applies: (p) => p.healthCheck.enabled && p.healthCheck.interval > 0,
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

/** A duration that must be > 0 (when its section is enabled): 0 would make the feature nonsense. */
interface PositiveRule {
  path: string[];
  applies(p: ResolvedPolicy): boolean;
  value(p: ResolvedPolicy): number;
  /** Why 0 makes no sense, for the message. */
  why: string;
}

// `retry.attemptTimeout` and `retry.deadline` are not here: 0 means "no limit" for them.
const positive: PositiveRule[] = [
  {
    path: ['retry', 'budget', 'window'],
    applies: (p) => p.retry.budget.enabled,
    value: (p) => p.retry.budget.window,
    why: 'would make the budget count nothing, so it would refuse every retry',
  },
  {
    path: ['healthCheck', 'interval'],
    applies: (p) => p.healthCheck.enabled,
    value: (p) => p.healthCheck.interval,
    why: 'would probe without pause',
  },
  {
    path: ['healthCheck', 'timeout'],
    applies: (p) => p.healthCheck.enabled,
    value: (p) => p.healthCheck.timeout,
    why: 'would fail every probe at once',
  },
  {
    path: ['reconnect', 'connectTimeout'],
    applies: () => true,
    value: (p) => p.reconnect.connectTimeout,
    why: 'would abandon every connect attempt at once',
  },
  {
    path: ['circuitBreaker', 'window'],
    applies: (p) => p.circuitBreaker.enabled,
    value: (p) => p.circuitBreaker.window,
    why: 'would see no calls, so a rate breaker would never open',
  },
  {
    path: ['circuitBreaker', 'openFor'],
    applies: (p) => p.circuitBreaker.enabled,
    value: (p) => p.circuitBreaker.openFor,
    why: 'would let an open breaker through at once: it must stay open for some time',
  },
  {
    path: ['concurrency', 'window'],
    applies: (p) => p.concurrency.limit === 'adaptive',
    value: (p) => p.concurrency.window,
    why: 'would measure no latency: an adaptive limit needs a window to average over',
  },
  {
    path: ['concurrency', 'baselineWindow'],
    applies: (p) => p.concurrency.limit === 'adaptive',
    value: (p) => p.concurrency.baselineWindow,
    why: 'would take every slowdown as the new normal at once, so the limit would never fall',
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
  for (const rule of positive) {
    if (!rule.applies(policy) || rule.value(policy) > 0) continue;
    issues.push({
      path: rule.path,
      kind: 'too_small',
      message: `${rule.path.join('.')} (${formatDuration(rule.value(policy))}${where(provenance, rule.path)}) ${rule.why}`,
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
  return issues;
}
