// What `waitForReplicas` costs: the same SET through two targets on the same master (one replica, loopback), one
// with WAIT after each write and one without, sequentially and with 16 callers, in alternating rounds so that the
// shared machine's noise falls on both; and reads beside each other. Opt-in (RECONNECT_MEASURE=1): it prints the
// figures the README quotes; the gating run only checks that every loop ran.
import { type Target } from '@reconnect/core';
import { openRedisAdmin, startRedis, type RedisServer } from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  redisCommands,
  redisDriver,
  redisOptionsSchema,
  type RedisClient,
  type RedisDriverOptionsInput,
} from '../src/index.js';
import { until } from './helpers.js';
import { preset } from './target-helpers.js';
import { createTarget } from '@reconnect/core';

const enabled = process.env['RECONNECT_MEASURE'] === '1';
let master: RedisServer;
let replica: RedisServer;
const targets: Target<RedisClient>[] = [];

beforeAll(async () => {
  master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  await until(
    async () => {
      const a = await openRedisAdmin(replica);
      try {
        return (await a.run(['INFO', 'replication'])).includes('master_link_status:up');
      } finally {
        await a.close();
      }
    },
    20_000,
    100,
  );
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(targets.map((t) => t.stop()));
  await Promise.allSettled([replica, master].map((s) => s?.stop()));
});

async function start(options: Partial<RedisDriverOptionsInput>): Promise<Target<RedisClient>> {
  const target = createTarget({
    name: `cost-${targets.length}`,
    driver: redisDriver,
    options: redisOptionsSchema.parse({ port: master.port, ...options }),
    policy: preset('redis'),
  });
  targets.push(target);
  await target.start();
  return target;
}

/** Operations per second of `op` run by `callers` loops for `ms`, and the median latency of one op in µs. */
async function run(
  callers: number,
  ms: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ perSec: number; p50: number; p99: number }> {
  let done = 0;
  const lat: number[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        await op(done++);
        lat.push((performance.now() - t) * 1000);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const at = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!;
  return { perSec: (done / ms) * 1000, p50: at(0.5), p99: at(0.99) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the cost of waitForReplicas', () => {
  it('SET without and with WAIT (1 replica), 1 and 16 callers; GET beside', { timeout: 90_000 }, async () => {
    const plain = redisCommands(await start({}));
    const durable = redisCommands(await start({ waitForReplicas: { replicas: 1, timeout: '500ms' } }));
    const rounds = enabled ? 4 : 1;
    const ms = enabled ? 2000 : 100;
    const rows: string[] = [];
    for (const callers of [1, 16]) {
      const p: Awaited<ReturnType<typeof run>>[] = [];
      const d: Awaited<ReturnType<typeof run>>[] = [];
      for (let r = 0; r < rounds; r++) {
        p.push(await run(callers, ms, (i) => plain.call('SET', `cost:p:${i % 100}`, 'v')));
        d.push(await run(callers, ms, (i) => durable.call('SET', `cost:d:${i % 100}`, 'v')));
      }
      const f = (xs: typeof p, k: 'perSec' | 'p50' | 'p99') => median(xs.map((x) => x[k])).toFixed(0);
      rows.push(
        `SET, ${callers} caller(s): without ${f(p, 'perSec')} ops/s (p50 ${f(p, 'p50')} µs, p99 ${f(p, 'p99')} µs), ` +
          `with WAIT ${f(d, 'perSec')} ops/s (p50 ${f(d, 'p50')} µs, p99 ${f(d, 'p99')} µs); ` +
          `${(median(d.map((x) => x.perSec)) / median(p.map((x) => x.perSec))).toFixed(2)}×; rounds ${p.map((x) => x.perSec.toFixed(0)).join('/')} vs ${d.map((x) => x.perSec.toFixed(0)).join('/')}`,
      );
      expect(Math.min(...p.map((x) => x.perSec), ...d.map((x) => x.perSec))).toBeGreaterThan(0);
    }
    // Reads through the durable target send no WAIT: the same as through the plain one.
    const gp = await run(1, ms, () => plain.call('GET', 'cost:p:1'));
    const gd = await run(1, ms, () => durable.call('GET', 'cost:d:1'));
    rows.push(
      `GET, 1 caller: plain target ${gp.perSec.toFixed(0)} ops/s, durable target ${gd.perSec.toFixed(0)} ops/s`,
    );
    const stats = (await durable.target.execute((r) => r.call('INFO', 'commandstats'), {
      idempotent: true,
    })) as string;
    const usec = (c: string) =>
      new RegExp(`cmdstat_${c}:calls=(\\d+),usec=\\d+,usec_per_call=([\\d.]+)`)
        .exec(stats)
        ?.slice(1)
        .join(' calls, µs per call ');
    rows.push(`server: SET ${usec('set')}; WAIT ${usec('wait')}`);
    console.log(rows.join('\n'));
    expect(gd.perSec).toBeGreaterThan(0);
  });
});
