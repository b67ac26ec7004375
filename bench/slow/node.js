// `node bench/slow/node.js` (after `npx tsc -b`): one node of three slowed 10× with jitter, issue #28. The
// testkit's Elasticsearch-protocol test cluster (3 real node processes on loopback); the third node is reached
// through the testkit's fault proxy, which delays its replies by 10× the healthy median read time ± a third of it
// while slowed. Callers issue idempotent reads (`GET /slow/_doc/1`) open-loop at `--rate` per second for
// `--healthy` s, then `--slow` s slowed, then `--healthy` s again.
// Contenders: the raw Elasticsearch client (its own round-robin over the three nodes); Reconnect with
// preset:elasticsearch; + `retry.hedge` (p95, 5 %); + `pool.selector: least-latency`; + both.
// Per phase: p50/p99 of the reads, failures, and extra load (requests the cluster received per read asked for,
// probes included). The goal (issue #28): slowed p99 ≤ 1.2× healthy p99 at ≤ 5 % extra requests.
//   node bench/slow/node.js [--contenders raw,preset,hedge,least-latency,both] [--rate 200] [--healthy 5] [--slow 10]
//                           [--repeat 3] [--json bench/slow/results/slow-node.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { createTarget } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import elasticsearchDriver from '@reconnect/driver-elasticsearch';
import { startElasticsearchCluster, startFaultProxy } from '@reconnect/testkit';
import { drive, round, sequentialMedian, summarize } from './open-loop.js';

const { values } = parseArgs({
  options: {
    contenders: { type: 'string', default: 'raw,preset,hedge,least-latency,both' },
    rate: { type: 'string', default: '200' },
    healthy: { type: 'string', default: '5' },
    slow: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string', default: 'bench/slow/results/slow-node.json' },
  },
});
const rate = Number(values.rate);
const healthyMs = Number(values.healthy) * 1000;
const slowMs = Number(values.slow) * 1000;

const hedge = { enabled: true, delay: 'p95', maxExtraLoad: '5%', maxAttempts: 2 };
const contenders = {
  raw: { title: 'raw ES client (round-robin)' },
  preset: { title: 'Reconnect, preset:elasticsearch', policy: {} },
  hedge: { title: '+ retry.hedge (p95, 5 %)', policy: { retry: { hedge } } },
  'least-latency': {
    title: '+ pool.selector least-latency',
    policy: { pool: { selector: 'least-latency' } },
  },
  both: {
    title: '+ hedge and least-latency',
    policy: { retry: { hedge }, pool: { selector: 'least-latency' } },
  },
};

const read = (client) => client.get({ index: 'slow', id: '1' });

async function client(name, nodes) {
  const c = contenders[name];
  if (c.policy === undefined) {
    const raw = new Client({ nodes });
    return { call: () => read(raw), close: () => raw.close() };
  }
  const base = presets.elasticsearch.policy;
  const policy = {
    ...base,
    retry: { ...base.retry, ...c.policy.retry },
    pool: { ...base.pool, ...c.policy.pool },
  };
  const target = createTarget({
    name: `slow-node-${name}`,
    driver: elasticsearchDriver,
    options: { nodes },
    policy,
  });
  await target.start();
  return {
    call: () => target.execute((es) => read(es), { idempotent: true, readOnly: true, name: 'get' }),
    close: () => target.stop(),
  };
}

/** The healthy median time of a read straight to a node, to slow the third node by 10× of it. */
async function healthyMedian(nodes) {
  const raw = new Client({ nodes: [nodes[0]] });
  const median = await sequentialMedian(() => read(raw));
  await raw.close();
  return median;
}

async function runOne(name) {
  const cluster = await startElasticsearchCluster({ nodes: 3 });
  const [n1, n2, n3] = cluster.nodes;
  const proxy = await startFaultProxy({ target: { host: n3.host, port: n3.port } });
  try {
    const nodes = [n1, n2]
      .map((n) => `http://${n.host}:${n.port}`)
      .concat(`http://${proxy.host}:${proxy.port}`);
    const setup = new Client({ nodes: [nodes[0]] });
    await setup.index({ index: 'slow', id: '1', document: { v: 1 }, refresh: true });
    await setup.close();
    const median = await healthyMedian(nodes);
    const slowBy = Math.max(1, Math.round(median * 10));
    const c = await client(name, nodes);
    await drive(c.call, rate, 500, 'warmup', []).then((d) => d.settled);
    const records = [];
    const before = cluster.requests().length;
    const runs = [await drive(c.call, rate, healthyMs, 'healthy', records)];
    proxy.latency(slowBy, 'toClient', { jitterMs: Math.max(1, Math.round(slowBy / 3)) });
    runs.push(await drive(c.call, rate, slowMs, 'slow', records));
    proxy.latency(0, 'toClient');
    runs.push(await drive(c.call, rate, healthyMs, 'after', records));
    await Promise.all(runs.map((r) => r.settled));
    const received = cluster.requests().length - before;
    const offered = runs.reduce((n, r) => n + r.issued, 0);
    await c.close();
    const healthy = summarize(records, 'healthy', slowBy);
    const slow = summarize(records, 'slow', slowBy);
    return {
      contender: name,
      title: contenders[name].title,
      healthyMedianMs: round(median),
      slowedByMs: slowBy,
      healthy,
      slow,
      after: summarize(records, 'after', slowBy),
      slowP99VsHealthyP99: slow.p99 === null ? null : round(slow.p99 / healthy.p99),
      extraLoad: round(received / offered - 1, 3),
    };
  } finally {
    await proxy.close();
    await cluster.stop();
  }
}

const results = [];
for (const name of values.contenders.split(',')) {
  const runs = [];
  for (let i = 0; i < Number(values.repeat); i++) runs.push(await runOne(name));
  runs.sort((a, b) => a.slowP99VsHealthyP99 - b.slowP99VsHealthyP99);
  const row = {
    ...runs[Math.floor(runs.length / 2)],
    runs: runs.length,
    ratioRange: [runs[0].slowP99VsHealthyP99, runs.at(-1).slowP99VsHealthyP99],
  };
  results.push(row);
  console.log(
    `${row.title.padEnd(40)} healthy p50 ${row.healthy.p50} p95 ${row.healthy.p95} p99 ${row.healthy.p99} | slow (+${row.slowedByMs} ms on 1 of 3) p50 ${row.slow.p50} p95 ${row.slow.p95} p99 ${row.slow.p99} = ${row.slowP99VsHealthyP99}× (runs ${row.ratioRange.join('–')}), ${row.slow.slowShare * 100} % ≥ +${row.slowedByMs} ms, failed ${JSON.stringify(row.slow.failed)} | after p99 ${row.after.p99} | extra load ${row.extraLoad}`,
  );
}
const out = { rate, healthyS: healthyMs / 1000, slowS: slowMs / 1000, node: process.version, results };
mkdirSync(dirname(values.json), { recursive: true });
writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${values.json}`);
