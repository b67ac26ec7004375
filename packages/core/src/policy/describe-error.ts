import { isSecretKey, REDACTED, redactString } from './redact.js';

/**
 * Code and message of an error for health snapshots and error messages, with credentials removed: URL
 * user info, DSN passwords and secret query parameters, and any of `secrets` (the target's own secret
 * option values) that a driver error might quote.
 */
export function describeError(
  error: unknown,
  secrets: readonly string[] = [],
): { code?: string; message: string } | undefined {
  if (error === undefined || error === null) return undefined;
  const scrub = (text: string): string => {
    let out = redactString(text);
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    return out;
  };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number'
      ? { code: String(code), message: scrub(error.message) }
      : { message: scrub(error.message) };
  }
  return { message: scrub(typeof error === 'string' ? error : (JSON.stringify(error) ?? typeof error)) };
}

/**
 * Every string under a secret key (by name, or listed in the driver's `secretKeys`) of the options: what
 * {@link describeError} must hide when a driver error quotes it.
 */
export function secretValues(options: unknown, extraKeys: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (value: unknown, path: string, secret: boolean): void => {
    if (typeof value === 'string') {
      // Very short values would redact innocent text; they are not worth hiding from a message either.
      if (secret && value.length >= 4) out.push(value);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      walk(child, childPath, secret || isSecretKey(key) || extraKeys.includes(childPath));
    }
  };
  walk(options, '', false);
  return out;
}
