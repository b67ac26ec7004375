import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, startRedis, trackedResources, useServer, type FaultProxy } from '../src/index.js';
import { connectOutcome, rawConnect, record } from './helpers/raw.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitData(seen: { data: () => Buffer }, expected: string, timeoutMs = 2000): Promise<string> {
  const start = performance.now();
  while (!seen.data().toString().includes(expected) && performance.now() - start < timeoutMs) await delay(5);
  return seen.data().toString();
}

describe('startFaultProxy', () => {
  const redis = useServer(() => startRedis());
  let proxy: FaultProxy | undefined;
  const direct = async (): Promise<Redis> => {
    const client = new Redis({ ...redis().options, lazyConnect: true });
    await client.connect();
    return client;
  };
  const open = async () => {
    proxy = await startFaultProxy({ target: redis().options });
    return proxy;
  };
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('pass: forwards both ways and counts connections and bytes', async () => {
    const p = await open();
    expect(p.host).toBe('127.0.0.1');
    expect(p.mode).toBe('pass');
    const socket = await rawConnect(p.port);
    const seen = record(socket);
    socket.write('PING\r\n');
    expect(await waitData(seen, '+PONG')).toBe('+PONG\r\n');
    const stats = p.stats();
    expect(stats).toMatchObject({ accepted: 1, active: 1, bytesToServer: 6, bytesToClient: 7 });
    expect(stats.connections[0]).toMatchObject({ id: 1, bytesToServer: 6, bytesToClient: 7, end: undefined });
    socket.destroy();
    await delay(50);
    expect(p.stats().active).toBe(0);
    expect(p.stats().connections[0]?.end).toBe('client');
    p.resetStats();
    expect(p.stats()).toMatchObject({ accepted: 0, bytesToServer: 0, bytesToClient: 0 });
  });

  it('refuse: nothing listens (ECONNREFUSED) and open connections are reset; pass() listens again on the same port', async () => {
    const p = await open();
    const socket = await rawConnect(p.port);
    const seen = record(socket);
    await p.refuse();
    expect(p.mode).toBe('refuse');
    expect(await seen.waitEnd(1000)).toBe('ECONNRESET');
    expect(await connectOutcome(p.port)).toBe('ECONNREFUSED');
    const accepted = p.stats().accepted;
    expect(await connectOutcome(p.port)).toBe('ECONNREFUSED');
    expect(p.stats().accepted).toBe(accepted);
    await p.pass();
    const again = await rawConnect(p.port);
    const seenAgain = record(again);
    again.write('PING\r\n');
    expect(await waitData(seenAgain, '+PONG')).toBe('+PONG\r\n');
    again.destroy();
  });

  it('blackhole: accepts, forwards nothing either way, keeps sockets open; pass() delivers what was held', async () => {
    const p = await open();
    const before = await rawConnect(p.port);
    const seenBefore = record(before);
    before.write('PING\r\n');
    await waitData(seenBefore, '+PONG');
    p.blackhole();
    expect(p.mode).toBe('blackhole');
    const bytes = p.stats().bytesToServer;
    before.write('PING\r\n');
    const fresh = await rawConnect(p.port); // accepted: a blackhole is not a refusal
    const seenFresh = record(fresh);
    fresh.write('PING\r\n');
    await delay(400);
    expect(seenBefore.data().toString()).toBe('+PONG\r\n');
    expect(seenFresh.data().toString()).toBe('');
    expect(p.stats().bytesToServer).toBe(bytes);
    expect(seenBefore.ended()).toBeUndefined();
    expect(seenFresh.ended()).toBeUndefined();
    expect(p.stats().active).toBe(2);
    await p.pass();
    expect(await waitData(seenFresh, '+PONG')).toBe('+PONG\r\n');
    expect(await waitData(seenBefore, '+PONG\r\n+PONG')).toBe('+PONG\r\n+PONG\r\n');
    before.destroy();
    fresh.destroy();
  });

  it('reset: every open connection gets an RST; with persist, new ones too', async () => {
    const p = await open();
    const a = record(await rawConnect(p.port));
    const b = record(await rawConnect(p.port));
    await delay(20);
    p.reset();
    expect(await a.waitEnd(1000)).toBe('ECONNRESET');
    expect(await b.waitEnd(1000)).toBe('ECONNRESET');
    expect(p.mode).toBe('pass');
    p.reset({ persist: true });
    expect(p.mode).toBe('reset');
    // The RST may beat the connect callback: either way the client sees ECONNRESET.
    const outcome = await rawConnect(p.port).then(
      (socket) => record(socket).waitEnd(1000),
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(outcome).toBe('ECONNRESET');
    expect(p.stats().connections.map((x) => x.end)).toEqual(['reset', 'reset', 'reset']);
  });

  it('latency: delays each direction by the given time', async () => {
    const p = await open();
    const socket = await rawConnect(p.port);
    const seen = record(socket);
    p.latency(250, 'toClient');
    let t0 = performance.now();
    socket.write('PING\r\n');
    await waitData(seen, '+PONG');
    const slow = performance.now() - t0;
    expect(slow).toBeGreaterThanOrEqual(240);
    p.latency(0);
    t0 = performance.now();
    socket.write('PING\r\n');
    await waitData(seen, '+PONG\r\n+PONG');
    expect(performance.now() - t0).toBeLessThan(150);
    socket.destroy();
  });

  it('cutAfter(0, toClient): the command runs on the server, the reply is lost, the client gets an RST', async () => {
    const p = await open();
    const client = await direct();
    try {
      await client.del('counter');
      const socket = await rawConnect(p.port);
      const seen = record(socket);
      await delay(20);
      p.cutAfter(0, 'toClient');
      socket.write('INCR counter\r\n');
      expect(await seen.waitEnd(1000)).toBe('ECONNRESET');
      expect(seen.data().length).toBe(0);
      expect(p.stats().connections[0]).toMatchObject({ bytesToServer: 14, bytesToClient: 0, end: 'cut' });
      expect(await client.get('counter')).toBe('1');
      // Open connections only: a new connection passes.
      const next = record(await rawConnect(p.port));
      expect(next.ended()).toBeUndefined();
    } finally {
      client.disconnect();
    }
  });

  it('cutAfter(n, toServer): exactly n bytes reach the server', async () => {
    const p = await open();
    const client = await direct();
    try {
      await client.del('a', 'b');
      p.cutAfter(8, 'toServer', { newConnections: true });
      const socket = await rawConnect(p.port);
      const seen = record(socket);
      socket.write('INCR a\r\nINCR b\r\n');
      expect(await seen.waitEnd(1000)).toBe('ECONNRESET');
      await delay(50);
      expect(p.stats().bytesToServer).toBe(8);
      expect(await client.mget('a', 'b')).toEqual(['1', null]);
    } finally {
      client.disconnect();
    }
  });

  it('close(): destroys every connection and stops listening', async () => {
    const p = await open();
    const seen = record(await rawConnect(p.port));
    await p.close();
    await p.close();
    expect(await seen.waitEnd(1000)).toBe('ECONNRESET');
    expect(await connectOutcome(p.port)).toBe('ECONNREFUSED');
    expect(trackedResources().some((r) => r.description.startsWith(`fault proxy 127.0.0.1:${p.port}`))).toBe(
      false,
    );
    expect(() => p.blackhole()).toThrow(/closed/);
  });

  it('upstream down: the client connection is reset and counted', async () => {
    const s = await startRedis();
    const p = await startFaultProxy({ target: s.options });
    try {
      await s.kill();
      const seen = record(await rawConnect(p.port));
      expect(await seen.waitEnd(1000)).toBe('ECONNRESET');
      expect(p.stats().connections[0]?.end).toBe('upstream-failed');
      expect(p.stats().bytesToServer).toBe(0);
    } finally {
      await p.close();
      await s.stop();
    }
  });
});
