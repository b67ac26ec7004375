import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTarget, type Driver } from '../../src/index.js';

// A driver handed to createTarget in code (not loaded as a plugin) is checked the same way: what is missing is said
// by name at once, not as a TypeError from inside the first connect or the options' validation.
const complete = {
  name: 'fake',
  system: 'other_sql',
  options: z.object({}),
  connect: () => Promise.resolve({}),
  probe: () => Promise.resolve(),
  close: () => Promise.resolve(),
  classify: () => ({ kind: 'unknown' as const }),
};

describe('createTarget with a driver that is not one', () => {
  it('a driver without an options schema is refused, saying so', () => {
    const { options: _, ...noSchema } = complete;
    expect(() => createTarget({ name: 'db', driver: noSchema as unknown as Driver, options: {} })).toThrow(
      'createTarget: the driver of target "db" is not a driver: missing options (a zod schema)',
    );
  });

  it('every missing part is named in one message', () => {
    expect(() =>
      createTarget({ name: 'db', driver: { name: 'x' } as unknown as Driver, options: {} }),
    ).toThrow(
      /the driver of target "db" is not a driver: missing system \(a string\), options \(a zod schema\), connect\(\), probe\(\), close\(\), classify\(\)/,
    );
    expect(() => createTarget({ name: 'db', driver: undefined as unknown as Driver, options: {} })).toThrow(
      'createTarget: the driver of target "db" is undefined, not a driver object (use defineDriver)',
    );
  });

  it('a complete driver is accepted', () => {
    expect(createTarget({ name: 'db', driver: complete, options: {} }).name).toBe('db');
  });
});
