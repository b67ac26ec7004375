// `node bench/slow/mysql-replica.js` (after `npx tsc -b`): one MySQL replica of two slowed 10× with jitter, issue #28.
// The testkit's real replicated MariaDB set (a primary and two replicas, GTID binlog replication, all on loopback);
// the second replica is reached through the testkit's fault proxy, which delays its replies by 10× the healthy median
// read (a read straight to that replica, one after another) plus a random share of a third of it, while slowed.
// Callers issue idempotent reads (`SELECT v FROM test.slow WHERE id = ?`, a random primary key, `readOnly` and
// `idempotent` for Reconnect) open-loop at each `--rates` per second: `--healthy` s, `--slow` s slowed, `--healthy` s.
// Contenders, alternating on the same servers in each repeat (a fresh replica set per repeat): raw mysql2 (a
// PoolCluster over the two replicas, round-robin: what a user writes); Reconnect with preset:mysql; + least-latency;
// + `retry.hedge` (p95, 5 %); + both.
// Per phase: p50/p95/p99 of the reads, the share of slow reads (reads that took at least the added delay), failures;
// and from the servers' own counters (`SHOW GLOBAL STATUS`, every server, health probes included): extra load =
// SELECTs the servers ran per read asked for, minus 1; the share of the slowed phase's reads the slow replica ran;
// KILL statements and new connections (a hedge's loser is killed and its connection replaced).
// The goal (issue #28): slowed p99 ≤ 1.2× healthy p99 at ≤ 5 % extra requests.
//   node bench/slow/mysql-replica.js [--contenders raw,preset,least-latency,hedge,both] [--rates 100,300,1000]
//        [--healthy 6] [--slow 8] [--repeat 3] [--json bench/slow/results/slow-replica.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createPool, createPoolCluster } from 'mysql2/promise';
import { createTarget } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import mysqlDriver from '@reconnect/driver-mysql';
import { startFaultProxy, startMariaDBReplicaSet } from '@reconnect/testkit';
import { drive, round, sequentialMedian, summarize } from './open-loop.js';

const { values } = parseArgs({
  options: {
    contenders: { type: 'string', default: 'raw,preset,least-latency,hedge,both' },
    rates: { type: 'string', default: '100,300,1000' },
    healthy: { type: 'string', default: '6' },
    slow: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string', default: 'bench/slow/results/slow-replica.json' },
  },
});
const healthyMs = Number(values.healthy) * 1000;
const slowMs = Number(values.slow) * 1000;
const ROWS = 1000;
const SQL = 'SELECT v FROM test.slow WHERE id = ?';
const key = () => 1 + Math.floor(Math.random() * ROWS);

const hedge = { enabled: true, delay: 'p95', maxExtraLoad: '5%', maxAttempts: 2 };
const contenders = {
  raw: { title: 'raw mysql2 PoolCluster (round-robin)' },
  preset: { title: 'Reconnect, preset:mysql', policy: {} },
  'least-latency': {
    title: '+ pool.selector least-latency',
    policy: { pool: { selector: 'least-latency' } },
  },
  hedge: { title: '+ retry.hedge (p95, 5 %)', policy: { retry: { hedge } } },
  both: {
    title: '+ hedge and least-latency',
    policy: { retry: { hedge }, pool: { selector: 'least-latency' } },
  },
};

async function client(name, set, replicaAddresses) {
  const { user, password } = set.appUser;
  const c = contenders[name];
  if (c.policy === undefined) {
    const cluster = createPoolCluster({ defaultSelector: 'RR' });
    replicaAddresses.forEach(({ host, port }, i) =>
      cluster.add(`replica${i + 1}`, { host, port, user, password, database: 'test', connectionLimit: 10 }),
    );
    const replicas = cluster.of('replica*', 'RR');
    return { call: () => replicas.query(SQL, [key()]), close: () => cluster.end() };
  }
  const base = presets.mysql.policy;
  const policy = {
    ...base,
    retry: { ...base.retry, ...c.policy.retry },
    pool: { ...base.pool, ...c.policy.pool },
  };
  const target = createTarget({
    name: `slow-replica-${name}`,
    driver: mysqlDriver,
    options: {
      primary: `127.0.0.1:${set.primary.port}`,
      replicas: replicaAddresses.map(({ host, port }) => `${host}:${port}`),
      user,
      password,
      database: 'test',
    },
    policy,
  });
  await target.start();
  return {
    call: () =>
      target.execute((pool) => pool.query(SQL, [key()]), { idempotent: true, readOnly: true, name: 'get' }),
    close: () => target.stop(),
  };
}

/** Root connections straight to every server (never through the proxy), to read their own counters. */
async function counters(set) {
  const pools = set.servers.map((s) =>
    createPool({ host: '127.0.0.1', port: s.port, user: 'root', database: 'test', connectionLimit: 1 }),
  );
  const read = async () =>
    Promise.all(
      pools.map(async (p) => {
        const [rows] = await p.query(
          "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_select', 'Com_kill', 'Connections')",
        );
        return Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), Number(r.Value)]));
      }),
    );
  return { read, close: () => Promise.all(pools.map((p) => p.end())) };
}

const sum = (snaps, field) => snaps.reduce((n, s) => n + s[field], 0);
const delta = (a, b, field) => sum(b, field) - sum(a, field);

async function runOne(name, set, proxy, stats, rate) {
  const [r1, r2] = set.replicas;
  const direct = createPool({ ...set.appUser, host: '127.0.0.1', port: r2.port, database: 'test' });
  const median = await sequentialMedian(() => direct.query(SQL, [key()]));
  await direct.end();
  const slowBy = Math.max(1, Math.round(median * 10));
  const addresses = [
    { host: '127.0.0.1', port: r1.port },
    { host: proxy.host, port: proxy.port },
  ];
  const c = await client(name, set, addresses);
  // Long enough for the pools to grow to what the rate needs (the driver opens connections paced, 5 a second).
  await drive(c.call, rate, 2000, 'warmup', []).then((d) => d.settled);
  const records = [];
  const snaps = [await stats.read()];
  const runs = [await drive(c.call, rate, healthyMs, 'healthy', records)];
  snaps.push(await stats.read());
  proxy.latency(slowBy, 'toClient', { jitterMs: Math.max(1, Math.round(slowBy / 3)) });
  runs.push(await drive(c.call, rate, slowMs, 'slow', records));
  proxy.latency(0, 'toClient');
  snaps.push(await stats.read());
  runs.push(await drive(c.call, rate, healthyMs, 'after', records));
  await Promise.all(runs.map((r) => r.settled));
  snaps.push(await stats.read());
  await c.close();
  const offered = runs.reduce((n, r) => n + r.issued, 0);
  const healthy = summarize(records, 'healthy', slowBy);
  const slow = summarize(records, 'slow', slowBy);
  const bothP99 = summarize(
    records.map((r) => (r.phase === 'after' ? { ...r, phase: 'healthy' } : r)),
    'healthy',
    slowBy,
  ).p99;
  // servers: [primary, replica1, replica2 (the slowed one)]
  const slowIssued = runs[1].issued;
  return {
    contender: name,
    title: contenders[name].title,
    rate,
    load: round(loadavg()[0]),
    healthyMedianMs: round(median, 3),
    slowedByMs: slowBy,
    healthy,
    slow,
    after: summarize(records, 'after', slowBy),
    slowP99VsHealthyP99: slow.p99 === null ? null : round(slow.p99 / healthy.p99),
    // Both healthy phases, before and after (twice the reads, and the slowed phase's neighbours on both sides): a
    // steadier reference on a shared machine, where one phase's p99 moves by 2–10× from run to run.
    healthyBothP99: bothP99,
    slowP99VsBothHealthyP99: slow.p99 === null ? null : round(slow.p99 / bothP99),
    extraLoad: round(delta(snaps[0], snaps[3], 'com_select') / offered - 1, 4),
    extraLoadSlowed: round(delta(snaps[1], snaps[2], 'com_select') / slowIssued - 1, 4),
    slowReplicaShareSlowed: round((snaps[2][2].com_select - snaps[1][2].com_select) / slowIssued, 4),
    primaryShare: round((snaps[3][0].com_select - snaps[0][0].com_select) / offered, 4),
    kills: delta(snaps[0], snaps[3], 'com_kill'),
    newConnections: delta(snaps[0], snaps[3], 'connections'),
  };
}

/**
 * A fresh replica set; tried again (3 times in all) when a server fails to start: mariadb-install-db's bootstrap
 * sometimes fails on a loaded machine (a temporary table gone from the shared /tmp), and one failure would lose the run.
 */
async function startSet() {
  for (let tries = 1; ; tries++) {
    try {
      return await startMariaDBReplicaSet({ replicas: 2 });
    } catch (error) {
      if (tries >= 3 || error?.code !== 'ERR_TESTKIT_SERVER_START') throw error;
      console.log(`replica set did not start (${error.message}); again`);
    }
  }
}

const names = values.contenders.split(',');
const rates = values.rates.split(',').map(Number);
const all = [];
for (let i = 0; i < Number(values.repeat); i++) {
  const set = await startSet();
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: set.replicas[1].port } });
  const stats = await counters(set);
  try {
    await set.sql(set.primary, 'CREATE TABLE test.slow (id INT PRIMARY KEY, v INT)');
    const rows = Array.from({ length: ROWS }, (_, k) => `(${k + 1}, ${k})`).join(',');
    await set.sql(set.primary, `INSERT INTO test.slow VALUES ${rows}`);
    await set.sync();
    for (const rate of rates) {
      // Alternate: each repeat starts at another contender, so none always runs first or last.
      const order = names.map((_, k) => names[(k + i) % names.length]);
      for (const name of order) {
        const r = await runOne(name, set, proxy, stats, rate);
        all.push({ ...r, repeat: i + 1 });
        console.log(
          `#${i + 1} ${String(rate).padStart(4)}/s ${r.title.padEnd(38)} healthy p50/95/99 ${r.healthy.p50}/${r.healthy.p95}/${r.healthy.p99} | +${r.slowedByMs} ms: ${r.slow.p50}/${r.slow.p95}/${r.slow.p99} = ${r.slowP99VsHealthyP99}× (vs both healthy ${r.slowP99VsBothHealthyP99}×) slow ${round(r.slow.slowShare * 100, 1)} % (healthy ${round(r.healthy.slowShare * 100, 1)} %) on slow replica ${round(r.slowReplicaShareSlowed * 100, 1)} % | extra ${round(r.extraLoad * 100, 1)} % (slowed ${round(r.extraLoadSlowed * 100, 1)} %) kills ${r.kills} conns ${r.newConnections} failed ${JSON.stringify(r.slow.failed)} | load ${r.load}`,
        );
      }
    }
  } finally {
    await stats.close();
    await proxy.close();
    await set.stop();
  }
  // After every repeat, so a later failure does not lose the runs done.
  write();
}

// Per rate and contender: the run with the median ratio, and the range over the repeats.
function write() {
  const results = [];
  for (const rate of rates)
    for (const name of names) {
      const runs = all
        .filter((r) => r.rate === rate && r.contender === name)
        .sort((a, b) => a.slowP99VsHealthyP99 - b.slowP99VsHealthyP99);
      const mid = runs[Math.floor(runs.length / 2)];
      const range = (f) => [Math.min(...runs.map(f)), Math.max(...runs.map(f))];
      results.push({
        ...mid,
        runs: runs.length,
        ratioRange: range((r) => r.slowP99VsHealthyP99),
        ratioBothRange: range((r) => r.slowP99VsBothHealthyP99),
        slowShareRange: range((r) => r.slow.slowShare),
        extraLoadRange: range((r) => r.extraLoad),
      });
    }
  const out = {
    rates,
    healthyS: healthyMs / 1000,
    slowS: slowMs / 1000,
    node: process.version,
    results,
    runs: all,
  };
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${values.json}`);
}
