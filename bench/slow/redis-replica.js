// `node bench/slow/redis-replica.js` (after `npx tsc -b`): one Redis Cluster replica slowed 10× with jitter, issue #28.
// A real cluster of the testkit's throwaway servers (3 masters, 3 replicas, loopback); the client reaches every node
// through the testkit's fault proxy (ioredis natMap), the proxies run in a child process so they do not share the
// client's event loop. While slowed, the proxy of one replica delays its replies by 10× the healthy median read
// time, plus up to a third of it at random. Callers issue idempotent GETs of 300 keys spread over the three shards,
// open loop at each `--rates` per second: `--healthy` s, `--slow` s slowed, `--after` s healthy again.
// Contenders, alternating within each repeat and rate, each on a fresh client: raw ioredis Cluster (scaleReads
// 'slave'); Reconnect preset:redis with scaleReads 'slave' (ioredis's random replica); + pool.selector
// least-latency (the driver's replica choice by latency, falling back to the master while the replica is slow).
// Per phase: p50/p95/p99, the share of reads that took at least the added delay ("slow reads"), the GETs the
// masters served (reads that left the replicas), and extra load (GETs the servers received per GET asked for,
// minus 1; from INFO commandstats).
//   node bench/slow/redis-replica.js [--rates 300,1000,3000] [--contenders raw,preset,least-latency] [--repeat 3]
//        [--healthy 4] [--slow 6] [--after 3] [--json bench/slow/results/redis-replica.json]
import { execFile, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { drive, pct, summarize as summarizePhase } from './open-loop.js';

if (process.argv[2] === '--proxy-child') await proxyChild();
else await main();

/** The child: a fault proxy per node; answers with their ports, then applies latency messages. */
async function proxyChild() {
  const { startFaultProxy } = await import('@reconnect/testkit');
  const ports = JSON.parse(process.argv[3]);
  const proxies = await Promise.all(
    ports.map((port) => startFaultProxy({ target: { host: '127.0.0.1', port } })),
  );
  process.send({ ports: proxies.map((p) => p.port) });
  process.on('message', async (m) => {
    if (m.latency !== undefined)
      proxies[m.index].latency(m.latency, 'toClient', { jitterMs: m.jitterMs ?? 0 });
    if (m.close) {
      await Promise.all(proxies.map((p) => p.close()));
      process.send({ closed: true });
      process.exit(0);
    }
    if (m.latency !== undefined) process.send({ applied: m.seq });
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '300,1000,3000' },
      contenders: { type: 'string', default: 'raw,preset,least-latency' },
      repeat: { type: 'string', default: '3' },
      healthy: { type: 'string', default: '4' },
      slow: { type: 'string', default: '6' },
      after: { type: 'string', default: '3' },
      json: { type: 'string', default: 'bench/slow/results/redis-replica.json' },
    },
  });
  const { Cluster, Redis } = await import('ioredis');
  const { createTarget } = await import('@reconnect/core');
  const { presets } = await import('@reconnect/policies');
  const { redisDriver, redisOptionsSchema } = await import('@reconnect/driver-redis');
  const { startRedis } = await import('@reconnect/testkit');

  const rates = values.rates.split(',').map(Number);
  const names = values.contenders.split(',');
  const phaseMs = {
    healthy: Number(values.healthy) * 1000,
    slow: Number(values.slow) * 1000,
    after: Number(values.after) * 1000,
  };
  const titles = {
    raw: "raw ioredis Cluster (scaleReads 'slave')",
    preset: "Reconnect preset:redis, scaleReads 'slave'",
    'least-latency': '+ pool.selector least-latency',
  };

  // The cluster.
  const servers = [];
  for (let i = 0; i < 6; i++)
    servers.push(await startRedis({ config: { 'cluster-enabled': 'yes', 'cluster-node-timeout': 15000 } }));
  const stops = [() => Promise.allSettled(servers.map((s) => s.stop()))];
  try {
    await promisify(execFile)(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const admins = new Map(servers.map((s) => [s.port, new Redis({ port: s.port, lazyConnect: true })]));
    stops.unshift(() => Promise.allSettled([...admins.values()].map((a) => a.quit())));
    const slotTable = async () => {
      for (let i = 0; i < 300; i++) {
        const tables = await Promise.all(
          [...admins.values()].map((a) => a.call('CLUSTER', 'SLOTS').catch(() => [])),
        );
        if (tables.every((t) => t.length === 3 && t.every((r) => r.length >= 4))) return tables[0];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the cluster did not list a replica per shard in 30 s');
    };
    const table = await slotTable();
    const masters = table.map((r) => r[2][1]);
    const replicas = table.map((r) => r[3][1]);

    // Proxies for every node, in a child process.
    const ports = [...masters, ...replicas];
    const child = fork(fileURLToPath(import.meta.url), ['--proxy-child', JSON.stringify(ports)]);
    const proxyPorts = await new Promise((resolve) => child.once('message', (m) => resolve(m.ports)));
    stops.unshift(
      () =>
        new Promise((resolve) => {
          child.once('exit', resolve);
          child.send({ close: true });
        }),
    );
    let seq = 0;
    const setLatency = (index, latency, jitterMs) =>
      new Promise((resolve) => {
        const mine = ++seq;
        const on = (m) => {
          if (m.applied !== mine) return;
          child.off('message', on);
          resolve();
        };
        child.on('message', on);
        child.send({ index, latency, jitterMs, seq: mine });
      });
    const natMap = Object.fromEntries(
      ports.map((p, i) => [`127.0.0.1:${p}`, { host: '127.0.0.1', port: proxyPorts[i] }]),
    );
    const seeds = masters.map((_, i) => ({ host: '127.0.0.1', port: proxyPorts[i] }));
    const slowIndex = masters.length; // the first shard's replica
    const slowReplica = replicas[0];

    // 300 keys over the three shards, on the replicas too.
    const keys = Array.from({ length: 300 }, (_, i) => `slow:${i}`);
    const setup = new Cluster(seeds, { natMap });
    for (const k of keys) await setup.set(k, 'v'.repeat(64));
    await setup.quit();
    for (let i = 0; i < 100; i++) {
      const sizes = await Promise.all(replicas.map((p) => admins.get(p).dbsize()));
      if (sizes.reduce((a, b) => a + b, 0) === keys.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    const gets = async (list) => {
      const counts = await Promise.all(
        list.map(async (p) =>
          Number(/cmdstat_get:calls=(\d+)/.exec(await admins.get(p).info('commandstats'))?.[1] ?? 0),
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    };

    /** The healthy median time of a GET through a replica's proxy, straight (no cluster client). */
    const healthyMedian = async () => {
      const r = new Redis({ port: proxyPorts[slowIndex] });
      await r.readonly();
      const key = await firstKeyOf(r);
      const times = [];
      for (let i = 0; i < 400; i++) {
        const t = performance.now();
        await r.get(key);
        times.push(performance.now() - t);
      }
      r.disconnect();
      return pct(
        times.sort((a, b) => a - b),
        0.5,
      );
    };
    const firstKeyOf = async (r) => {
      for (const k of keys) if ((await r.exists(k).catch(() => 0)) === 1) return k;
      return keys[0];
    };

    const client = async (name) => {
      if (name === 'raw') {
        const raw = new Cluster(seeds, { scaleReads: 'slave', natMap });
        await new Promise((resolve) => raw.once('ready', resolve));
        return { get: (k) => raw.get(k), close: () => raw.quit() };
      }
      const base = presets.redis.policy;
      const policy =
        name === 'least-latency' ? { ...base, pool: { ...base.pool, selector: 'least-latency' } } : base;
      const target = createTarget({
        name: `replica-${name}`,
        driver: redisDriver,
        options: redisOptionsSchema.parse({ cluster: { nodes: seeds, scaleReads: 'slave', natMap } }),
        policy,
      });
      await target.start();
      return {
        get: (k) => target.execute((r) => r.get(k), { idempotent: true, name: 'get' }),
        close: () => target.stop(),
      };
    };

    const runCell = async (name, rate, slowBy) => {
      const c = await client(name);
      const read = () => c.get(keys[Math.floor(Math.random() * keys.length)]);
      await (
        await drive(read, rate, 1500, 'warmup', [])
      ).settled;
      const records = [];
      const phases = {};
      const snapshot = async () => ({
        all: await gets(ports),
        masters: await gets(masters),
        slow: await gets([slowReplica]),
      });
      let before = await snapshot();
      const phase = async (label, ms) => {
        const run = await drive(read, rate, ms, label, records);
        await run.settled;
        const now = await snapshot();
        phases[label] = {
          issued: run.issued,
          received: now.all - before.all,
          onMasters: now.masters - before.masters,
          onSlowReplica: now.slow - before.slow,
        };
        before = await snapshot();
      };
      await phase('healthy', phaseMs.healthy);
      await setLatency(slowIndex, slowBy, Math.max(1, Math.round(slowBy / 3)));
      await phase('slow', phaseMs.slow);
      await setLatency(slowIndex, 0, 0);
      await phase('after', phaseMs.after);
      await c.close();
      const summary = {};
      for (const label of ['healthy', 'slow', 'after']) {
        const p = phases[label];
        summary[label] = {
          ...summarize(records, label, slowBy),
          mastersShare: round(p.onMasters / p.received, 4),
          slowReplicaShare: round(p.onSlowReplica / p.received, 4),
          extraLoad: round(p.received / p.issued - 1, 4),
        };
      }
      const { healthy, slow } = summary;
      return {
        contender: name,
        title: titles[name],
        rate,
        slowedByMs: slowBy,
        ...summary,
        slowP99VsHealthyP99: slow.p99 === null ? null : round(slow.p99 / healthy.p99),
        extraLoad: round(
          Object.values(phases).reduce((n, p) => n + p.received, 0) /
            Object.values(phases).reduce((n, p) => n + p.issued, 0) -
            1,
          4,
        ),
        load1: round(loadavg()[0]),
      };
    };

    const cells = [];
    for (let r = 0; r < Number(values.repeat); r++) {
      const median = await healthyMedian();
      const slowBy = Math.max(1, Math.round(median * 10 * 10) / 10);
      for (const rate of rates)
        for (const name of names) {
          const cell = await runCell(name, rate, slowBy);
          cell.repeat = r + 1;
          cell.healthyMedianMs = round(median, 3);
          cells.push(cell);
          console.log(
            `#${r + 1} ${String(rate).padStart(5)}/s ${cell.title.padEnd(44)} healthy p50 ${cell.healthy.p50} p99 ${cell.healthy.p99} | slowed (+${slowBy} ms) p50 ${cell.slow.p50} p99 ${cell.slow.p99} = ${cell.slowP99VsHealthyP99}× | slow reads ${pctText(cell.slow.slowShare)} (healthy ${pctText(cell.healthy.slowShare)}) | on masters ${pctText(cell.slow.mastersShare)} (healthy ${pctText(cell.healthy.mastersShare)}) | failed ${JSON.stringify(cell.slow.failed)} | extra ${pctText(cell.extraLoad)} | load ${cell.load1}`,
          );
        }
    }

    // Per rate and contender: the run with the median ratio, and the range over the repeats.
    const rows = [];
    for (const rate of rates)
      for (const name of names) {
        const mine = cells
          .filter((c) => c.rate === rate && c.contender === name)
          .sort((a, b) => a.slowP99VsHealthyP99 - b.slowP99VsHealthyP99);
        const mid = mine[Math.floor(mine.length / 2)];
        rows.push({
          rate,
          contender: name,
          title: titles[name],
          runs: mine.length,
          median: mid,
          ratioRange: [mine[0].slowP99VsHealthyP99, mine.at(-1).slowP99VsHealthyP99],
          slowShareRange: minMax(mine.map((c) => c.slow.slowShare)),
          extraLoadRange: minMax(mine.map((c) => c.extraLoad)),
        });
      }
    console.log(
      '\nrate | contender | healthy p50 / p99 | slowed p50 / p99 | ratio (range) | slow reads slowed (range) | on masters healthy / slowed | extra',
    );
    for (const r of rows) {
      const m = r.median;
      console.log(
        `${r.rate} | ${r.title} | ${m.healthy.p50} / ${m.healthy.p99} | ${m.slow.p50} / ${m.slow.p99} | ${m.slowP99VsHealthyP99}× (${r.ratioRange.join('–')}) | ${pctText(m.slow.slowShare)} (${r.slowShareRange.map(pctText).join('–')}) | ${pctText(m.healthy.mastersShare)} / ${pctText(m.slow.mastersShare)} | ${pctText(m.extraLoad)}`,
      );
    }
    const out = {
      rates,
      phasesS: { healthy: phaseMs.healthy / 1000, slow: phaseMs.slow / 1000, after: phaseMs.after / 1000 },
      node: process.version,
      rows,
      cells,
    };
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${values.json}`);
  } finally {
    for (const stop of stops) await stop();
  }
}

function round(v, digits = 2) {
  return v === null || Number.isNaN(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits;
}

function pctText(share) {
  return share === null ? '–' : `${round(share * 100, 1)} %`;
}

function minMax(list) {
  return [Math.min(...list), Math.max(...list)];
}

/** open-loop.js's summary of one phase, with its slow reads per 500 ms (how fast they went, whether some keep coming). */
function summarize(records, phase, slowMs) {
  const mine = records.filter((r) => r.phase === phase);
  const timeline = [];
  const t0 = mine[0]?.at ?? 0;
  for (const r of mine) {
    const i = Math.floor((r.at - t0) / 500);
    timeline[i] ??= 0;
    if (r.ok && r.ms >= slowMs) timeline[i]++;
  }
  return { ...summarizePhase(records, phase, slowMs), slowPer500ms: Array.from(timeline, (n) => n ?? 0) };
}
