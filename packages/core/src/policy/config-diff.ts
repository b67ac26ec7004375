// What a reload of one resolved configuration over another changes, target by target, in words shared by the
// manager's reload (its span, event and log) and `reconnect diff`: one description, never two.
import { isPlainObject } from './plain-object.js';
import { REDACTED, isSecretKey, redactString } from './redact.js';
import type { ResolvedPolicy } from './resolved.js';
import { policyValueKind } from './schema-lookup.js';
import { formatDuration } from './units.js';

/** One target as a diff sees it: what `resolveConfig` produces per name (a resolved policy, raw options). */
export interface DiffableTarget {
  driver: string;
  options?: unknown;
  required?: boolean;
  policy: ResolvedPolicy;
}

/**
 * Where a change lands, which decides how a live target takes it: `retry` / `circuitBreaker` from the next
 * operation, `concurrency` from the next operation (a new limiter), `healthCheck` on the next probe, `reconnect` from the next attempt, `pool` on the live node pool,
 * `connection` (driver options or the driver) by replacing that target, `required` at once, `target` added or
 * removed.
 */
export type ChangeArea =
  | 'retry'
  | 'healthCheck'
  | 'reconnect'
  | 'circuitBreaker'
  | 'pool'
  | 'concurrency'
  | 'connection'
  | 'required'
  | 'target';

/** One changed leaf of one target. Values are display text, secrets redacted. */
export interface ConfigChange {
  target: string;
  area: ChangeArea;
  /** The leaf inside the target: `retry.maxRetries`, `options.url`, `driver`, `required`; `''` for a whole target. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  /** The old value as text (absent when added). */
  from?: string;
  /** The new value as text (absent when removed). */
  to?: string;
}

/** What a reload would change: targets added and removed, and every changed leaf of the targets kept. */
export interface ConfigDiff {
  added: string[];
  removed: string[];
  changes: ConfigChange[];
}

/** How a live target takes a change in `area`, as `reconnect diff` and the reload log say it. */
export const changeEffects: Readonly<Record<ChangeArea, string>> = {
  retry: 'from the next operation',
  circuitBreaker: 'from the next operation (a new breaker)',
  healthCheck: 'from the next probe',
  reconnect: 'from the next reconnect attempt',
  pool: 'on the live node pool',
  concurrency: 'from the next operation (a new limiter, learning from its initial limit)',
  connection: 'the target is replaced: new client first, then the old one closes',
  required: 'at once',
  target: '',
};

/** Compares two resolved configurations target by target. Pure; functions compare by identity. */
export function diffConfigs(
  before: Readonly<Record<string, DiffableTarget>>,
  after: Readonly<Record<string, DiffableTarget>>,
): ConfigDiff {
  const added = Object.keys(after).filter((n) => !Object.prototype.hasOwnProperty.call(before, n));
  const removed = Object.keys(before).filter((n) => !Object.prototype.hasOwnProperty.call(after, n));
  const changes: ConfigChange[] = [];
  for (const [name, next] of Object.entries(after)) {
    const old = before[name];
    if (old === undefined) continue;
    changes.push(...diffTarget(name, old, next));
  }
  for (const name of added) changes.push({ target: name, area: 'target', path: '', kind: 'added' });
  for (const name of removed) changes.push({ target: name, area: 'target', path: '', kind: 'removed' });
  return { added, removed, changes };
}

/** The changes of one target kept by a reload: its driver, options, `required`, and every policy leaf. */
export function diffTarget(name: string, before: DiffableTarget, after: DiffableTarget): ConfigChange[] {
  const out: ConfigChange[] = [];
  if (before.driver !== after.driver)
    out.push(change(name, 'connection', 'driver', before.driver, after.driver));
  for (const [path, a, b] of differingLeaves(before.options, after.options, 'options'))
    out.push(optionChange(name, path, a, b));
  if ((before.required ?? true) !== (after.required ?? true))
    out.push(
      change(name, 'required', 'required', String(before.required ?? true), String(after.required ?? true)),
    );
  for (const [path, a, b] of differingLeaves(before.policy, after.policy, '')) {
    // The pool builds its selector once: a new one comes with a new target.
    const area = path.startsWith('pool.selector') ? 'connection' : (path.split('.')[0] as ChangeArea);
    out.push(leafChange(name, area, path, a, b, policyText(path)));
  }
  return out;
}

/** One change in words: `cache: healthCheck.interval 10s → 200ms`, `cache: added`, `db: options.url changed`. */
export function describeChange(c: ConfigChange): string {
  if (c.area === 'target')
    return `${c.target}: ${c.kind === 'added' ? 'added (started)' : 'removed (stopped after its in-flight operations)'}`;
  const what =
    c.kind === 'added'
      ? `${c.path} set to ${c.to ?? ''}`
      : c.kind === 'removed'
        ? `${c.path} unset (was ${c.from ?? ''})`
        : `${c.path} ${c.from ?? ''} → ${c.to ?? ''}`;
  return `${c.target}: ${what}`;
}

/** The dotted path of a change across the whole file (`cache.retry.maxRetries`), for a span attribute. */
export function changePath(c: ConfigChange): string {
  return c.path === '' ? c.target : `${c.target}.${c.path}`;
}

// Every leaf whose value differs, as [path, old, new]; a missing side is `undefined`.
function differingLeaves(a: unknown, b: unknown, prefix: string): [string, unknown, unknown][] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differingLeaves(a[k], b[k], prefix === '' ? k : `${prefix}.${k}`));
  }
  if (isPlainObject(a) && b === undefined) return differingLeaves(a, {}, prefix);
  if (a === undefined && isPlainObject(b)) return differingLeaves({}, b, prefix);
  return sameValue(a, b) ? [] : [[prefix, a, b]];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) return differingLeaves(a, b, '').length === 0;
  return false;
}

function change(target: string, area: ChangeArea, path: string, from: string, to: string): ConfigChange {
  return { target, area, path, kind: 'changed', from, to };
}

function leafChange(
  target: string,
  area: ChangeArea,
  path: string,
  a: unknown,
  b: unknown,
  show: (v: unknown) => string,
): ConfigChange {
  const c: ConfigChange = {
    target,
    area,
    path,
    kind: a === undefined ? 'added' : b === undefined ? 'removed' : 'changed',
  };
  if (a !== undefined) c.from = show(a);
  if (b !== undefined) c.to = show(b);
  return c;
}

// Driver options may hold credentials: a value under a secret key is never shown, any other string is redacted.
function optionChange(target: string, path: string, a: unknown, b: unknown): ConfigChange {
  const secret = path.split('.').some((p) => isSecretKey(p));
  return leafChange(target, 'connection', path, a, b, (v) => (secret ? REDACTED : optionText(v)));
}

function optionText(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(redactString(v));
  if (Array.isArray(v)) return `[${v.map(optionText).join(', ')}]`;
  if (isPlainObject(v)) return '{…}';
  return String(v);
}

// Policy values the way the file writes them: `10s`, `20%`, `unlimited`.
function policyText(path: string): (v: unknown) => string {
  const kind = policyValueKind(path.split('.'));
  return (v) => {
    if (typeof v === 'function') return 'ƒ (defined in code)';
    if (v === Number.POSITIVE_INFINITY) return 'unlimited';
    if (typeof v === 'number' && kind === 'duration') return formatDuration(v);
    if (typeof v === 'number' && kind === 'fraction') return `${Math.round(v * 1000) / 10}%`;
    if (Array.isArray(v)) return `[${v.map(String).join(', ')}]`;
    if (typeof v === 'string') return redactString(v);
    return String(v);
  };
}
