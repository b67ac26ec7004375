import { faultNamed, startRedis, startSwitchableHost } from '@reconnect/testkit';
import { createTarget } from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import { redisDriver, redisOptionsSchema } from '../src/index.js';
import { opStream, preset } from './target-helpers.js';

// The fault catalogue's `dns-switch` (issue #24) on the driver itself, for CI (the matrix's CI form does not run
// it): a target configured with a host name follows the name to its new address when the old one goes away —
// ioredis hands the name to net.connect at every connect, so each reconnect resolves it again. A client that kept
// the old address would never reconnect: the old address stays gone after heal.

describe('dns-switch: a host name that moves to another address', () => {
  it('the target reconnects to the new address and every read started 1 s after the switch succeeds', async () => {
    const server = await startRedis();
    const host = await startSwitchableHost({ target: server.options });
    const target = createTarget({
      name: 'cache',
      driver: redisDriver,
      options: redisOptionsSchema.parse({ host: host.name, port: host.port }),
      policy: preset('redis'),
    });
    try {
      await target.start();
      expect(host.proxies[0].stats().accepted).toBeGreaterThanOrEqual(1);
      const lookups = host.lookups();
      const reads = opStream(25, () => target.execute((c) => c.get('k'), { idempotent: true }));
      await new Promise((r) => setTimeout(r, 300));
      const fault = await faultNamed('dns-switch').start({ store: 'redis', server, host, durationMs: 2000 });
      const switchedAt = Date.now();
      await new Promise((r) => setTimeout(r, 2000));
      await reads.stop();
      await fault.heal();
      expect(fault.acted?.()).toBeGreaterThanOrEqual(1); // connections the new address took
      expect(host.lookups()).toBeGreaterThan(lookups); // the name was resolved again
      const late = reads.results.filter((r) => r.startedAt >= switchedAt + 1000);
      expect(late.length).toBeGreaterThan(10);
      expect(late.filter((r) => !r.ok)).toEqual([]);
    } finally {
      await target.stop();
      await host.close();
      await server.stop();
    }
  });
});
