import { createConnection } from 'node:net';
import { createTarget, type PolicyInput, type Target } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import { redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';

/** A preset's policy as a PolicyInput (presets are plain data in the same shape). */
export function preset(name: 'redis' | 'fast-failover'): PolicyInput {
  const p = presets[name];
  if (p === undefined) throw new Error(`no preset ${name}`);
  return p.policy;
}

/** A started Redis target on `port`, with `policy`. */
export async function startTarget(
  port: number,
  policy: PolicyInput,
  name = 'cache',
): Promise<Target<RedisClient>> {
  const target = createTarget({
    name,
    driver: redisDriver,
    options: redisOptionsSchema.parse({ port }),
    policy,
  });
  await target.start();
  return target;
}

/** Resolves with the time (Date.now) the port first accepts a TCP connection; polls every `everyMs`. */
export function whenAccepting(
  port: number,
  everyMs = 2,
  timeoutMs = 30_000,
): { at: Promise<number>; cancel(): void } {
  let cancelled = false;
  const end = Date.now() + timeoutMs;
  const at = new Promise<number>((resolve, reject) => {
    const tryOnce = () => {
      if (cancelled) return reject(new Error('cancelled'));
      if (Date.now() > end) return reject(new Error(`port ${port} not accepting within ${timeoutMs} ms`));
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        const t = Date.now();
        socket.destroy();
        resolve(t);
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(tryOnce, everyMs);
      });
    };
    tryOnce();
  });
  at.catch(() => undefined);
  return {
    at,
    cancel: () => {
      cancelled = true;
    },
  };
}

/** Runs `op` every `everyMs` until stopped; records when each call started and settled. */
export function opStream(
  everyMs: number,
  op: () => Promise<unknown>,
): {
  stop(): Promise<void>;
  results: { startedAt: number; settledAt: number; ok: boolean; error?: unknown }[];
  firstSuccessAfter(t: number): number | undefined;
  firstSuccessStartedAfter(t: number): number | undefined;
} {
  const results: { startedAt: number; settledAt: number; ok: boolean; error?: unknown }[] = [];
  const pending = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    const startedAt = Date.now();
    const p = op().then(
      () => results.push({ startedAt, settledAt: Date.now(), ok: true }),
      (error: unknown) => results.push({ startedAt, settledAt: Date.now(), ok: false, error }),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, everyMs);
  return {
    results,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
    firstSuccessAfter(t) {
      const ok = results.filter((r) => r.ok && r.settledAt >= t).map((r) => r.settledAt);
      return ok.length === 0 ? undefined : Math.min(...ok);
    },
    // Operations that were already waiting do not count: a new caller's experience.
    firstSuccessStartedAfter(t) {
      const ok = results.filter((r) => r.ok && r.startedAt >= t).map((r) => r.settledAt);
      return ok.length === 0 ? undefined : Math.min(...ok);
    },
  };
}
