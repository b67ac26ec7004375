import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { startRedis, useServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePolicy } from '@reconnect/core';
import { preset, startTarget } from './target-helpers.js';

// A real GC between samples, so the heap numbers compare live memory, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

// The acceptance run, in the gating suite: 60 s at 1 000 ops/s with preset redis (10 s deadlines), so the
// steady state (one deadline in) is sampled for 50 s. Breaker off: the bound must come from the deadline
// alone, not from the breaker shedding load. RECONNECT_LONG=1 adds the preset as shipped (breaker on).
const long = process.env['RECONNECT_LONG'] === '1';
const durationMs = 60_000;
const presetName = 'redis';
const ratePerSecond = 1000;
const variants = long ? [false, true] : [false];

describe.each(variants)(
  `memory: ${ratePerSecond} ops/s for ${durationMs / 1000} s against a down Redis (preset ${presetName}, breaker as shipped: %s)`,
  (breakerOn) => {
    const server = useServer(() => startRedis(), { heal: false });
    afterAll(async () => {
      if (server().status === 'killed') await server().restart();
    });

    it(
      'keeps the number of waiting operations under rate × deadline and the heap flat',
      { timeout: durationMs + 30_000 },
      async () => {
        const input = breakerOn
          ? preset(presetName)
          : { ...preset(presetName), circuitBreaker: { enabled: false } };
        const policy = resolvePolicy(input);
        const target = await startTarget(server().port, input);
        try {
          await server().kill();
          let pending = 0;
          let maxPending = 0;
          let settled = 0;
          let maxOfflineQueue = 0;
          const samples: { at: number; heap: number; pending: number }[] = [];
          const started = Date.now();
          // 10 operations every 10 ms; the tick catches up if the event loop was late.
          let issued = 0;
          await new Promise<void>((resolve) => {
            const tick = setInterval(() => {
              const elapsed = Date.now() - started;
              const due = Math.min(
                Math.floor((elapsed * ratePerSecond) / 1000),
                (durationMs * ratePerSecond) / 1000,
              );
              for (; issued < due; issued++) {
                pending++;
                void target
                  .execute((r) => r.get('k'), { idempotent: true })
                  .catch(() => undefined)
                  .finally(() => {
                    pending--;
                    settled++;
                  });
              }
              maxPending = Math.max(maxPending, pending);
              const queue =
                (target.client as unknown as { offlineQueue?: { length: number } }).offlineQueue?.length ?? 0;
              maxOfflineQueue = Math.max(maxOfflineQueue, queue);
              if (elapsed >= durationMs) {
                clearInterval(tick);
                resolve();
              }
            }, 10);
            const sampler = setInterval(() => {
              samples.push({ at: Date.now() - started, heap: heapMb(), pending });
              if (Date.now() - started >= durationMs) clearInterval(sampler);
            }, durationMs / 10);
          });
          const bound = (ratePerSecond * policy.retry.deadline) / 1000;
          // Steady state starts one deadline in; compare the heap there with the end.
          const steady = samples.filter((s) => s.at >= policy.retry.deadline + 1000);
          const first = steady[0]!;
          const last = steady[steady.length - 1]!;
          console.log(
            `memory, ${issued} ops in ${durationMs} ms: max waiting ${maxPending} (bound ${bound}), ioredis offline queue max ${maxOfflineQueue}, ` +
              `heap ${first.heap.toFixed(1)} MB at ${first.at} ms → ${last.heap.toFixed(1)} MB at ${last.at} ms; samples ${samples.map((s) => `${s.heap.toFixed(1)}/${s.pending}`).join(' ')}`,
          );
          expect(issued).toBeGreaterThanOrEqual((durationMs * ratePerSecond) / 1000);
          expect(maxPending).toBeLessThanOrEqual(bound * 1.1 + 100);
          expect(maxOfflineQueue).toBe(0);
          expect(last.heap - first.heap).toBeLessThan(8);
          expect(settled).toBeGreaterThan(issued - bound * 1.1 - 100);
        } finally {
          await server().restart();
          await target.stop();
        }
      },
    );

    it('raw ioredis at its defaults queues every command while Redis is down (unbounded offline queue)', async () => {
      const raw = new Redis({ port: server().port, lazyConnect: true });
      raw.on('error', () => undefined);
      await raw.connect();
      try {
        await server().kill();
        await new Promise((r) => setTimeout(r, 50));
        for (let i = 0; i < 3000; i++) raw.get('k').catch(() => undefined);
        const queue = (raw as unknown as { offlineQueue: { length: number } }).offlineQueue.length;
        expect(queue).toBe(3000);
      } finally {
        raw.disconnect();
        await server().restart();
      }
    });
  },
);
