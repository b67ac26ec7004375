// What a write with an idempotency key costs beside the same write without one (issue #27): the same INCRBY,
// through the same target, sequentially and with 16 callers, alternating rounds so that the shared machine's noise
// falls on both. Opt-in (RECONNECT_MEASURE=1): it prints the figures the README quotes; the gating run only checks
// that both loops ran.
import { type Target } from '@reconnect/core';
import { startRedis, useServer } from '@reconnect/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { redisCommands, type RedisClient } from '../src/index.js';
import { preset, startTarget } from './target-helpers.js';

const enabled = process.env['RECONNECT_MEASURE'] === '1';
const server = useServer(() => startRedis());
let target: Target<RedisClient> | undefined;
afterAll(async () => target?.stop());

/** Operations per second of `op` run by `callers` loops for `ms`. */
async function throughput(callers: number, ms: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < end) await op(done++);
    }),
  );
  return (done / ms) * 1000;
}

describe('the cost of an idempotency key', () => {
  it('plain INCRBY vs callOnce(INCRBY), 1 and 16 callers', { timeout: 60_000 }, async () => {
    target = await startTarget(server().port, preset('redis'));
    const cache = redisCommands(target, { idempotencyKeyTtl: '1m' });
    const plain = () => cache.call('INCRBY', 'cost:plain', 1);
    let n = 0;
    const once = () => cache.callOnce(`cost-${n++}`, 'INCRBY', 'cost:once', 1);
    await cache.callOnce('cost-warm', 'INCRBY', 'cost:once', 0);
    const rounds = enabled ? 4 : 1;
    const ms = enabled ? 1500 : 100;
    const rows: string[] = [];
    for (const callers of [1, 16]) {
      const p: number[] = [];
      const o: number[] = [];
      for (let r = 0; r < rounds; r++) {
        p.push(await throughput(callers, ms, plain));
        o.push(await throughput(callers, ms, once));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      rows.push(
        `${callers} caller(s): plain ${median(p).toFixed(0)} ops/s, with a key ${median(o).toFixed(0)} ops/s ` +
          `(${(median(o) / median(p)).toFixed(2)}×; rounds plain ${p.map((x) => x.toFixed(0)).join('/')}, keyed ${o.map((x) => x.toFixed(0)).join('/')})`,
      );
      expect(Math.min(...p, ...o)).toBeGreaterThan(0);
    }
    const used = Number(
      await target.execute((r) => r.call('MEMORY', 'USAGE', 'reconnect:once:{cost:once}:cost-1'), {
        idempotent: true,
      }),
    );
    rows.push(`one guard (INCRBY's reply stored): ${used} bytes (MEMORY USAGE)`);
    // Redis's own time per command (INFO commandstats): the script's share of the difference, apart from the client.
    const stats = (await target.execute((r) => r.call('INFO', 'commandstats'), {
      idempotent: true,
    })) as string;
    const usec = (c: string) =>
      new RegExp(`cmdstat_${c}:calls=\\d+,usec=\\d+,usec_per_call=([\\d.]+)`).exec(stats)?.[1];
    rows.push(`server time per call: INCRBY ${usec('incrby')} µs, the guarded EVALSHA ${usec('evalsha')} µs`);
    console.log(rows.join('\n'));
    expect(used).toBeGreaterThan(0);
  });
});
