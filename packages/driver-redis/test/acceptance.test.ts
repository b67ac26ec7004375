import { isOutcomeUnknownError, resolvePolicy, type Target } from '@reconnect/core';
import { startFaultProxy, startRedis, useServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisCommands, type RedisClient } from '../src/index.js';
import { outcomeWithin, until } from './helpers.js';
import { opStream, preset, startTarget, whenAccepting } from './target-helpers.js';

const targets: Target<RedisClient>[] = [];
afterEach(async () => {
  await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
});
async function target(port: number, policy: ReturnType<typeof preset>) {
  const t = await startTarget(port, policy);
  targets.push(t);
  return t;
}

describe('hang (SIGSTOP) with preset fast-failover', () => {
  const server = useServer(() => startRedis());

  it('is reported down within interval + timeout + 250 ms, and no operation waits past its deadline', async () => {
    const policy = resolvePolicy(preset('fast-failover'));
    const t = await target(server().port, preset('fast-failover'));
    const ops = opStream(20, () => t.execute((r) => r.get('k'), { idempotent: true }));
    await new Promise((r) => setTimeout(r, 200));
    let downAt: number | undefined;
    t.on('stateChange', (e) => {
      if (e.from === 'connected' && downAt === undefined) downAt = Date.now();
    });
    await server().hang();
    const hungAt = Date.now();
    await until(() => downAt !== undefined, 3000);
    const detectionMs = downAt! - hungAt;
    const bound = policy.healthCheck.interval + policy.healthCheck.timeout + 250;
    await new Promise((r) => setTimeout(r, policy.retry.deadline + 300));
    await server().resume();
    await until(() => t.isConnected(), 5000);
    await ops.stop();
    const during = ops.results.filter(
      (r) => r.startedAt >= hungAt - 50 && r.startedAt < hungAt + policy.retry.deadline,
    );
    const longest = Math.max(...during.map((r) => r.settledAt - r.startedAt));
    console.log(
      `hang, fast-failover: detected in ${detectionMs} ms (bound ${bound}); longest op during the hang ${longest} ms (deadline ${policy.retry.deadline})`,
    );
    expect(detectionMs).toBeLessThanOrEqual(bound);
    expect(during.length).toBeGreaterThan(10);
    expect(longest).toBeLessThanOrEqual(policy.retry.deadline + 100);
  });

  it('without traffic, the health check alone reports it within interval + timeout + 250 ms', async () => {
    const policy = resolvePolicy(preset('fast-failover'));
    const t = await target(server().port, preset('fast-failover'));
    let downAt: number | undefined;
    t.on('stateChange', (e) => {
      if (e.from === 'connected' && downAt === undefined) downAt = Date.now();
    });
    await server().hang();
    const hungAt = Date.now();
    try {
      await until(() => downAt !== undefined, 3000);
    } finally {
      await server().resume();
    }
    const hc = policy.healthCheck;
    const bound = hc.interval + hc.timeout + 250;
    console.log(`hang, fast-failover, no traffic: detected in ${downAt! - hungAt} ms (bound ${bound})`);
    expect(downAt! - hungAt).toBeLessThanOrEqual(bound);
    await until(() => t.isConnected(), 5000);
  });

  it('raw ioredis at its defaults has not settled a GET after 3 s of hang (it waits forever)', async () => {
    const raw = new Redis({ port: server().port, lazyConnect: true });
    raw.on('error', () => undefined);
    await raw.connect();
    try {
      await server().hang();
      const r = await outcomeWithin(raw.get('k'), 3000);
      expect(r.state).toBe('pending');
    } finally {
      await server().resume();
      raw.disconnect();
    }
  });
});

describe('crash and restart: first success within 300 ms of Redis accepting connections', () => {
  const server = useServer(() => startRedis());

  for (const name of ['redis', 'fast-failover'] as const) {
    it(`with preset ${name}`, async () => {
      const t = await target(server().port, preset(name));
      // The preset's own deadline: with preset redis (10 s) operations wait through the 3 s outage.
      const ops = opStream(20, () => t.execute((r) => r.get('k'), { idempotent: true }));
      await new Promise((r) => setTimeout(r, 100));
      await server().kill();
      await until(() => !t.isConnected(), 3000);
      await new Promise((r) => setTimeout(r, 3000));
      const accepting = whenAccepting(server().port);
      await server().restart();
      const acceptedAt = await accepting.at;
      await until(() => ops.firstSuccessAfter(acceptedAt) !== undefined, 5000);
      await ops.stop();
      const recoveryMs = ops.firstSuccessAfter(acceptedAt)! - acceptedAt;
      console.log(
        `crash 3 s, preset ${name}: first success ${recoveryMs} ms after Redis accepted connections`,
      );
      expect(recoveryMs).toBeLessThanOrEqual(300);
      expect(t.isConnected()).toBe(true);
    });
  }
});

describe('duplicate write: an INCR whose reply is lost', () => {
  const server = useServer(() => startRedis());

  it('runs exactly once on the server, and the caller is told the outcome is unknown', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    try {
      const t = await target(proxy.port, preset('redis'));
      const cache = redisCommands(t);
      await cache.call('SET', 'counter', '0');
      // The INCR reaches Redis; its reply never reaches us.
      proxy.cutAfter(0, 'toClient');
      const error = await cache.call('INCR', 'counter').catch((e: unknown) => e);
      expect(isOutcomeUnknownError(error), String(error)).toBe(true);
      const control = new Redis({ port: server().port, lazyConnect: true });
      await control.connect();
      // Give any replay a chance to happen before counting.
      await until(() => t.isConnected(), 5000);
      await new Promise((r) => setTimeout(r, 300));
      expect(await control.get('counter')).toBe('1');
      // And the target is usable again.
      expect(await cache.call('GET', 'counter')).toBe('1');
      control.disconnect();
    } finally {
      await proxy.close();
    }
  });

  // Why this is structural: with maxRetriesPerRequest 0, ioredis's close handler flushes the command queue that
  // it has just saved for re-sending (prevCommandQueue is the same Deque), so nothing is left to re-send even if
  // autoResendUnfulfilledCommands were on — checked with raw ioredis on the driver's connectionOptions() with
  // autoResend flipped on: a cut reply and a timed-out command followed by a reset both ran INCR at most once.
  // No behaviour tells the two settings apart, so the built client's options are asserted: either one alone
  // keeps a lost-reply INCR from being replayed, and this fails if both ever change.
  it('the client the driver builds has autoResendUnfulfilledCommands off and maxRetriesPerRequest 0', async () => {
    const t = await target(server().port, preset('redis'));
    const client = t.client as Redis;
    expect(client).toBeInstanceOf(Redis);
    expect(client.options.autoResendUnfulfilledCommands).toBe(false);
    expect(client.options.maxRetriesPerRequest).toBe(0);
    expect(client.options.enableOfflineQueue).toBe(false);
  });

  it('raw ioredis at its defaults runs it twice (autoResendUnfulfilledCommands), the trap this driver closes', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    const raw = new Redis({ port: proxy.port, lazyConnect: true, retryStrategy: () => 50 });
    raw.on('error', () => undefined);
    try {
      await raw.connect();
      await raw.set('raw-counter', '0');
      proxy.cutAfter(0, 'toClient');
      const reply = await raw.incr('raw-counter');
      expect(reply).toBe(2);
      expect(await raw.get('raw-counter')).toBe('2');
    } finally {
      raw.disconnect();
      await proxy.close();
    }
  });

  it('with autoResend off but maxRetriesPerRequest left at 20 and no commandTimeout, ioredis never settles the INCR (issue #2193)', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    const raw = new Redis({
      port: proxy.port,
      lazyConnect: true,
      retryStrategy: () => 50,
      autoResendUnfulfilledCommands: false,
    });
    raw.on('error', () => undefined);
    try {
      await raw.connect();
      proxy.cutAfter(0, 'toClient');
      const incr = raw.incr('raw-counter-2');
      await until(() => raw.status === 'ready', 3000);
      expect((await outcomeWithin(incr, 1000)).state).toBe('pending');
    } finally {
      raw.disconnect();
      await proxy.close();
    }
  });
});
