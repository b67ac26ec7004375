import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../proxy/fault-proxy.js';
import { startRedis, type RedisServer } from '../servers/redis.js';
import { openRedisAdmin } from './admin.js';
import { faultNamed } from './catalogue.js';

// Network faults of the catalogue on a real redis-server behind the fault proxy: each takes effect on what a
// client through the proxy sees, checked against the server through a direct admin session.

describe('network faults through the fault proxy, on a throwaway Redis', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  beforeAll(async () => {
    server = await startRedis();
    proxy = await startFaultProxy({ target: server.options });
  });
  afterAll(async () => {
    await proxy.close();
    await server.stop();
  });
  const env = () => ({ store: 'redis' as const, server, proxy, durationMs: 1000 });

  it('latency-spike: the write applies at once on the server, its reply comes ≥ 200 ms later; fast again after heal', async () => {
    const client = await openRedisAdmin({ host: proxy.host, port: proxy.port });
    const direct = await openRedisAdmin(server.options);
    try {
      await direct.run('DEL spike');
      const active = await faultNamed('latency-spike').start(env());
      const t0 = performance.now();
      const reply = client.run('INCR spike', 3000);
      let appliedAt: number | undefined;
      while (appliedAt === undefined && performance.now() - t0 < 1000) {
        if ((await direct.run('GET spike')) === '1') appliedAt = performance.now() - t0;
        else await new Promise((r) => setTimeout(r, 5));
      }
      expect(await reply).toBe('1');
      const replied = performance.now() - t0;
      expect(appliedAt).toBeLessThan(150); // the request was not delayed
      expect(replied).toBeGreaterThanOrEqual(195); // the reply was
      await active.heal();
      const t1 = performance.now();
      expect(await client.run('INCR spike')).toBe('2');
      expect(performance.now() - t1).toBeLessThan(150);
    } finally {
      await client.close();
      await direct.close();
    }
  });

  /** A raw connection through the proxy: what it received, and how it ended. */
  async function rawThroughProxy() {
    const socket = connect({ host: proxy.host, port: proxy.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let data = '';
    let end: string | undefined;
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (end ??= e.code));
    socket.on('close', () => (end ??= 'closed'));
    return { socket, data: () => data, end: () => end };
  }
  const waitFor = async (check: () => boolean, ms: number) => {
    const until = performance.now() + ms;
    while (!check() && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    return check();
  };

  it('reset-mid-reply: the write applies, the client gets the first byte of its reply and an RST', async () => {
    const direct = await openRedisAdmin(server.options);
    const c = await rawThroughProxy();
    try {
      await direct.run('DEL torn');
      const active = await faultNamed('reset-mid-reply').start(env());
      c.socket.write('*2\r\n$4\r\nINCR\r\n$4\r\ntorn\r\n');
      expect(await waitFor(() => c.end() !== undefined, 2000)).toBe(true);
      await active.heal();
      expect(c.data()).toBe(':'); // ":1\r\n" torn after its first byte
      expect(c.end()).toBe('ECONNRESET');
      expect(await direct.run('GET torn')).toBe('1');
    } finally {
      c.socket.destroy();
      await direct.close();
      await proxy.pass();
    }
  });

  it('fragments: a reply still parses, arriving a byte at a time (slower than direct); normal after heal', async () => {
    const client = await openRedisAdmin({ host: proxy.host, port: proxy.port });
    try {
      const active = await faultNamed('fragments').start(env());
      const value = 'x'.repeat(200);
      const t0 = performance.now();
      expect(await client.run(['SET', 'frag', value])).toBe('OK');
      expect(await client.run('GET frag')).toBe(value);
      // ≈ 250 bytes both ways at 2000 bytes/s: ≥ 100 ms (direct: ~1 ms).
      expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
      const perConnection = proxy.stats().connections.at(-1);
      expect(perConnection?.bytesToClient).toBeGreaterThan(200);
      await active.heal();
      const t1 = performance.now();
      expect(await client.run('GET frag')).toBe(value);
      expect(performance.now() - t1).toBeLessThan(50);
    } finally {
      await client.close();
    }
  });

  it('slow-close: the server closed the connection, the client sees it open for a while; a write on it meets an RST and never runs', async () => {
    const direct = await openRedisAdmin(server.options);
    const quiet = await rawThroughProxy();
    const talker = await rawThroughProxy();
    try {
      await direct.run('DEL late');
      const active = await faultNamed('slow-close').start(env());
      expect(await waitFor(() => (active.acted?.() ?? 0) >= 2, 2000)).toBe(true); // both killed on the server
      await new Promise((r) => setTimeout(r, 100));
      expect(quiet.end()).toBeUndefined(); // its FIN is still held back
      talker.socket.write('*2\r\n$4\r\nINCR\r\n$4\r\nlate\r\n');
      expect(await waitFor(() => talker.end() !== undefined, 1000)).toBe(true);
      expect(talker.end()).toBe('ECONNRESET');
      expect(await waitFor(() => quiet.end() !== undefined, 2000)).toBe(true);
      expect(quiet.end()).toBe('closed'); // a FIN at last, not an RST
      await active.heal();
      // The fault killed every client of the server, the test's own session too: a new one.
      const after = await openRedisAdmin(server.options);
      expect(await after.run('GET late')).toBe(''); // the write never reached the server
      await after.close();
    } finally {
      quiet.socket.destroy();
      talker.socket.destroy();
      await direct.close();
    }
  });

  it('idle-drop: an idle connection goes silent (no reply, no FIN, no RST) while a busy one is served; heal resets it', async () => {
    const idle = await rawThroughProxy();
    const busy = await rawThroughProxy();
    const active = await faultNamed('idle-drop').start(env());
    try {
      let pongs = 0;
      busy.socket.on('data', (d: Buffer) => (pongs += (d.toString().match(/PONG/g) ?? []).length));
      for (let i = 0; i < 8; i++) {
        busy.socket.write('PING\r\n');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(pongs).toBe(8); // never idle for 1 s: never dropped
      idle.socket.write('PING\r\n'); // idle for 1.6 s: dropped
      await new Promise((r) => setTimeout(r, 500));
      expect(idle.data()).toBe('');
      expect(idle.end()).toBeUndefined();
    } finally {
      await active.heal();
    }
    expect(await waitFor(() => idle.end() !== undefined, 1000)).toBe(true);
    expect(idle.end()).toBe('ECONNRESET');
    expect(busy.end()).toBeUndefined();
    expect(active.acted?.()).toBe(1); // the idle one, not the busy one
    idle.socket.destroy();
    busy.socket.destroy();
  });
});
