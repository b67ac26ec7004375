import { describe, expect, it } from 'vitest';
import { interpolate } from '../interpolate.js';
import { urlIssues } from './check-urls.js';

// Every character that means something in a URL, and a space.
const SECRET = 'q7Z@kX9#wV4/jY2?pN8:hM3%tB6 rC5';
const env = { PW: SECRET, USER: 'app:ro', CREDS: `app:${SECRET}`, URL: `redis://u:${SECRET}@h:6379` };
const value = (template: string): string => interpolate(template, env).value;

describe('${VAR} inside a URL’s user info is percent-encoded', () => {
  it.each([
    ['redis://default:${PW}@127.0.0.1:6379/2', 'default', SECRET, '127.0.0.1', '6379', '/2'],
    ['mysql://${USER}:${PW}@db:3306/app', 'app:ro', SECRET, 'db', '3306', '/app'],
    // One variable holding user:password: its first `:` separates them, as a URL parser reads it.
    ['redis://${CREDS}@h', 'app', SECRET, 'h', '', ''],
    ['redis://:${PW:-unused}@h', '', SECRET, 'h', '', ''],
    ['http://elastic:${NOT_SET:-a/b#c}@es:9200', 'elastic', 'a/b#c', 'es', '9200', '/'],
  ])('%s', (template, user, password, host, port, pathname) => {
    const url = new URL(value(template));
    // What ioredis, mysql2 and the Elasticsearch transport do with the user info.
    expect(decodeURIComponent(url.username)).toBe(user);
    expect(decodeURIComponent(url.password)).toBe(password);
    expect([url.hostname, url.port, url.pathname, url.search, url.hash]).toEqual([
      host,
      port,
      pathname,
      '',
      '',
    ]);
    expect(urlIssues({ url: value(template) }, ['targets', 't', 'options'], undefined)).toEqual([]);
  });

  it('leaves references outside the user info, and non-URL strings, as they are', () => {
    expect(value('${URL}')).toBe(env.URL);
    expect(value('http://h:9200/${PW}')).toBe(`http://h:9200/${SECRET}`);
    expect(value('pw ${PW}')).toBe(`pw ${SECRET}`);
    expect(value('redis://h:6379/${PW}')).toBe(`redis://h:6379/${SECRET}`);
    expect(value('redis://:$${PW}@h')).toBe('redis://:${PW}@h');
  });
});

describe('a URL with credentials that would not parse as meant is refused, never quoted', () => {
  const at = ['targets', 'cache', 'options'];
  it.each([
    ['a # in the password', 'redis://default:Kq7@Zs4#Wv9@127.0.0.1:6379', ['Kq7', 'Zs4', 'Wv9']],
    ['a / in the password', 'redis://default:Kq7/Zs4@127.0.0.1:6379', ['Kq7', 'Zs4']],
    ['a ? in the password', 'redis://:Kq7?Zs4@127.0.0.1:6379', ['Kq7', 'Zs4']],
    ['a % that is not an encoding', 'redis://default:Kq7%Zs4@127.0.0.1:6379', ['Kq7', 'Zs4']],
    ['the whole secret unencoded', `redis://default:${SECRET}@127.0.0.1:6379`, SECRET.split(/[^A-Za-z0-9]/)],
    ['a host-less URL', `redis://u:${SECRET}@`, SECRET.split(/[^A-Za-z0-9]/)],
  ])('%s', (_name, url, fragments) => {
    const issues = urlIssues({ nodes: ['http://ok:9200', url] }, at, 'f.yaml');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      file: 'f.yaml',
      path: [...at, 'nodes', 1],
      kind: 'url_credentials',
    });
    const shown = JSON.stringify(issues);
    for (const fragment of fragments) expect(shown).not.toContain(fragment);
  });

  it('accepts URLs without credentials, encoded passwords and an @ the URL parser takes for the user info', () => {
    const ok = {
      a: 'redis://127.0.0.1:6379',
      b: `redis://default:${encodeURIComponent(SECRET)}@127.0.0.1:6379`,
      c: 'redis://:p@ss@127.0.0.1:6379',
      d: 'not a url @ all',
      e: 'mysql://u:pw@h/app?ssl=true',
    };
    expect(urlIssues(ok, at, undefined)).toEqual([]);
  });
});
