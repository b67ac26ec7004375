import type { ConfigIssue } from '../../errors.js';
import { isPlainObject } from '../plain-object.js';

/**
 * URLs with credentials in a target's options, checked after interpolation: a password with `#`, `/`, `?` or `@`
 * that was not percent-encoded (typically a whole URL taken from one variable, `${REDIS_URL}`) makes the URL
 * parser cut the authority early, so part of the password becomes the host or the path, and every connect error,
 * log line and `check` row would print it (`getaddrinfo ENOTFOUND ss`). Such a URL is refused with where it is
 * and what to do; its text is never quoted, since it holds the secret.
 */

const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const badPercent = /%(?![0-9A-Fa-f]{2})/;

const expected =
  'scheme://user:password@host with the user and password percent-encoded (encodeURIComponent), or the password written as its own ${VAR} inside the URL, which Reconnect percent-encodes';

/** Why a URL-shaped string with credentials cannot be what its author meant, or `undefined`. */
function problem(text: string): string | undefined {
  // Only strings that carry user info: a URL without credentials has nothing to leak, and its driver checks it.
  if (!scheme.test(text) || !text.includes('@')) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Not a valid URL: a user name or password in it probably holds a character that must be percent-encoded (/ ? # @ % or a space); its text is not shown';
  }
  if (`${url.pathname}${url.search}${url.hash}`.includes('@'))
    return 'The URL has an @ after its host: a password holding /, ? or # that is not percent-encoded ends the host early, and part of the password would be read as the host or path; its text is not shown';
  const userinfo = text.slice(text.indexOf('//') + 2, text.lastIndexOf('@'));
  if ((url.username !== '' || url.password !== '') && badPercent.test(userinfo))
    return 'A % in the URL’s user name or password does not start a percent-encoding (%XX): a password holding % must be percent-encoded; its text is not shown';
  return undefined;
}

/** Issues for every URL with credentials under `value` (a target's options) that would not parse as meant. */
export function urlIssues(
  value: unknown,
  path: readonly (string | number)[],
  file: string | undefined,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const walk = (v: unknown, at: (string | number)[], depth: number): void => {
    if (depth > 64) return;
    if (typeof v === 'string') {
      const message = problem(v);
      if (message === undefined) return;
      const i: ConfigIssue = { path: at, kind: 'url_credentials', message, expected };
      if (file !== undefined) i.file = file;
      issues.push(i);
    } else if (Array.isArray(v)) v.forEach((item: unknown, k) => walk(item, [...at, k], depth + 1));
    else if (isPlainObject(v)) for (const [k, item] of Object.entries(v)) walk(item, [...at, k], depth + 1);
  };
  walk(value, [...path], 0);
  return issues;
}
