import type { z } from 'zod';
import type { ConfigIssue } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import { fieldTypeAt, knownKeysAt } from './schema-lookup.js';

export { knownKeysAt, policyValueKind } from './schema-lookup.js';

/** Options of {@link zodIssuesToConfigIssues}. */
export interface ZodIssueConversionOptions {
  /** The file the validated value came from. */
  file?: string | undefined;
  /** Where the validated value sits in the configuration, e.g. `['targets', 'main_db', 'options']`. */
  basePath?: readonly (string | number)[];
  /** The schema that produced the issues; lets unknown keys get a "did you mean" hint. */
  schema?: z.ZodType;
}

type Path = (string | number)[];
type ZodIssue = z.core.$ZodIssue;

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(' | ');
}

function describeBound(
  issue: { minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean },
  side: 'min' | 'max',
  origin: string,
): string {
  const n = side === 'min' ? issue.minimum : issue.maximum;
  const op = side === 'min' ? (issue.inclusive === false ? '>' : '≥') : issue.inclusive === false ? '<' : '≤';
  if (origin === 'string')
    return side === 'min' && Number(n) === 1 ? 'a non-empty string' : `a string of length ${op} ${String(n)}`;
  if (origin === 'array') return `a list of length ${op} ${String(n)}`;
  return `a number ${op} ${String(n)}`;
}

const typeWords: Record<string, string> = {
  object: 'an object (a mapping of keys to values)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  function: 'a function',
};

// Zod reports the input only when parsing with `reportInput: true`; otherwise its message says what it got.
function received(issue: ZodIssue): { known: boolean; value?: unknown; word?: string } {
  if ('input' in issue) return { known: true, value: issue.input };
  const m = /received (\w+)/.exec(issue.message);
  return m === null ? { known: false } : { known: false, word: m[1] as string };
}

function isMissing(issue: ZodIssue): boolean {
  const r = received(issue);
  if (r.known) return r.value === undefined;
  if (r.word !== undefined) return r.word === 'undefined';
  return (
    issue.code === 'invalid_union' && issue.errors.flat().some((i) => /received undefined/.test(i.message))
  );
}

function gotWord(issue: ZodIssue): string {
  const r = received(issue);
  if (r.known) return describeType(r.value);
  const words: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    boolean: 'a boolean',
    object: 'an object',
    array: 'a list',
    function: 'a function',
    date: 'a date',
  };
  return r.word === undefined ? 'something else' : (words[r.word] ?? r.word);
}

function unionAlternatives(issue: Extract<ZodIssue, { code: 'invalid_union' }>): ZodIssue[][] {
  return issue.errors.filter((branch) => branch.length > 0);
}

function convertOne(issue: ZodIssue, base: Path, opts: ZodIssueConversionOptions, out: ConfigIssue[]): void {
  const path: Path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  const push = (kind: string, message: string, expected?: string, at: Path = path): void => {
    const ci: ConfigIssue = { path: at, kind, message };
    if (opts.file !== undefined) ci.file = opts.file;
    if (expected !== undefined) ci.expected = expected;
    out.push(ci);
  };
  const relative = path.slice((opts.basePath ?? []).length);
  switch (issue.code) {
    case 'invalid_type': {
      const field = fieldTypeAt(opts.schema, relative);
      if (field !== undefined && !isMissing(issue)) {
        push(field.kind, `${field.message}: got ${gotWord(issue)}`, field.expected);
        return;
      }
      const expected = typeWords[issue.expected] ?? issue.expected;
      if (isMissing(issue)) push('missing', 'Required value is missing', expected);
      else push('invalid_type', `Wrong type: got ${gotWord(issue)}`, expected);
      return;
    }
    case 'unrecognized_keys': {
      const known = opts.schema ? knownKeysAt(opts.schema, relative) : [];
      for (const key of issue.keys) {
        const hint = didYouMean(key, known);
        const message = `Unknown key "${key}"${hint === undefined ? '' : ` — did you mean "${hint}"?`}`;
        push(
          'unrecognized_keys',
          message,
          known.length === 0
            ? undefined
            : known.length <= 12
              ? `one of ${known.join(', ')}`
              : `one of ${known.slice(0, 10).join(', ')}, … (${known.length} keys)`,
          [...path, key],
        );
      }
      return;
    }
    case 'invalid_value': {
      if (isMissing(issue)) {
        push(
          'missing',
          'Required value is missing',
          issue.values.length === 1 ? quoteList(issue.values) : `one of ${quoteList(issue.values)}`,
        );
        return;
      }
      // The value itself is never quoted: it may have come from a secret environment variable.
      const hint =
        typeof issue.input === 'string'
          ? didYouMean(
              issue.input,
              issue.values.filter((v): v is string => typeof v === 'string'),
            )
          : undefined;
      push(
        'invalid_value',
        `Invalid value${hint === undefined ? '' : ` — did you mean "${hint}"?`}`,
        issue.values.length === 1 ? quoteList(issue.values) : `one of ${quoteList(issue.values)}`,
      );
      return;
    }
    case 'too_small':
      push('too_small', 'Value is too small', describeBound(issue, 'min', issue.origin));
      return;
    case 'too_big':
      push('too_big', 'Value is too large', describeBound(issue, 'max', issue.origin));
      return;
    case 'invalid_format':
      push(
        'invalid_format',
        'Value has the wrong format',
        issue.pattern === undefined ? issue.format : `to match ${issue.pattern}`,
      );
      return;
    case 'not_multiple_of':
      push('not_multiple_of', 'Value is not a multiple', `a multiple of ${issue.divisor}`);
      return;
    case 'invalid_key':
      // A name is not a secret: quoting it helps find it.
      push(
        'invalid_key',
        `Invalid name "${String(path.at(-1))}"`,
        'letters, digits, _, . and -, starting with a letter or _',
      );
      return;
    case 'invalid_element':
      for (const inner of issue.issues) convertOne(inner, path, opts, out);
      return;
    case 'invalid_union': {
      const field = fieldTypeAt(opts.schema, relative);
      if (field !== undefined && !isMissing(issue)) {
        push(field.kind, `${field.message}: got ${gotWord(issue)}`, field.expected);
        return;
      }
      const branches = unionAlternatives(issue);
      // A branch whose complaint is not "wrong type right here" is the one the author meant: report it alone.
      const meant = branches.filter(
        (b) =>
          !b.every(
            (i) =>
              i.path.length === 0 &&
              (i.code === 'invalid_type' || i.code === 'invalid_value' || i.code === 'custom'),
          ),
      );
      if (
        meant.length === 1 ||
        (meant.length > 1 && issue.input !== null && typeof issue.input === 'object')
      ) {
        for (const inner of meant[0] as ZodIssue[]) convertOne(inner, path, opts, out);
        return;
      }
      const expected = [
        ...new Set(
          branches
            .flat()
            .map((i) =>
              i.code === 'invalid_type'
                ? (typeWords[i.expected] ?? i.expected)
                : i.code === 'invalid_value'
                  ? quoteList(i.values)
                  : i.code === 'custom'
                    ? 'a function (in TypeScript/JavaScript configs)'
                    : i.message,
            ),
        ),
      ].join(' or ');
      const literals = branches.flat().flatMap((i) => (i.code === 'invalid_value' ? i.values : []));
      if (isMissing(issue)) push('missing', 'Required value is missing', expected);
      else if (literals.some((v) => typeof v === typeof issue.input)) {
        const hint =
          typeof issue.input === 'string'
            ? didYouMean(
                issue.input,
                literals.filter((v): v is string => typeof v === 'string'),
              )
            : undefined;
        push(
          'invalid_value',
          `Invalid value${hint === undefined ? '' : ` — did you mean "${hint}"?`}`,
          expected,
        );
      } else push('invalid_type', `Wrong type: got ${gotWord(issue)}`, expected);
      return;
    }
    case 'custom': {
      const params = (issue as { params?: { kind?: unknown; expected?: unknown } }).params;
      const kind = typeof params?.kind === 'string' ? params.kind : 'custom';
      const expected = typeof params?.expected === 'string' ? params.expected : undefined;
      push(kind, issue.message, expected);
      return;
    }
    default:
      push((issue as { code?: string }).code ?? 'invalid', (issue as { message: string }).message);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isNaN(value) ? 'NaN' : 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    case 'function':
      return 'a function';
    default:
      return typeof value;
  }
}

/**
 * Turns zod issues into {@link ConfigIssue}s: full paths (`basePath` + the issue's path), a kind,
 * what was expected, and a "did you mean" hint for unknown keys and enum values. Messages never
 * quote a value from under a secret key or one that looks like a credential.
 */
export function zodIssuesToConfigIssues(
  issues: readonly ZodIssue[],
  options: ZodIssueConversionOptions = {},
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const base: Path = [...(options.basePath ?? [])];
  for (const issue of issues) convertOne(issue, base, options, out);
  return out;
}
