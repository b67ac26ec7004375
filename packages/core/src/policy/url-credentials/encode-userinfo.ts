/**
 * `${VAR}` inside a URL's user info: what a reference inserts there is a raw user name or password, so it is
 * percent-encoded as it is inserted. `redis://default:${REDIS_PW}@host` then works whatever the password holds
 * (`#`, `/`, `?`, `@`, `:`, `%`, a space): unencoded, a `#` or `/` ends the authority early and part of the password
 * becomes the host (`getaddrinfo ENOTFOUND ss`), which every error and log line would then print.
 *
 * Only references written inside the user info are encoded: a whole URL from one variable (`${REDIS_URL}`) is
 * inserted as given, and must be a URL already (validate refuses one whose password was not encoded, see
 * check-urls.ts). The drivers decode the user info (ioredis, mysql2 and the Elasticsearch transport all call
 * `decodeURIComponent` on it), so the server receives the password exactly as the variable holds it.
 */

/** Percent-encodes what one reference inserts into a URL's user info. */
export type UserinfoEncoder = (value: string) => string;

const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

// In the password part, or a user name followed by a written `:`: every reserved character is encoded.
const encodeAll: UserinfoEncoder = encodeURIComponent;

// A reference with no `:` written beside it (`${CREDENTIALS}@host`) may hold `user:password`: its first `:` is the
// separator, as a URL parser would read it, and each side is encoded on its own.
const encodeUserPassword: UserinfoEncoder = (value) => {
  const colon = value.indexOf(':');
  return colon === -1
    ? encodeURIComponent(value)
    : `${encodeURIComponent(value.slice(0, colon))}:${encodeURIComponent(value.slice(colon + 1))}`;
};

/**
 * For a string as written (before interpolation): a function telling, for the offset of a `${…}` reference in it,
 * how to encode what that reference inserts, or `undefined` when the string is not a URL with user info or the
 * reference lies outside it. The authority ends at the first written `/`, `?` or `#` after `scheme://`, and the user
 * info at its last written `@`; text inside references (`${PW:-a/b}`) and after `$${` is not read as structure.
 */
export function userinfoEncoding(
  template: string,
): ((offset: number) => UserinfoEncoder | undefined) | undefined {
  const head = scheme.exec(template);
  if (head === null) return undefined;
  const start = head[0].length;
  let at = -1;
  let colon = -1;
  for (let i = start; i < template.length; i++) {
    const c = template[i];
    if (c === '$' && template.startsWith('$${', i)) {
      i += 2; // `$${` is a literal `${`: not a reference, nothing to skip beyond it
      continue;
    }
    if (c === '$' && template[i + 1] === '{') {
      const close = template.indexOf('}', i);
      if (close === -1) break;
      i = close;
      continue;
    }
    if (c === '/' || c === '?' || c === '#') break;
    if (c === '@') at = i;
    else if (c === ':' && colon === -1) colon = i;
  }
  if (at === -1) return undefined;
  // A `:` written after the last `@` is the port's, not the user info's.
  const separator = colon !== -1 && colon < at ? colon : -1;
  return (offset) => {
    if (offset < start || offset >= at) return undefined;
    return separator === -1 ? encodeUserPassword : encodeAll;
  };
}
