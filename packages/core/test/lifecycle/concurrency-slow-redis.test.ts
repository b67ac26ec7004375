// Issue #28's slow-server goal on a real throwaway redis-server behind the testkit's fault proxy: the only server
// slowed 10× (every reply delayed 1 ms, then 10 ms with up to 4 ms of jitter), idempotent reads arriving open-loop
// at 500/s, a target with preset:redis and `concurrency: { limit: adaptive, maxQueue: 0, initialLimit: 8 }`. The
// limit moves only in windows where half of it is in use: from the default 20 the slowed load (~6.5 reads in flight)
// sometimes never bound it, and the run refused nothing; from 8 it binds every time.
// Goal: goodput ≥ 80 % of healthy and admitted-request p99 ≤ 2× healthy, the rest refused at once, `not_sent`.
// Asserted: goodput, the refusals (classified, not sent, at once) and the recovery. NOT asserted, because it is not
// met: admitted p99 ≤ 2× healthy. Every reply of a server slowed so takes ≥ 10 ms against a healthy p50 of about
// 1.5 ms, whatever is admitted; the ratio of the two p99s passed or failed with the healthy phase's noise (healthy
// p99 8–17 ms on this shared machine, slowed 22–39 ms). The figures are printed; BENCHMARKS.md has the runs.
import { performance } from 'node:perf_hooks';
import { redisDriver, type RedisClient } from '@reconnect/driver-redis';
import { presets } from '@reconnect/policies';
import { startFaultProxy, startRedis, useServer, type FaultProxy } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createTarget, isConcurrencyLimitedError, type Target } from '../../src/index.js';

const server = useServer(() => startRedis());
let proxy: FaultProxy | undefined;
let target: Target<RedisClient> | undefined;
afterEach(async () => {
  await target?.stop();
  await proxy?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RATE = 500;

interface Outcome {
  phase: string;
  ms: number;
  ok: boolean;
  error?: unknown;
}

/** Reads at RATE per second for `ms`, whatever becomes of them; resolves once all settled. */
async function drive(t: Target<RedisClient>, phase: string, ms: number, into: Outcome[]): Promise<void> {
  const start = performance.now();
  const pending: Promise<void>[] = [];
  let issued = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) * RATE) / 1000);
    for (; issued < due; issued++) {
      const t0 = performance.now();
      pending.push(
        t
          .execute((c) => c.get('slow:key'), { idempotent: true, name: 'GET' })
          .then(
            () => void into.push({ phase, ms: performance.now() - t0, ok: true }),
            (error: unknown) => void into.push({ phase, ms: performance.now() - t0, ok: false, error }),
          ),
      );
    }
    await sleep(1);
  }
  await Promise.all(pending);
}

const p50 = (ms: number[]): number => [...ms].sort((a, b) => a - b)[Math.floor(ms.length * 0.5)] ?? NaN;
const p99 = (ms: number[]): number => [...ms].sort((a, b) => a - b)[Math.floor(ms.length * 0.99)] ?? NaN;

describe('adaptive concurrency limit, the only redis-server slowed 10× (issue #28)', () => {
  it('keeps goodput ≥ 80 % of healthy, refusing the rest at once, not_sent, and recovers', async () => {
    proxy = await startFaultProxy({ target: server().options });
    proxy.latency(1, 'toClient');
    target = createTarget({
      name: 'slow-cache',
      driver: redisDriver,
      options: { host: proxy.host, port: proxy.port },
      policy: { ...presets.redis!.policy, concurrency: { limit: 'adaptive', maxQueue: 0, initialLimit: 8 } },
    });
    await target.start();
    const outcomes: Outcome[] = [];
    await drive(target, 'warmup', 500, []);
    await drive(target, 'healthy', 3000, outcomes);
    proxy.latency(10, 'toClient', { jitterMs: 4 });
    await drive(target, 'slow', 6000, outcomes);
    proxy.latency(1, 'toClient');
    await drive(target, 'after', 3000, outcomes);

    const of = (phase: string) => outcomes.filter((o) => o.phase === phase);
    const okMs = (phase: string) => of(phase).flatMap((o) => (o.ok ? [o.ms] : []));
    const healthy = okMs('healthy');
    const slow = okMs('slow');
    const refused = of('slow').filter((o) => !o.ok);
    const figures = {
      healthyGoodput: healthy.length / 3,
      slowGoodput: slow.length / 6,
      healthyP99: p99(healthy),
      slowP99: p99(slow),
      refused: refused.length,
      refusalP50: p50(refused.map((o) => o.ms)),
      refusalP99: p99(refused.map((o) => o.ms)),
      after: okMs('after').length / 3,
    };
    console.log('slow redis figures', figures);

    // Nothing but refusals failed, and every refusal is the classified one: not sent, at once.
    for (const o of outcomes.filter((x) => !x.ok)) {
      expect(isConcurrencyLimitedError(o.error)).toBe(true);
      expect((o.error as { outcome?: string }).outcome).toBe('not_sent');
    }
    // At once: the median refusal is well under the slowed server's own 10 ms (the p99 is this process's own
    // event-loop stalls, up to tens of ms on a shared machine).
    expect(figures.refusalP50).toBeLessThan(5);
    // The goal's goodput, and proof that the limit acted (it refused some).
    expect(figures.slowGoodput).toBeGreaterThanOrEqual(0.8 * figures.healthyGoodput);
    expect(figures.refused).toBeGreaterThan(0);
    // Recovered: the last phase is served in full again.
    expect(figures.after).toBeGreaterThanOrEqual(0.95 * figures.healthyGoodput);
  }, 60_000);
});
