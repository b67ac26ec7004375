import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineDriver, type DriverClient, type DriverOptions } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';

interface FakeClient {
  get(key: string): Promise<string>;
}

// The options type is never written: it comes from the zod schema.
const driver = defineDriver({
  name: 'fake',
  system: 'fake',
  options: z.strictObject({
    host: z.string(),
    port: z.number().int().default(1234),
    tls: z.boolean().optional(),
  }),
  connect: (options) =>
    Promise.resolve<FakeClient>({ get: (key) => Promise.resolve(`${options.host}:${key}`) }),
  probe: () => Promise.resolve(),
  close: () => Promise.resolve(),
  classify: () => ({ kind: 'unknown' }),
});

describe('defineDriver', () => {
  it('infers the options type from the zod schema and the client type from connect', () => {
    expectTypeOf<DriverOptions<typeof driver>>().toEqualTypeOf<{
      host: string;
      port: number;
      tls?: boolean | undefined;
    }>();
    expectTypeOf<DriverClient<typeof driver>>().toEqualTypeOf<FakeClient>();
    // A target is typed by its driver: execute's operation receives the driver's client.
    const target = createTarget({ name: 't', driver, options: { host: 'h', port: 1 } });
    expectTypeOf(target.execute).parameter(0).parameter(0).toEqualTypeOf<FakeClient>();
    // Rejected by the type checker and, for untyped callers, by the schema at run time.
    // @ts-expect-error -- `host` must be a string, per the schema
    expect(() => createTarget({ name: 't', driver, options: { host: 1, port: 1 } })).toThrow(
      /targets\.t\.options\.host/,
    );
    expect(driver.name).toBe('fake');
  });
});
