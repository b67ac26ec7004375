import { createConnection } from 'node:net';
import { createTarget, type PolicyInput, type Target } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import { redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';

/** The drivers' shared fault-test workload. */
export { opStream } from '@reconnect/testkit';

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
