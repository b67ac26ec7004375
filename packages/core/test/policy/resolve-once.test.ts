// A policy is resolved exactly once (issue #9): `${…}` interpolation must not run again on a policy that is
// already resolved, or an escaped `$${HOME}` (the literal text `${HOME}`) would be filled in from the environment.
import { describe, expect, it } from 'vitest';
import { createFakeClock, createManager, resolveConfig, resolvePolicy } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver } from '../lifecycle/memory-driver.js';

const env = { HOME: '/home/somebody', SECRET: 'from-the-environment' };

describe('a policy is resolved exactly once', () => {
  it('an escaped $${HOME} in healthCheck.query stays the literal ${HOME} through createManager into the probe', async () => {
    const queries: (string | undefined)[] = [];
    const { driver } = createMemoryDriver();
    const probing = {
      ...driver,
      probe: (client: never, ctx: { signal: AbortSignal; query?: string }) => {
        queries.push(ctx.query);
        return driver.probe(client, ctx);
      },
    };
    const previous = process.env['HOME'];
    const clock = createFakeClock(0);
    const manager = await createManager({
      config: {
        version: 1,
        targets: {
          db: {
            driver: 'memory',
            policy: { healthCheck: { query: "SELECT '$${HOME}'", successThreshold: 1 } },
          },
        },
      },
      drivers: { memory: probing },
      clock,
    });
    expect(previous).toBeDefined(); // the environment has a HOME the second pass would have used
    const db = manager.target('db');
    expect(db.policy.healthCheck.query).toBe("SELECT '${HOME}'");
    const started = manager.startAll();
    await clock.advanceAsync(0);
    await started;
    expect(queries[0]).toBe("SELECT '${HOME}'");
    await manager.stopAll();
  });

  it('resolvePolicy of a resolved policy returns it unchanged (no second interpolation), for code and reloads alike', () => {
    const resolved = resolveConfig(
      {
        version: 1,
        targets: { t: { driver: 'x', policy: { healthCheck: { query: 'SELECT $${SECRET}' } } } },
      },
      { env },
    ).targets['t']!.policy;
    expect(resolved.healthCheck.query).toBe('SELECT ${SECRET}');
    expect(resolvePolicy(resolved)).toBe(resolved);
    const { driver } = createMemoryDriver();
    const target = createTarget({ name: 't', driver, options: {}, policy: resolved });
    expect(target.policy.healthCheck.query).toBe('SELECT ${SECRET}');
  });

  it('a policy written in code is still interpolated once', () => {
    process.env['RECONNECT_TEST_QUERY'] = 'SELECT 42';
    try {
      expect(resolvePolicy({ healthCheck: { query: '${RECONNECT_TEST_QUERY}' } }).healthCheck.query).toBe(
        'SELECT 42',
      );
    } finally {
      delete process.env['RECONNECT_TEST_QUERY'];
    }
  });
});
