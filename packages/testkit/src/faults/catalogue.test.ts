import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariaDB, type MariaDBServer } from '../servers/mariadb.js';
import { startRedis, type RedisServer } from '../servers/redis.js';
import { openMariaDBAdmin, openRedisAdmin, type AdminSession } from './admin.js';
import { faultCatalogue, faultNamed } from './catalogue.js';

// Each server-side fault takes effect while active and heal() leaves the server as it found it: checked on the
// server through an admin session of the test's own, not through any client under test.

describe('the fault catalogue', () => {
  it('names every fault once, each with a group, a description and the stores it applies to', () => {
    const names = faultCatalogue.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of faultCatalogue) {
      expect(f.description.length, f.name).toBeGreaterThan(20);
      expect(f.stores.length, f.name).toBeGreaterThan(0);
    }
    expect(() => faultNamed('no-such-fault')).toThrow(
      /no fault "no-such-fault" in the catalogue \(crash, hang/,
    );
  });
});

/** One command on a session of its own (faults that kill every client would kill a kept one). */
async function ask(open: () => Promise<AdminSession>, command: string): Promise<string> {
  const session = await open();
  try {
    return await session.run(command);
  } finally {
    await session.close();
  }
}

describe('server-side faults on a throwaway Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.stop();
  });
  const check = { run: (command: string) => ask(() => openRedisAdmin(server.options), command) };
  const env = () => ({ store: 'redis' as const, server, durationMs: 1000 });

  it('oom: maxmemory 1 while active, 0 again after heal', async () => {
    const active = await faultNamed('oom').start(env());
    expect(await check.run('CONFIG GET maxmemory')).toBe('maxmemory\n1');
    await expect(check.run('SET k v')).rejects.toThrow(/OOM/);
    await active.heal();
    expect(await check.run('CONFIG GET maxmemory')).toBe('maxmemory\n0');
    expect(await check.run('SET k v')).toBe('OK');
  });

  it('idle-cut: an idle connection is closed by the server while active (the fault keeps its own alive)', async () => {
    const active = await faultNamed('idle-cut').start(env());
    const idle = await openRedisAdmin(server.options);
    await new Promise((r) => setTimeout(r, 2500));
    await expect(idle.run('PING', 1000)).rejects.toThrow();
    await idle.close();
    await active.heal();
    expect(await check.run('CONFIG GET timeout')).toBe('timeout\n0');
  });

  it('readonly: writes answer READONLY while active; a primary again after heal', async () => {
    const active = await faultNamed('readonly').start(env());
    const probe = await openRedisAdmin(server.options);
    await expect(probe.run('SET k v')).rejects.toThrow(/READONLY/);
    await probe.close();
    await active.heal();
    expect(await check.run('ROLE')).toMatch(/^master/);
  });

  it('max-connections: a new connection is refused while active; maxclients restored after heal', async () => {
    const active = await faultNamed('max-connections').start(env());
    await expect(openRedisAdmin(server.options).then((a) => a.run('PING'))).rejects.toThrow(
      /max number of clients reached|ECONNRESET|closed/i,
    );
    await active.heal();
    expect(await (await openRedisAdmin(server.options)).run('PING')).toBe('PONG');
  });

  it('password-rotated: a new connection must authenticate while active; none needed after heal', async () => {
    const active = await faultNamed('password-rotated').start(env());
    const probe = await openRedisAdmin(server.options);
    await expect(probe.run('GET k')).rejects.toThrow(/NOAUTH/);
    await probe.close();
    await active.heal();
    const again = await openRedisAdmin(server.options);
    expect(await again.run('PING')).toBe('PONG');
    await again.close();
  });
});

describe('server-side faults on a throwaway MariaDB', () => {
  let server: MariaDBServer;
  beforeAll(async () => {
    server = await startMariaDB();
  });
  afterAll(async () => {
    await server.stop();
  });
  const check = { run: (command: string) => ask(() => openMariaDBAdmin(server), command) };
  const env = () => ({ store: 'mariadb' as const, server, durationMs: 1000 });

  it('max-connections: every slot taken while active (1040), the old max_connections after heal', async () => {
    const before = await check.run('SELECT @@global.max_connections');
    const active = await faultNamed('max-connections').start(env());
    await expect(openMariaDBAdmin(server)).rejects.toThrow(/Too many connections/);
    await active.heal();
    expect(await check.run('SELECT @@global.max_connections')).toBe(before);
  });

  it('password-rotated: a new login without the password is refused while active, accepted after heal', async () => {
    const active = await faultNamed('password-rotated').start(env());
    await expect(openMariaDBAdmin(server)).rejects.toThrow(/Access denied/);
    await active.heal();
    const again = await openMariaDBAdmin(server);
    expect(await again.run('SELECT 1')).toBe('1');
    await again.close();
  });

  it('kill-connections: another session is killed within a second', async () => {
    const victim = await openMariaDBAdmin(server);
    const id = await victim.run('SELECT CONNECTION_ID()');
    const active = await faultNamed('kill-connections').start(env());
    await new Promise((r) => setTimeout(r, 300));
    await active.heal();
    expect(active.acted?.()).toBeGreaterThanOrEqual(1); // it counts what it killed
    expect(await check.run(`SELECT COUNT(*) FROM information_schema.processlist WHERE id = ${id}`)).toBe('0');
    await expect(victim.run('SELECT 1')).rejects.toThrow(/mariadb admin/);
    await victim.close();
  });
});
