import { describe, expect, it } from 'vitest';
import { isPlainObject, setOwn } from './plain-object.js';

describe('isPlainObject', () => {
  it('is true for literals and null-prototype objects only', () => {
    expect(isPlainObject({ a: 1 })).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const v of [[], new Date(0), new URL('http://h'), () => 1, null, 'x', 1])
      expect(isPlainObject(v)).toBe(false);
  });
});

describe('setOwn', () => {
  it('sets __proto__ as an own key without touching the prototype', () => {
    const o: Record<string, unknown> = {};
    setOwn(o, '__proto__', { polluted: true });
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
  });
});
