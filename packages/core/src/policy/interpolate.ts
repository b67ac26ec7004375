import type { ConfigIssue } from '../errors.js';
import { isPlainObject, setOwn } from './plain-object.js';
import { isSecretPath } from './redact.js';
import { userinfoEncoding } from './url-credentials/encode-userinfo.js';

/** Where `${NAME}` values come from: usually `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The result of {@link interpolate}: a copy with every `${NAME}` replaced, and the problems met. */
export interface Interpolated<T> {
  value: T;
  issues: ConfigIssue[];
}

// `$${` is an escape for a literal `${`; `${NAME}` and `${NAME:-default}` read the environment.
const reference = /\$\$\{|\$\{([^}]*)\}/g;
const validName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const maxDepth = 64;
const wholeReference = /^\$\{[^}]*\}$/;
const plainNumber = /^-?\d+(\.\d+)?$/;

// `"3"` → 3, `"true"` → true; anything else (`5s`, `1e3`, ` 3`) stays the string it is.
function scalar(text: string): string | number | boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  return plainNumber.test(text) ? Number(text) : text;
}

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of `value` (object keys excluded),
 * `$${` standing for a literal `${`. A reference written inside a URL's user info
 * (`redis://user:${PASSWORD}@host`) inserts its value percent-encoded, so any password works there. A missing variable without a default, a malformed reference,
 * a cycle or absurd nesting become issues naming the variable and the path; the value is left as written.
 */
export function interpolate<T>(
  value: T,
  env: Environment,
  options: {
    file?: string | undefined;
    basePath?: readonly (string | number)[];
    /**
     * Where a string that is exactly one reference (`"${N:-3}"`) whose value is a plain number or
     * `true`/`false` becomes that number or boolean: the policy parts of a file, where such fields
     * are typed, and not driver options, where a numeric-looking password must stay a string.
     */
    coerceAt?: (path: readonly (string | number)[]) => boolean;
  } = {},
): Interpolated<T> {
  const issues: ConfigIssue[] = [];
  const issue = (path: (string | number)[], kind: string, message: string, expected?: string): void => {
    const i: ConfigIssue = { path, kind, message };
    if (options.file !== undefined) i.file = options.file;
    if (expected !== undefined) i.expected = expected;
    issues.push(i);
  };

  const replaceIn = (text: string, path: (string | number)[]): string => {
    let failed = false;
    // What a reference inserts into a URL's user info is a raw name or password: percent-encoded (url-credentials/encode-userinfo.ts).
    const encodingAt = userinfoEncoding(text);
    const inserted = (value: string, offset: number): string => encodingAt?.(offset)?.(value) ?? value;
    const out = text.replace(reference, (match, body: string | undefined, offset: number) => {
      // `$${` is the one alternative without a group.
      if (body === undefined) return '${';
      const sep = body.indexOf(':-');
      const name = sep === -1 ? body : body.slice(0, sep);
      if (!validName.test(name)) {
        failed = true;
        // Never quoted: what looks like a reference may be part of a password (`Zx${9k!Qw7}pp`).
        issue(
          path,
          'invalid_env_reference',
          'Invalid variable reference: a name must be letters, digits and _, not starting with a digit (write $${ for a literal ${)',
          '${NAME} or ${NAME:-default}',
        );
        return match;
      }
      const found = env[name];
      if (found !== undefined && found !== '') return inserted(found, offset);
      if (sep !== -1) return inserted(body.slice(sep + 2), offset);
      if (found === '') return found;
      failed = true;
      // The name helps most, but under a secret key the "reference" may be a slice of the password itself.
      if (isSecretPath(path)) {
        issue(
          path,
          'missing_env',
          'An environment variable this value refers to is not set (its name is not shown: the value is secret)',
          'the variable to be set, or a default: ${NAME:-value}',
        );
      } else {
        issue(
          path,
          'missing_env',
          `Environment variable ${name} is not set`,
          `${name} to be set, or a default: \${${name}:-value}`,
        );
      }
      return match;
    });
    return failed ? text : out;
  };

  const walk = (v: unknown, path: (string | number)[], ancestors: Set<object>): unknown => {
    if (typeof v === 'string') {
      const out = replaceIn(v, path);
      // A reference left as written (an issue) is still `${…}`, which scalar() keeps a string.
      return wholeReference.test(v) && options.coerceAt?.(path) === true ? scalar(out) : out;
    }
    if (typeof v !== 'object' || v === null) return v;
    if (ancestors.has(v)) {
      issue(path, 'circular', 'The value refers to itself', 'a tree of plain values');
      return undefined;
    }
    if (path.length - (options.basePath?.length ?? 0) > maxDepth) {
      issue(path, 'too_deep', `Nested more than ${maxDepth} levels deep`);
      return undefined;
    }
    if (Array.isArray(v)) {
      ancestors.add(v);
      // Array.from, not v.map: map builds its result through `v.constructor`, which a document can set.
      const out = Array.from(v, (item: unknown, i) => walk(item, [...path, i], ancestors));
      ancestors.delete(v);
      return out;
    }
    if (!isPlainObject(v)) return v;
    ancestors.add(v);
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) setOwn(out, k, walk(item, [...path, k], ancestors));
    ancestors.delete(v);
    return out;
  };

  const result = walk(value, [...(options.basePath ?? [])], new Set()) as T;
  return { value: result, issues };
}
