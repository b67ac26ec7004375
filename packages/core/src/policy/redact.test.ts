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

describe('redactString: the shapes that used to leak', () => {
  it.each([
    ['a key=value DSN', 'host=db password=hunter2secret dbname=app', 'host=db password=*** dbname=app'],
    ['quoted key=value pairs', `host=db password='hunter2 secret' user=u`, `host=db password=*** user=u`],
    [
      'passwd/pwd/secret/token/api_key pairs',
      'passwd=a1SECRET pwd=a2SECRET;secret = a3SECRET,token="a4SECRET" api_key=a5SECRET',
      'passwd=*** pwd=***;secret = ***,token=*** api_key=***',
    ],
    [
      'a libpq value holding a comma',
      'host=db password=ab,cdSECRET port=5432',
      'host=db password=*** port=5432',
    ],
    ['an ADO-style string', 'Server=db;User Id=u;Password=a6SECRET;', 'Server=db;User Id=u;Password=***;'],
    ['a URL password holding @', 'redis://:p@ssw0rdSECRET@h:6379', 'redis://:***@h:6379'],
    ['a URL password holding /', 'mysql://u:ab/cdSECRET@h/app', 'mysql://u:***@h/app'],
    ['a DSN password holding @ and /', 'u:p@a/bSECRET@tcp(h:3306)/db', 'u:***@tcp(h:3306)/db'],
  ])('%s', (_name, input, expected) => {
    expect(redactString(input)).toBe(expected);
    expect(redactString(input)).not.toContain('SECRET');
  });

  it('PEM private key blocks anywhere, closed or cut off', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpSECRETbody\n-----END RSA PRIVATE KEY-----';
    expect(redactString(`key is ${pem} ok`)).toBe(
      'key is -----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY----- ok',
    );
    expect(redactString('-----BEGIN PRIVATE KEY-----\nMIIEvSECRET')).not.toContain('SECRET');
    expect(redactString('-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----')).toContain('MIIC');
  });

  it('private keys under their usual keys, and keyPrefix stays visible', () => {
    for (const k of ['clientKey', 'signingKey', 'privateKey', 'key', 'sslKey', 'tls_key', 'pfx'])
      expect(isSecretKey(k), k).toBe(true);
    for (const k of ['keyPrefix', 'routingKey', 'publicKey', 'monkey']) expect(isSecretKey(k), k).toBe(false);
    const out = redactSecrets({
      tls: { key: 'k1SECRET', clientKey: 'k2SECRET', ca: 'CA' },
      signingKey: 'k3SECRET',
      keyPrefix: 'app:',
    });
    expect(out).toEqual({
      tls: { key: '***', clientKey: '***', ca: 'CA' },
      signingKey: '***',
      keyPrefix: 'app:',
    });
  });
});
