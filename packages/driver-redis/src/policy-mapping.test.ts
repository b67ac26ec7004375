import { resolvePolicy } from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import { Redis, type RedisOptions } from 'ioredis';
import {
  connectionOptions,
  reconfigureClient,
  reconnectOnReadonly,
  reconnectStrategy,
} from './policy-mapping.js';

const policy = (reconnect: Record<string, unknown>) =>
  resolvePolicy({
    reconnect: {
      backoff: { type: 'exponential', base: '100ms', factor: 2, max: '1s', jitter: 'none' },
      ...reconnect,
    },
  });

describe('reconnectStrategy', () => {
  it('follows the policy backoff, attempt by attempt', () => {
    const s = reconnectStrategy(policy({ maxRetries: 'unlimited' }));
    expect([1, 2, 3, 4, 5, 6].map(s)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('after maxRetries keeps probing at the cap, or gives up (null ends the ioredis client) with onExhausted: stop', () => {
    const keep = reconnectStrategy(policy({ maxRetries: 2, onExhausted: 'keep-probing' }));
    expect([1, 2, 3, 9].map(keep)).toEqual([100, 200, 1000, 1000]);
    const stop = reconnectStrategy(policy({ maxRetries: 2, onExhausted: 'stop' }));
    expect([1, 2, 3].map(stop)).toEqual([100, 200, null]);
  });

  it('uses a code-defined reconnect.delay when given, never a negative or NaN delay', () => {
    const s = reconnectStrategy(
      policy({ delay: (n: number) => (n === 1 ? -5 : n === 2 ? Number.NaN : n * 7) }),
    );
    expect([1, 2, 3].map(s)).toEqual([0, 0, 21]);
  });

  it('draws jitter from the injected random source', () => {
    const p = resolvePolicy({
      reconnect: { backoff: { type: 'exponential', base: '100ms', factor: 2, max: '10s', jitter: 'full' } },
    });
    expect(reconnectStrategy(p, () => 0.5)(3)).toBe(200);
  });
});

describe('connectionOptions', () => {
  it('maps the policy and turns off the unsafe ioredis defaults', () => {
    const p = resolvePolicy({ retry: { attemptTimeout: '750ms' }, reconnect: { connectTimeout: '3s' } });
    expect(connectionOptions(p)).toMatchObject({
      commandTimeout: 750,
      connectTimeout: 3000,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      enableReadyCheck: true,
      maxLoadingRetryTime: 500,
      lazyConnect: true,
    });
  });

  it('attemptTimeout 0 (no limit) sets no command timeout, at creation and on a reload', () => {
    // ioredis takes commandTimeout: 0 as a 0 ms timer: the handshake itself would time out.
    expect(connectionOptions(resolvePolicy({ retry: { attemptTimeout: 0 } }))).not.toHaveProperty(
      'commandTimeout',
    );
    // lazyConnect: it never connects. (The cast is client.ts's: ioredis 6 types replyMapping strictly.)
    const client = new Redis(
      connectionOptions(resolvePolicy({})) as RedisOptions & { replyMapping?: 'legacy' },
    );
    expect(client.options.commandTimeout).toBe(2000);
    reconfigureClient(client, resolvePolicy({ retry: { attemptTimeout: 0 } }));
    expect(client.options).not.toHaveProperty('commandTimeout');
    reconfigureClient(client, resolvePolicy({ retry: { attemptTimeout: '3s' } }));
    expect(client.options.commandTimeout).toBe(3000);
    client.disconnect();
  });

  it('reconnects (without re-sending) on READONLY only', () => {
    expect(reconnectOnReadonly(new Error("READONLY You can't write against a read only replica."))).toBe(1);
    expect(reconnectOnReadonly(new Error('ERR wrong number of arguments'))).toBe(false);
  });
});

describe('reconnectStrategy while the lifecycle owns the schedule', () => {
  it('waits on the longest timer while deferred, and follows the backoff again once not', async () => {
    const { deferredReconnectMs } = await import('./policy-mapping.js');
    let deferred = true;
    const s = reconnectStrategy(policy({ maxRetries: 'unlimited' }), { deferred: () => deferred });
    expect(s(1)).toBe(deferredReconnectMs);
    expect(deferredReconnectMs).toBe(2 ** 31 - 1);
    deferred = false;
    expect(s(2)).toBe(200);
  });
});
