import {
  isAttemptEndedError,
  isAttemptTimeoutError,
  isOutcomeUnknownError,
  type Target,
} from '@reconnect/core';
import { sendAfterAttemptEnded, startRedis, useServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bindClientToAttempt } from '../src/attempt-client.js';
import { redisDriver, type RedisClient } from '../src/index.js';
import { until } from './helpers.js';
import { startTarget } from './target-helpers.js';

// The client an operation receives is bound to its attempt: the commands it sends follow the call's own
// attemptTimeout and deadline, not only the policy's fixed commandTimeout, and none is sent after the attempt ended.

const spinFor1s = `local t = redis.call('TIME')
repeat local n = redis.call('TIME') until (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 1000000
return 'done'`;

describe('commands follow their attempt (a throwaway redis-server)', () => {
  const server = useServer(() => startRedis());

  async function withTarget(policy: object, body: (t: Target<RedisClient>) => Promise<void>): Promise<void> {
    const t = await startTarget(server().port, policy);
    try {
      await body(t);
    } finally {
      await t.stop();
    }
  }

  it('a per-call attemptTimeout longer than the policy’s lets a blocking command, a pipeline and a script finish', async () => {
    await withTarget({ retry: { attemptTimeout: '300ms', maxRetries: 0 } }, async (t) => {
      const long = { attemptTimeout: '5s', idempotent: true };
      // BLPOP on an empty list waits its full second and answers null; ioredis would cut it at 300 ms.
      expect(await t.execute((r) => r.blpop('nothing:1', 1), long)).toBeNull();
      expect(await t.execute((r) => r.pipeline().blpop('nothing:2', 1).exec(), long)).toEqual([[null, null]]);
      // A script that keeps the server busy for a second (EVAL: inside MULTI a BLPOP would not block).
      expect(await t.execute((r) => r.eval(spinFor1s, 0), long)).toBe('done');
      // Without a per-call limit the policy's still applies.
      const cut = await t.execute((r) => r.blpop('nothing:4', 3)).catch((e: unknown) => e);
      expect(isOutcomeUnknownError(cut), String(cut)).toBe(true);
    });
  });

  it('a per-call attemptTimeout shorter than the policy’s times the command out at it, not at the policy’s', async () => {
    await withTarget({ retry: { attemptTimeout: '5s', maxRetries: 0 } }, async (t) => {
      let settled: { afterMs: number; error?: unknown } | undefined;
      const started = Date.now();
      const error = await t
        .execute(
          (r) =>
            r.blpop('nothing:7', 3).then(
              (value) => {
                settled = { afterMs: Date.now() - started };
                return value;
              },
              (e: unknown) => {
                settled = { afterMs: Date.now() - started, error: e };
                throw e;
              },
            ),
          { attemptTimeout: '300ms' },
        )
        .catch((e: unknown) => e);
      expect(isOutcomeUnknownError(error), String(error)).toBe(true);
      // Under the policy's 5 s the BLPOP would have answered null after its 3 s.
      await until(() => settled !== undefined, 4000);
      // The command itself is cut with its attempt, by the attempt's own reason (no timer of its own).
      expect(isAttemptTimeoutError(settled?.error), String(settled?.error)).toBe(true);
      expect(settled?.error).toMatchObject({ code: 'ERR_ATTEMPT_TIMEOUT', timeoutMs: 300 });
      expect(settled!.afterMs).toBeLessThan(1500);
    });
  });

  it('a command an abandoned operation sends after its attempt ended is never sent', async () => {
    await withTarget({ retry: { attemptTimeout: '200ms', maxRetries: 0 } }, async (t) => {
      // The operation ignores its signal: the attempt ends at 200 ms, the INCR comes at 400.
      const { error, late, sent } = await sendAfterAttemptEnded(t, (r) => r.incr('late:writes'));
      expect(isOutcomeUnknownError(error), String(error)).toBe(true);
      expect(sent).toBe(false);
      expect(isAttemptEndedError(late), String(late)).toBe(true);
      expect(late).toMatchObject({ code: 'ERR_ATTEMPT_ENDED', kind: 'timeout', outcome: 'not_sent' });
      expect(redisDriver.classify(late)).toEqual({ kind: 'timeout', code: 'ERR_ATTEMPT_ENDED', sent: false });
      expect(await t.client.get('late:writes')).toBeNull();
    });
  });

  it('the caller’s abort ends the attempt for the commands its operation sends next', async () => {
    await withTarget({ retry: { attemptTimeout: '5s', maxRetries: 0 } }, async (t) => {
      const controller = new AbortController();
      let late: unknown;
      const pending = t
        .execute(
          async (r) => {
            await r.set('abort:first', '1');
            await sleep(300);
            await r.set('abort:second', '1').catch((e: unknown) => (late = e));
          },
          { signal: controller.signal },
        )
        .catch((e: unknown) => e);
      await until(async () => (await t.client.get('abort:first')) === '1', 2000);
      controller.abort();
      await pending;
      await until(() => late !== undefined, 2000);
      expect(isAttemptEndedError(late), String(late)).toBe(true);
      expect(redisDriver.classify(late)).toMatchObject({ code: 'ERR_ATTEMPT_ENDED', sent: false });
      expect(await t.client.get('abort:second')).toBeNull();
    });
  });

  it('attemptTimeout 0 (no limit): a target connects and its commands wait for their replies (ioredis had a 0 ms timeout)', async () => {
    await withTarget({ retry: { attemptTimeout: 0, deadline: '5s' } }, async (t) => {
      // Straight on the client (as the health probe is), and through an operation.
      expect(await t.client.blpop('nothing:5', 0.1)).toBeNull();
      expect(await t.execute((r) => r.blpop('nothing:6', 0.1), { idempotent: true })).toBeNull();
    });
  });

  it('a view keeps no state of its own: listeners and connection calls reach the client', () => {
    const client = new Redis({ port: server().port, lazyConnect: true });
    try {
      const attempt = {
        attempt: 1,
        signal: new AbortController().signal,
        aborted: false,
        reason: undefined,
        onAbort: () => {},
        offAbort: () => {},
        node: undefined,
        timeoutMs: 1000,
      };
      const view = bindClientToAttempt(client, attempt);
      expect(view).not.toBe(client);
      expect(Object.keys(view)).toEqual([]);
      const listener = (): void => {};
      view.on('custom', listener);
      expect(client.listenerCount('custom')).toBe(1);
      view.off('custom', listener);
      expect(client.listenerCount('custom')).toBe(0);
      expect(Object.hasOwn(view, '_eventsCount')).toBe(false);
      // Auto-pipelining batches concurrent operations' commands into one pipeline: no view then.
      const auto = new Redis({ port: server().port, lazyConnect: true, enableAutoPipelining: true });
      expect(bindClientToAttempt(auto, attempt)).toBe(auto);
      auto.disconnect();
    } finally {
      client.disconnect();
    }
  });
});
