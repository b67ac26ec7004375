import dns from 'node:dns';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchableHost, type SwitchableHost } from '../net/switchable-host.js';
import { installTestResolver } from '../net/test-resolver.js';
import { startRedis, type RedisServer } from '../servers/redis.js';
import { faultNamed } from './catalogue.js';

// The test resolver and the DNS fault, checked with raw sockets against a real redis-server: a connection by
// name lands where the name points, and after the switch a new connection lands on the other address.

/** Connects by name (through net.connect, hence dns.lookup), sends PING; resolves with the socket and where it went. */
async function pingByName(
  host: string,
  port: number,
): Promise<{ socket: Socket; address: string; reply: string }> {
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write('PING\r\n');
  const reply = await new Promise<string>((resolve) =>
    socket.once('data', (d: Buffer) => resolve(d.toString())),
  );
  return { socket, address: socket.remoteAddress ?? '', reply };
}

const ended = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
  });

describe('test resolver', () => {
  it('answers the names it serves (both lookup forms), passes others to the real lookup, and uninstall restores dns.lookup', async () => {
    const before = dns.lookup;
    const resolver = installTestResolver();
    try {
      expect(dns.lookup).not.toBe(before);
      resolver.set('Some-Name.test', '127.0.0.9');
      const one = await new Promise((r) => dns.lookup('some-name.test', (_e, a, f) => r([a, f])));
      expect(one).toEqual(['127.0.0.9', 4]);
      const all = await new Promise((r) => dns.lookup('some-name.test', { all: true }, (_e, a) => r(a)));
      expect(all).toEqual([{ address: '127.0.0.9', family: 4 }]);
      expect(resolver.lookups('some-name.test')).toBe(2);
      const real = await new Promise((r) => dns.lookup('127.0.0.1', { family: 4 }, (_e, a) => r(a)));
      expect(real).toBe('127.0.0.1');
      resolver.delete('some-name.test');
      const gone = await new Promise((r) => dns.lookup('some-name.test', (e) => r(e?.code)));
      expect(gone).toMatch(/ENOTFOUND|EAI_AGAIN/);
    } finally {
      resolver.uninstall();
      resolver.uninstall(); // idempotent: a second call must not remove another handle's hold
    }
    expect(dns.lookup).toBe(before);
  });
});

describe('dns-switch on a throwaway Redis behind a switchable host', () => {
  let server: RedisServer;
  let host: SwitchableHost;
  beforeAll(async () => {
    server = await startRedis();
    host = await startSwitchableHost({ target: server.options });
  });
  afterAll(async () => {
    await host.close();
    await server.stop();
  });

  it('moves the name to the other address and takes the old one away; a new connection by name lands on the new one', async () => {
    const first = await pingByName(host.name, host.port);
    expect(first.address).toBe('127.0.0.2');
    expect(first.reply).toBe('+PONG\r\n');
    const lookups = host.lookups();
    const fault = await faultNamed('dns-switch').start({
      store: 'redis',
      server,
      host,
      durationMs: 1000,
    });
    await ended(first.socket); // the old address reset its open connection
    await expect(pingByName('127.0.0.2', host.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const second = await pingByName(host.name, host.port);
    expect(second.address).toBe('127.0.0.3');
    expect(second.reply).toBe('+PONG\r\n');
    expect(host.lookups()).toBe(lookups + 1);
    expect(fault.acted?.()).toBe(1);
    await fault.heal();
    // The old address stays gone after heal: a client that kept it cannot recover by the fault ending.
    await expect(pingByName('127.0.0.2', host.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    second.socket.destroy();
    // Switching back makes the first address listen again.
    await host.switchTo(0);
    const third = await pingByName(host.name, host.port);
    expect(third.address).toBe('127.0.0.2');
    third.socket.destroy();
  });
});
