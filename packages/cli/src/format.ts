import {
  formatConfigPath,
  formatDuration,
  policyValueKind,
  type ConfigIssue,
  type Provenance,
} from '@reconnect/core';
import path from 'node:path';

/** Prints one resolved policy value the way a person would write it in the file. */
export function formatValue(leafPath: string, value: unknown): string {
  if (typeof value === 'function') return 'ƒ (defined in code)';
  if (value === Number.POSITIVE_INFINITY) return 'unlimited';
  // The schema says which fields hold milliseconds or fractions, so they print as `10s` and `20%`.
  const kind = typeof value === 'number' ? policyValueKind(leafPath.split('.')) : undefined;
  if (typeof value === 'number' && kind === 'duration') return formatDuration(value);
  if (typeof value === 'number' && kind === 'fraction') return `${Math.round(value * 1000) / 10}%`;
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map(String).join(', ')}]`;
  return String(value);
}

/** Every leaf of a nested object as `[dotted.path, value]`, in the object's own order. */
export function leaves(value: unknown, prefix = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, value]];
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out.push(...leaves(v, prefix === '' ? k : `${prefix}.${k}`));
  }
  return out;
}

/** A policy as aligned `key  value  ← source` lines under one heading per section. */
export function formatPolicy(policy: object, provenance: Provenance, indent = '    '): string[] {
  const rows = leaves(policy).map(([p, v]) => {
    const [head = '', ...rest] = p.split('.');
    return { p, head, key: rest.join('.'), shown: formatValue(p, v) };
  });
  const width = Math.max(...rows.map((r) => r.key.length));
  const valueWidth = Math.min(24, Math.max(...rows.map((r) => r.shown.length)));
  const lines: string[] = [];
  let section = '';
  for (const r of rows) {
    if (r.head !== section) {
      section = r.head;
      lines.push(`  ${r.head}`);
    }
    lines.push(
      `${indent}${r.key.padEnd(width)}  ${r.shown.padEnd(valueWidth)}  ← ${provenance[r.p] ?? 'default'}`,
    );
  }
  return lines;
}

/** A file path relative to `cwd` when that is shorter, for friendlier messages. */
export function displayPath(file: string | undefined, cwd: string): string | undefined {
  if (file === undefined) return undefined;
  const rel = path.relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Every issue of a ConfigError, one per line, file first. */
export function formatIssues(issues: readonly ConfigIssue[], cwd: string): string[] {
  return issues.map((i) => {
    const file = displayPath(i.file, cwd);
    const where = `${file === undefined ? '' : `${file}: `}${formatConfigPath(i.path)}`;
    return `  ✗ ${where}: ${i.message}${i.expected === undefined ? '' : ` (expected ${i.expected})`} [${i.kind}]`;
  });
}

/** Replaces values JSON cannot carry (Infinity, functions) with readable stand-ins. */
export function jsonSafe(value: unknown): unknown {
  if (value === Number.POSITIVE_INFINITY) return 'unlimited';
  if (typeof value === 'function') return '[function]';
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonSafe(v)]),
    );
  }
  return value;
}
