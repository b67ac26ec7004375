import { isPlainObject, setOwn } from './plain-object.js';

/** What a redacted value is replaced with. */
export const REDACTED = '***';

// Compared after lower-casing and dropping `-`/`_`/`.`, so `api_key`, `apiKey` and `API-KEY` all match.
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
  'clientkey',
  'signingkey',
  'encryptionkey',
  'masterkey',
  'hmackey',
  'sslkey',
  'tlskey',
  'credential',
  'auth',
];
// Exact names only: `key` alone (a TLS block's private key) is secret, `keyPrefix` or `routingKey` are not.
const secretKeyExact = new Set(['pwd', 'pass', 'key', 'pfx', 'cookie', 'signature']);

/**
 * True for a key whose value must never be printed: password, secret, token, apiKey, auth,
 * credentials, private keys (`privateKey`, `clientKey`, `signingKey`, a TLS block's `key`) and
 * their spellings (`api_key`, `authorization`, `ssl-key`, ...).
 */
export function isSecretKey(key: string | number): boolean {
  if (typeof key !== 'string') return false;
  const k = key.toLowerCase().replace(/[-_.]/g, '');
  return secretKeyExact.has(k) || secretKeyParts.some((part) => k.includes(part));
}

// A password is cut at whitespace and quotes only: it may itself hold `@`, `/` or `:`, so it runs to the
// LAST `@` of the token (over-redacting a path that holds an `@` is the safe mistake).
const secretChars = String.raw`[^\s"'<>]`;
// `scheme://user:password@host` → `scheme://user:***@host`; the user name stays for diagnosis.
const urlCredentials = new RegExp(
  String.raw`([a-z][a-z0-9+.-]*:\/\/)([^:@/\s"'<>]*):(${secretChars}*)@`,
  'gi',
);
// Go-style DSNs as in the seed documents: `user:password@tcp(host:3306)/db`.
const dsnCredentials = new RegExp(
  String.raw`(^|[\s"'=,])([^:@/\s"'=,]+):(${secretChars}+)@(tcp|unix|udp)\(`,
  'gi',
);
// `password=...` wherever it appears: query strings (`?token=`), key=value DSNs
// (`host=db password=x`, `Password='a b';`), quoted or not. The name may carry a prefix (`sslpassword`).
// An unquoted value runs to whitespace, `&`, `#`, `;`, or a comma that starts the next `name=`.
const keyValueCredentials =
  /(^|[^a-z0-9])([a-z0-9_.-]*?(?:password|passwd|passphrase|pwd|pass|secret|token|api[_-]?key|access[_-]?key|auth|authorization|credentials?))(\s*=\s*)("[^"]*"?|'[^']*'?|(?:[^&#;,\s"']|,(?![a-z0-9_.-]+\s*=))*)/gi;
// PEM private keys anywhere (a pasted key in a message or a string option); to the end if never closed.
const pemPrivateKey =
  /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;

/**
 * Replaces credentials inside a string with `***`: URL user info, DSN passwords (`user:pw@tcp(`,
 * `password=...` pairs, query parameters) and PEM private key blocks.
 */
export function redactString(value: string): string {
  return value
    .replace(
      pemPrivateKey,
      (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----${REDACTED}-----END ${kind}PRIVATE KEY-----`,
    )
    .replace(urlCredentials, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(dsnCredentials, (_m, pre: string, user: string, _pw: string, proto: string) => {
      return `${pre}${user}:${REDACTED}@${proto}(`;
    })
    .replace(
      keyValueCredentials,
      (_m, pre: string, name: string, eq: string) => `${pre}${name}${eq}${REDACTED}`,
    );
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
      setOwn(out, k, copy);
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
