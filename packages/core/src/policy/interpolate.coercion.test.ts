// Where coerceAt says so, a string that is exactly one reference whose value is a plain number or true/false
// becomes that number or boolean; nothing else changes type (a password such as "0123" or "1e3" stays a string).
import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.js';

const typed = { coerceAt: (): boolean => true };
const one = (text: string, env: Record<string, string>): unknown =>
  interpolate({ v: text }, env, typed).value.v;

describe('interpolate: coercion of a whole reference', () => {
  it.each([
    ['3', 3],
    ['12', 12],
    ['-7', -7],
    ['2.5', 2.5],
    ['-10.25', -10.25],
    ['true', true],
    ['false', false],
  ])('"%s" becomes %s', (text, expected) => {
    expect(one('${N}', { N: text })).toBe(expected);
  });

  it.each(['5s', '1e3', ' 3', '3 ', 'v1', '1x', '1.', '.5', 'TRUE', 'yes'])('"%s" stays a string', (text) => {
    expect(one('${N}', { N: text })).toBe(text);
  });

  it('applies to a default as to a value', () => {
    expect(one('${N:-4}', {})).toBe(4);
    expect(one('${N:-true}', {})).toBe(true);
  });

  it('needs the string to be one reference and nothing else', () => {
    expect(one('${A}${B}', { A: '1', B: '2' })).toBe('12');
    expect(one('${A}0', { A: '1' })).toBe('10');
    expect(one('0${A}', { A: '1' })).toBe('01');
  });

  it('leaves a literal that looks like a number or boolean as written', () => {
    expect(interpolate({ a: '3', b: 'true', c: 'false' }, {}, typed).value).toStrictEqual({
      a: '3',
      b: 'true',
      c: 'false',
    });
  });

  it('happens only where coerceAt says so, asked with the path', () => {
    const asked: (string | number)[][] = [];
    const { value } = interpolate(
      { policy: { retries: '${N}' }, driver: { password: '${N}' } },
      { N: '3' },
      {
        coerceAt: (path) => {
          asked.push([...path]);
          return path[0] === 'policy';
        },
      },
    );
    expect(value).toStrictEqual({ policy: { retries: 3 }, driver: { password: '3' } });
    expect(asked).toEqual([
      ['policy', 'retries'],
      ['driver', 'password'],
    ]);
  });

  it('never happens without coerceAt', () => {
    expect(interpolate('${N}', { N: '3' }).value).toBe('3');
  });
});
