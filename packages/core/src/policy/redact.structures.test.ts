// redactSecrets copies any value: what it does with cycles, shared objects, URL objects, numeric keys (array
// indexes are never secret) and a secret key that holds nothing to hide.
import { describe, expect, it } from 'vitest';
import { isSecretKey, isSecretPath, redactSecrets } from './redact.js';

describe('redactSecrets: cycles', () => {
  it('cuts an object that contains itself', () => {
    const a: Record<string, unknown> = { host: 'h' };
    a['self'] = a;
    expect(redactSecrets(a)).toStrictEqual({ host: 'h', self: '[Circular]' });
  });

  it('cuts an array that contains itself', () => {
    const list: unknown[] = ['x'];
    list.push(list);
    expect(redactSecrets({ list })).toStrictEqual({ list: ['x', '[Circular]'] });
  });

  it('copies an object or array met twice (shared, not circular) both times', () => {
    const node = { url: 'redis://u:pw@h' };
    const tags = ['a'];
    expect(redactSecrets({ a: node, b: [node, node], t1: tags, t2: tags })).toStrictEqual({
      a: { url: 'redis://u:***@h' },
      b: [{ url: 'redis://u:***@h' }, { url: 'redis://u:***@h' }],
      t1: ['a'],
      t2: ['a'],
    });
  });
});

describe('redactSecrets: values under secret keys', () => {
  it('shows that a secret is unset (undefined, null, empty) instead of hiding it', () => {
    expect(redactSecrets({ password: undefined, token: null, secret: '' })).toStrictEqual({
      password: undefined,
      token: null,
      secret: '',
    });
  });

  it('hides any other value, whatever its type', () => {
    expect(redactSecrets({ password: 0, token: false, auth: { user: 'u' }, pfx: ['a'] })).toStrictEqual({
      password: '***',
      token: '***',
      auth: '***',
      pfx: '***',
    });
  });
});

describe('redactSecrets: other values', () => {
  it('turns a URL object into its redacted text', () => {
    expect(redactSecrets({ node: new URL('https://elastic:changeme@es:9200/') })).toStrictEqual({
      node: 'https://elastic:***@es:9200/',
    });
  });

  it('hands back numbers, booleans, null and class instances other than URL as they are', () => {
    const when = new Date(0);
    const out = redactSecrets({ n: 1, b: true, z: null, when });
    expect(out).toStrictEqual({ n: 1, b: true, z: null, when });
    expect(out.when).toBe(when);
  });
});

describe('isSecretKey and isSecretPath: array indexes', () => {
  it('an index is never secret', () => {
    expect(isSecretKey(0)).toBe(false);
    expect(isSecretKey(3)).toBe(false);
  });

  it('a path is secret when one of its names is, whatever its indexes', () => {
    expect(isSecretPath(['nodes', 0, 'host'])).toBe(false);
    expect(isSecretPath([])).toBe(false);
    expect(isSecretPath(['nodes', 0, 'auth', 'user'])).toBe(true);
    expect(isSecretPath(['tls', 'key'])).toBe(true);
  });
});

describe('isSecretKey: the exact names', () => {
  it.each(['pwd', 'pass', 'key', 'pfx', 'cookie', 'signature', 'Cookie', 'PASS', 'Signature'])(
    '%s is secret',
    (key) => expect(isSecretKey(key)).toBe(true),
  );
  it.each(['passenger', 'keys', 'cookies_enabled', 'signatureVersion', 'compass'])(
    '%s only contains one, and is not',
    (key) => expect(isSecretKey(key)).toBe(false),
  );
});
