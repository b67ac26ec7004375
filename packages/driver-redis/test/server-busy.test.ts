// A server at maxclients is busy, not down (issue #26): a (re)connect it refuses is waited out with jittered
// backoff inside the connect attempt, so the target does not exhaust reconnect.maxRetries or end in `failed`, and
// operations waiting within their deadline are served once a slot frees. Against throwaway redis-servers whose
// maxclients is lowered at run time, and (for the check itself) small TCP servers.
import { createServer, type Server } from 'node:net';
import { createFakeClock, resolvePolicy, type PolicyInput, type Target } from '@reconnect/core';
import { startRedis, useServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisDriver, type RedisClient } from '../src/index.js';
import { busyDelayMs, connectThroughBusy, maxClientsError, refusedAsBusy } from '../src/server-busy.js';
import { startTarget } from './target-helpers.js';

const servers: Server[] = [];
const targets: Target<RedisClient>[] = [];
afterEach(async () => {
  await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
  for (const s of servers.splice(0)) s.close();
});

/** A TCP server that greets each connection with `greet` (then closes it when `close`), on a free port. */
async function greeter(greet: string, close: boolean): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    if (greet !== '') socket.write(greet);
    if (close) socket.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('the busy check: a socket that writes nothing reads the server’s first bytes', () => {
  it('is true for the maxclients refusal only', async () => {
    const peer = (port: number) => ({ host: '127.0.0.1', port });
    expect(await refusedAsBusy(peer(await greeter('-ERR max number of clients reached\r\n', true)))).toBe(
      true,
    );
    expect(await refusedAsBusy(peer(await greeter('-ERR max number of clients reached\r\n', false)))).toBe(
      true,
    );
    expect(
      await refusedAsBusy(peer(await greeter('-DENIED Redis is running in protected mode\r\n', true))),
    ).toBe(false);
    expect(await refusedAsBusy(peer(await greeter('', true)))).toBe(false);
    const silent = peer(await greeter('', false));
    const started = Date.now();
    expect(await refusedAsBusy(silent, 100)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });
});

describe('waiting out a busy server', () => {
  const policy = resolvePolicy({
    reconnect: { backoff: { type: 'exponential', base: '100ms', factor: 2, max: '1s' }, minProbeGap: '50ms' },
  });

  it('waits with full jitter over the backoff envelope, never below minProbeGap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => busyDelayMs(policy, n, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3, 4].map((n) => busyDelayMs(policy, n, () => 0.5))).toEqual([50, 100, 200, 400]);
    expect(busyDelayMs(policy, 4, () => 0)).toBe(50);
  });

  it('connects again after each refusal, until one succeeds; another failure or the signal ends it', async () => {
    const clock = createFakeClock();
    const tries: number[] = [];
    const controller = new AbortController();
    const refusedTwice = connectThroughBusy(
      (n) => {
        tries.push(clock.now());
        return n <= 2 ? Promise.reject(maxClientsError()) : Promise.resolve('connected');
      },
      policy,
      controller.signal,
      { withinMs: 10_000, clock, random: () => 1 },
    );
    for (let i = 0; i < 10 && tries.length < 3; i++) await clock.advanceAsync(100);
    expect(await refusedTwice).toBe('connected');
    expect(tries).toEqual([0, 100, 300]);

    const other = new Error('write EPIPE');
    await expect(
      connectThroughBusy(() => Promise.reject(other), policy, controller.signal, { withinMs: 10_000, clock }),
    ).rejects.toBe(other);
    const refusal = maxClientsError();
    // Out of time: a wait that, with a check (250 ms), would end past withinMs is not begun (100 + 200 ms waited,
    // the 400 ms one not: 300 + 400 + 250 ≥ 900).
    let refused = 0;
    const outOfTime = connectThroughBusy(
      () => (refused++, Promise.reject(refusal)),
      policy,
      controller.signal,
      { withinMs: 900, clock, random: () => 1 },
    );
    outOfTime.catch(() => undefined);
    await clock.advanceAsync(300);
    await expect(outOfTime).rejects.toBe(refusal);
    expect(refused).toBe(3);
    const cut = connectThroughBusy(() => Promise.reject(refusal), policy, controller.signal, {
      withinMs: 10_000,
      clock,
    });
    controller.abort();
    await expect(cut).rejects.toBe(refusal);
  });
});

describe('a real server at maxclients', () => {
  const server = useServer(() => startRedis());
  let admin: Redis;
  beforeAll(async () => {
    admin = new Redis({ port: server().port, lazyConnect: true, retryStrategy: () => 50 });
    admin.on('error', () => undefined);
    await admin.connect();
    return () => admin.disconnect();
  });
  // Room again after every test, whatever it asserted.
  afterEach(async () => {
    await admin.config('SET', 'maxclients', '10000');
  });
  const rejected = async () => Number(/rejected_connections:(\d+)/.exec(await admin.info('stats'))?.[1]);
  /** Fills the server: only the admin connection fits (lowering maxclients keeps the connections it has). */
  const fill = () => admin.config('SET', 'maxclients', '1');
  const free = () => admin.config('SET', 'maxclients', '10000');

  // Two scheduled reconnects, then `stop`: a target whose busy refusals counted as failed attempts gives up in a few
  // hundred ms and fails every waiting operation. Here each attempt waits through refusals for at least the health
  // timeout less one backoff wait and one check (2 s − 300 − 250 ms), so two outlast the 2.5 s the server is full.
  const policy: PolicyInput = {
    retry: { deadline: '6s', attemptTimeout: '1s' },
    healthCheck: { enabled: true, interval: '5s', timeout: '2s' },
    reconnect: {
      maxRetries: 2,
      onExhausted: 'stop',
      connectTimeout: '5s',
      minProbeGap: '100ms',
      backoff: { type: 'exponential', base: '100ms', factor: 2, max: '300ms', jitter: 'full' },
    },
  };

  it('a reconnect it refuses is waited out: never failed, waiting operations served once a slot frees', async () => {
    const t = await startTarget(server().port, policy);
    targets.push(t);
    const states: string[] = [];
    t.on('stateChange', (e) => states.push(e.to));
    const connects: number[] = [];
    t.client.on('connecting', () => connects.push(Date.now()));
    await fill();
    const before = await rejected();
    const list = (await admin.client('LIST')) as string;
    await admin.client('KILL', 'ID', /id=(\d+) [^\n]*name=reconnect:cache/.exec(list)![1]!);
    const busySince = Date.now();
    const ops = Array.from({ length: 8 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 150));
      return t
        .execute((c) => c.incr('busy:served'), { idempotent: false })
        .then(
          () => 'ok',
          (e: unknown) => `${(e as Error).name}: ${(e as Error).message} after ${Date.now() - busySince} ms`,
        );
    });
    await new Promise((r) => setTimeout(r, 2500));
    const lastError = t.health().lastError;
    const refusals = (await rejected()) - before;
    await free();
    const results = await Promise.all(ops);
    const gaps = connects.slice(1).map((at, i) => at - connects[i]!);
    console.log(
      `busy 2.5 s: ${connects.length} connects (gaps ${gaps.join(', ')} ms), ${refusals} refused connections, ` +
        `states ${states.join(' → ')}, lastError while busy ${JSON.stringify(lastError)}`,
    );
    expect(results).toEqual(Array(8).fill('ok'));
    expect(await admin.get('busy:served')).toBe('8');
    expect(states).not.toContain('failed');
    // The attempt that ran out of time while the server was full said why.
    expect(lastError?.code).toBe('MAXCLIENTS');
    expect(t.state).toBe('connected');
    // Backed off with jitter: within an attempt no two connects are closer than minProbeGap (between two attempts
    // the policy's own jittered backoff applies), so the median gap is at least minProbeGap, and the gaps differ.
    const sorted = [...gaps].sort((x, y) => x - y);
    expect(connects.length).toBeGreaterThanOrEqual(3);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThanOrEqual(100);
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThan(30);
  });

  it('a first connect it refuses is waited out: start() resolves once a slot frees', async () => {
    await fill();
    const freeing = new Promise((r) => setTimeout(r, 1500)).then(free);
    const started = Date.now();
    const t = await startTarget(server().port, policy);
    targets.push(t);
    await freeing;
    console.log(`first connect through a busy server: connected ${Date.now() - started} ms after start()`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(t.state).toBe('connected');
  });

  it('the refusal is reported as throttled MAXCLIENTS, not sent, whatever the handshake', async () => {
    await fill();
    try {
      // No password: ioredis's HELLO / CLIENT SETNAME meet the closed socket (EPIPE) and the reply is never read.
      const error = await redisDriver
        .connect(
          { port: server().port },
          { policy: resolvePolicy({}), signal: AbortSignal.timeout(1000), target: 't' },
        )
        .catch((e: unknown) => e);
      expect(redisDriver.classify(error)).toEqual({ kind: 'throttled', code: 'MAXCLIENTS', sent: false });
    } finally {
      await free();
    }
  });
});
