// A reload that changes retry.attemptTimeout reaches ioredis's own command timeout at once (Driver.reconfigure),
// without a reconnect: otherwise ioredis would keep cutting commands at the old timeout until it reconnected.
import { resolvePolicy, type PolicyInput, type Target } from '@reconnect/core';
import { startRedis, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisClient } from '../src/index.js';
import { startTarget } from './target-helpers.js';

const targets: Target<RedisClient>[] = [];
afterEach(async () => {
  await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
});

const policy = (attemptTimeout: string): PolicyInput => ({
  retry: { maxRetries: 0, attemptTimeout, deadline: '5s' },
  healthCheck: { interval: '10s', timeout: '1s' },
});

describe('reconfigure: a reloaded attempt timeout reaches ioredis without a reconnect', () => {
  const server = useServer(() => startRedis());

  it('a 300 ms BLPOP times out under a 100 ms attemptTimeout, and succeeds on the same connection after a reload to 2 s', async () => {
    const t = await startTarget(server().port, policy('100ms'));
    targets.push(t);
    const key = `reconnect:reconfigure:${process.pid}`;
    const blpop = () => t.execute((r) => r.blpop(key, 0.3), { idempotent: true, name: 'BLPOP' });
    const id = await t.execute((r) => r.client('ID'), { idempotent: true });
    const cut = (await blpop().catch((e: unknown) => e)) as { attempts?: { kind: string }[] };
    expect(cut.attempts?.map((a) => a.kind)).toEqual(['timeout']);
    (t as unknown as { applyPolicy(p: unknown): void }).applyPolicy(resolvePolicy(policy('2s')));
    expect((t.client.options as { commandTimeout?: number }).commandTimeout).toBe(2000);
    await expect(blpop()).resolves.toBeNull(); // BLPOP's own 0.3 s timeout: no element
    expect(await t.execute((r) => r.client('ID'), { idempotent: true })).toBe(id); // no reconnect
  });
});
