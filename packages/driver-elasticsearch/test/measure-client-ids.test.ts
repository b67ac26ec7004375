import type { PolicyInput } from '@reconnect/core';
import { startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { elasticsearchRequests, type ElasticsearchRequests } from '../src/index.js';
import { esTarget, preset, stopTargets } from './helpers.js';

// The cost of `clientIds: true` on indexing (issue #27), side by side on the same 3-node test cluster: index()
// without an id, the cluster's ids (POST _doc) vs client ids (PUT _doc/{id}?op_type=create), in alternating rounds.
// Opt-in (RECONNECT_MEASURE=1, about a minute); prints the table the README quotes. The stand-in has no Lucene: what a real
// cluster pays for a create with an id of ours (a version lookup per document, which an auto-id append skips) is not
// in these figures.
const enabled = process.env['RECONNECT_MEASURE'] === '1';
const rounds = 4;
const perRound = 300;

// preset:elasticsearch as shipped.
function policy(): PolicyInput {
  const base = preset('elasticsearch');
  return base;
}

/** `count` writes by `callers` concurrent callers; returns writes/s and the per-write latencies (ms). */
async function run(es: ElasticsearchRequests, index: string, count: number, callers: number) {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < count) {
        const n = next++;
        const t0 = performance.now();
        await es.index({ index, document: { n, payload: 'x'.repeat(64) } });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: count / seconds,
    p50: latencies[Math.floor(count / 2)]!,
    p99: latencies[Math.floor(count * 0.99)]!,
  };
}

describe.skipIf(!enabled)('measured: clientIds on indexing', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3, refreshIntervalMs: 0 }), {
    heal: false,
  });
  afterEach(() => stopTargets());

  it('index() without an id: cluster ids vs client ids, same cluster, alternating rounds', async () => {
    const urls = cluster().urls;
    const plain = esTarget(urls, policy());
    const withIds = esTarget(urls, policy(), { clientIds: true });
    await Promise.all([plain.start(), withIds.start()]);
    const sides = {
      'cluster ids (POST _doc)': elasticsearchRequests(plain),
      'client ids (clientIds: true)': elasticsearchRequests(withIds),
    };
    const rows: string[] = [];
    for (const callers of [1, 8]) {
      const figures: Record<string, { perSecond: number[]; p50: number[]; p99: number[] }> = {};
      // Warm-up, then rounds alternating the side that goes first.
      for (const es of Object.values(sides)) await run(es, `warm-${callers}`, 200, callers);
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? Object.entries(sides) : Object.entries(sides).reverse();
        for (const [name, es] of order) {
          const f = await run(es, `m-${callers}-${r}-${name.length}`, perRound, callers);
          const row = (figures[name] ??= { perSecond: [], p50: [], p99: [] });
          row.perSecond.push(f.perSecond);
          row.p50.push(f.p50);
          row.p99.push(f.p99);
        }
      }
      for (const [name, f] of Object.entries(figures)) {
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
        rows.push(
          `| ${callers} | ${name} | ${median(f.perSecond).toFixed(0)} (${Math.min(...f.perSecond).toFixed(0)}–${Math.max(...f.perSecond).toFixed(0)}) | ${median(f.p50).toFixed(2)} | ${median(f.p99).toFixed(2)} |`,
        );
      }
    }
    console.log(
      [
        '| callers | writes | writes/s, median of rounds (min–max) | p50 ms | p99 ms |',
        '|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
    expect(rows).toHaveLength(4);
  }, 300_000);
});
