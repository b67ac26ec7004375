import { describe, expect, it } from 'vitest';
import { isSecretKey, redactSecrets, redactString } from './redact.js';

describe('isSecretKey', () => {
  it.each([
    'password',
    'PASSWORD',
    'secret',
    'token',
    'apiKey',
    'api_key',
    'auth',
    'authorization',
    'credentials',
    'privateKey',
    'pwd',
  ])('%s is secret', (key) => expect(isSecretKey(key)).toBe(true));
  it.each(['host', 'port', 'user', 'username', 'nodes', 'keyPrefix', 'db'])('%s is not', (key) =>
    expect(isSecretKey(key)).toBe(false),
  );
});

describe('redactString', () => {
  it('hides the password of URL credentials and keeps the user', () => {
    expect(redactString('mysql://root:hunter2@db:3306/app')).toBe('mysql://root:***@db:3306/app');
    expect(redactString('redis://:hunter2@cache:6379')).toBe('redis://:***@cache:6379');
  });
  it('hides Go-style DSN passwords and secret query parameters', () => {
    expect(redactString('user:hunter2@tcp(127.0.0.1:3306)/db')).toBe('user:***@tcp(127.0.0.1:3306)/db');
    expect(redactString('http://h/?a=1&password=hunter2&b=2')).toBe('http://h/?a=1&password=***&b=2');
  });
  it('leaves URLs without credentials alone', () => {
    expect(redactString('http://127.0.0.1:9200')).toBe('http://127.0.0.1:9200');
  });
});

describe('redactSecrets', () => {
  it('replaces values under secret keys and credentials in strings, deeply, without touching the input', () => {
    const input = {
      uri: 'mysql://root:hunter2@db/app',
      password: 'hunter2',
      nested: { auth: { username: 'u', password: 'p' }, nodes: ['http://u:hunter2@es:9200'] },
      port: 3306,
    };
    const out = redactSecrets(input);
    expect(out).toEqual({
      uri: 'mysql://root:***@db/app',
      password: '***',
      nested: { auth: '***', nodes: ['http://u:***@es:9200'] },
      port: 3306,
    });
    expect(input.password).toBe('hunter2');
    expect(JSON.stringify(out)).not.toContain('hunter2');
  });
});
