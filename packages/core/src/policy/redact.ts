/** What a redacted value is replaced with. */
export const REDACTED = '***';

// Compared after lower-casing and dropping `-`/`_`, so `api_key`, `apiKey` and `API-KEY` all match.
const secretKeyParts = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'sessionkey',
  'credential',
  'auth',
];
const secretKeyExact = new Set(['pwd', 'pass', 'key', 'cookie', 'signature']);

/**
 * True for a key whose value must never be printed: password, secret, token, apiKey, auth,
 * credentials and their spellings (`api_key`, `authorization`, `privateKey`, ...).
 */
export function isSecretKey(key: string | number): boolean {
  if (typeof key !== 'string') return false;
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return secretKeyExact.has(k) || secretKeyParts.some((part) => k.includes(part));
}

// `scheme://user:password@host` → `scheme://user:***@host`; the user name stays for diagnosis.
const urlCredentials = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]*)@/gi;
// Go-style DSNs as in the seed documents: `user:password@tcp(host:3306)/db`.
const dsnCredentials = /(^|[\s"'=,])([^:@/\s"'=,]+):([^@/\s"']+)@(tcp|unix|udp)\(/gi;
// `?password=...&token=...` in query strings.
const queryCredentials =
  /([?&;](?:password|passwd|pass|pwd|secret|token|api[_-]?key|access[_-]?token|auth|authorization)=)[^&#;\s]*/gi;

/** Replaces credentials inside a string (URL user info, DSN passwords, secret query parameters) with `***`. */
export function redactString(value: string): string {
  return value
    .replace(urlCredentials, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(dsnCredentials, (_m, pre: string, user: string, _pw: string, proto: string) => {
      return `${pre}${user}:${REDACTED}@${proto}(`;
    })
    .replace(queryCredentials, (_m, name: string) => `${name}${REDACTED}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A deep copy of `value` safe to print: values under secret keys become `***`, credentials
 * inside strings (URLs, DSNs, query strings) are replaced, cycles are cut.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, new WeakSet()) as T;
}

function redact(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) {
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    const out = Array.from(value as unknown[], (v) => redact(v, seen));
    seen.delete(value);
    return out;
  }
  if (isPlainObject(value)) {
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const copy = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redact(v, seen);
      Object.defineProperty(out, k, { value: copy, enumerable: true, writable: true, configurable: true });
    }
    seen.delete(value);
    return out;
  }
  if (value instanceof URL) return redactString(value.href);
  return value;
}

/** True when any segment of `path` is a secret key: the value at that path must not be printed. */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  return path.some((p) => isSecretKey(p));
}
