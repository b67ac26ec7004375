import { faultNamed, startMariaDB, startSwitchableHost } from '@reconnect/testkit';
import { describe, expect, it } from 'vitest';
import { mysqlTarget, opStream, preset } from './helpers.js';

// The fault catalogue's `dns-switch` (issue #24) on the driver itself, for CI (the matrix's CI form does not run
// it): a target configured with a host name follows the name to its new address when the old one goes away —
// mysql2 hands the name to net.connect for every new pool connection, so each one resolves it again. A client that
// kept the old address would never reconnect: the old address stays gone after heal.

describe('dns-switch: a host name that moves to another address', () => {
  it('the pool reconnects to the new address and every read started 1 s after the switch succeeds', async () => {
    const server = await startMariaDB();
    const host = await startSwitchableHost({ target: server });
    const target = mysqlTarget(
      { host: host.name, port: host.port, user: 'root', password: '', database: 'test' },
      preset('mysql'),
    );
    try {
      await target.start();
      expect(host.proxies[0].stats().accepted).toBeGreaterThanOrEqual(1);
      const lookups = host.lookups();
      const reads = opStream(25, () => target.execute((db) => db.query('SELECT 1'), { idempotent: true }));
      await new Promise((r) => setTimeout(r, 300));
      const fault = await faultNamed('dns-switch').start({
        store: 'mariadb',
        server,
        host,
        durationMs: 2000,
      });
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
