// What interpolate walks into (plain objects and arrays, at most 64 levels below basePath) and what it hands back
// untouched (numbers, null, class instances); and where a reference is encoded (a URL's user info only).
import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.js';

/** `leaf` under `levels` nested `{ d: … }` objects. */
function nested(levels: number, leaf: unknown): unknown {
  let out = leaf;
  for (let i = 0; i < levels; i++) out = { d: out };
  return out;
}

describe('interpolate: depth', () => {
  it('walks objects down to 64 levels below the root, with any leaf under the deepest', () => {
    for (const leaf of [7, null, true, '${X}'])
      expect(interpolate(nested(65, leaf), { X: 'x' }).issues, String(leaf)).toEqual([]);
    expect(interpolate(nested(65, '${X}'), { X: 'x' }).value).toStrictEqual(nested(65, 'x'));
  });

  it('stops at an object 65 levels deep', () => {
    const { value, issues } = interpolate(nested(66, 1), {});
    expect(issues.map((i) => [i.kind, i.path.length])).toEqual([['too_deep', 65]]);
    expect(value).toStrictEqual(nested(65, undefined));
  });

  it('counts the levels from basePath, not from the root of the file', () => {
    const basePath = ['targets', 'cache', 'options'];
    const inside = interpolate(nested(65, 1), {}, { basePath });
    expect(inside.issues).toEqual([]);
    const over = interpolate(nested(66, 1), {}, { basePath });
    expect(over.issues.map((i) => [i.kind, i.path.slice(0, 3), i.path.length])).toEqual([
      ['too_deep', basePath, 3 + 65],
    ]);
  });
});

describe('interpolate: what it copies and what it keeps', () => {
  it('hands back numbers, booleans, null and undefined as they are', () => {
    expect(interpolate({ n: 1, b: false, z: null, u: undefined }, {}).value).toStrictEqual({
      n: 1,
      b: false,
      z: null,
      u: undefined,
    });
  });

  it('keeps class instances (a Date, a URL, a Buffer) as the same objects, not copies of their fields', () => {
    const when = new Date(0);
    const url = new URL('redis://h:6379');
    const buf = Buffer.from('${X}');
    const { value } = interpolate({ when, url, buf }, { X: 'x' });
    expect(value.when).toBe(when);
    expect(value.url).toBe(url);
    expect(value.buf).toBe(buf);
  });

  it('copies plain objects and arrays, leaving the input as it was', () => {
    const input = { a: ['${X}'], o: { s: '${X}' } };
    const { value } = interpolate(input, { X: 'x' });
    expect(value).toStrictEqual({ a: ['x'], o: { s: 'x' } });
    expect(input).toStrictEqual({ a: ['${X}'], o: { s: '${X}' } });
  });

  it('reports a shared (not circular) object nowhere', () => {
    const shared = { s: '${X}' };
    const { value, issues } = interpolate({ a: shared, b: [shared, shared] }, { X: 'x' });
    expect(issues).toEqual([]);
    expect(value).toStrictEqual({ a: { s: 'x' }, b: [{ s: 'x' }, { s: 'x' }] });
  });
});

describe('interpolate: URLs', () => {
  it('encodes a reference in the user info, and inserts one after it (the host) as it is', () => {
    const { value, issues } = interpolate('redis://u:${PW}@${HOST}:6379/${DB}', {
      PW: 'p@ss/w#rd',
      HOST: 'cache',
      DB: '2',
    });
    expect(issues).toEqual([]);
    expect(value).toBe('redis://u:p%40ss%2Fw%23rd@cache:6379/2');
  });

  it('encodes a default in the user info as it encodes a value', () => {
    expect(interpolate('redis://u:${PW:-a@b}@h', {}).value).toBe('redis://u:a%40b@h');
  });

  it('inserts into a string that is not a URL as it is', () => {
    expect(interpolate('u:${PW}@h', { PW: 'p@ss' }).value).toBe('u:p@ss@h');
  });
});
