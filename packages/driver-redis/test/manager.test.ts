import { createManager, isConfigError } from '@reconnect/core';
import { startRedis, useServer } from '@reconnect/testkit';
import { describe, expect, it } from 'vitest';
import type { RedisClient } from '../src/index.js';

describe('from a policy file: driver: redis', () => {
  const server = useServer(() => startRedis());

  it('loads the built-in alias, connects and runs operations with preset:redis', async () => {
    const manager = await createManager({
      config: {
        version: 1,
        targets: {
          cache: {
            driver: 'redis',
            policy: 'preset:redis',
            options: { url: `redis://127.0.0.1:${server().port}/1` },
          },
        },
      },
    });
    try {
      const results = await manager.startAll();
      expect(results).toEqual({ cache: { ok: true } });
      expect(manager.target('cache').state).toBe('connected');
      const cache = manager.target('cache') as unknown as {
        execute<T>(op: (c: RedisClient) => Promise<T>, o?: object): Promise<T>;
      };
      await cache.execute((r) => r.set('from-config', 'yes'), { idempotent: true });
      expect(await cache.execute((r) => r.get('from-config'), { idempotent: true })).toBe('yes');
      // db 1 from the URL.
      expect(await cache.execute((r) => r.call('CLIENT', 'INFO'), { idempotent: true })).toMatch(/db=1/);
    } finally {
      await manager.stopAll();
    }
  });

  it('refuses an option the policy owns, naming its path and the policy field, without echoing the password', async () => {
    const error = await createManager({
      config: {
        version: 1,
        targets: {
          cache: {
            driver: 'redis',
            options: { url: 'redis://:hunter2-secret@127.0.0.1:6379', enableOfflineQueue: true },
          },
        },
      },
    }).catch((e: unknown) => e);
    expect(isConfigError(error), String(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('targets.cache.options.enableOfflineQueue');
    expect(message).toMatch(/policy/);
    expect(message).not.toContain('hunter2-secret');
  });
});
