// `npm run bench:keys` (= tsc -b && node bench/keys/run.js): what a write with an idempotency key (issue #27)
// costs against the same write without one, through the same target with the store's preset, side by side in
// one process against throwaway servers: N callers in a closed loop, rounds alternating plain and keyed, medians.
//   node bench/keys/run.js [--stores redis,mysql,elasticsearch] [--callers 1,16] [--rounds 4] [--seconds 2] [--json FILE]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createTarget } from '@reconnect/core';
import mysqlDriver, { ensureIdempotencyKeyTable, statementOnce } from '@reconnect/driver-mysql';
import redisDriver, { redisCommands } from '@reconnect/driver-redis';
import { presets } from '@reconnect/policies';
import { cleanupAll, startElasticsearchCluster, startMariaDB, startRedis } from '@reconnect/testkit';
import elasticsearchDriver, { elasticsearchRequests } from '@reconnect/driver-elasticsearch';

const { values } = parseArgs({
  options: {
    stores: { type: 'string', default: 'redis,mysql,elasticsearch' },
    callers: { type: 'string', default: '1,16' },
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const callersList = values.callers.split(',').map(Number);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
let seq = 0;

/** Each store: a started target and its two writes (a unique id each call). */
const storeSetups = {
  async redis() {
    const server = await startRedis();
    const target = createTarget({
      name: 'keys-redis',
      driver: redisDriver,
      options: { host: server.host, port: server.port },
      policy: presets.redis.policy,
    });
    await target.start();
    const cmds = redisCommands(target);
    return {
      plain: () => {
        const id = `w${++seq}`;
        return target.execute((c) => c.rpush('bench:plain', id), { name: 'RPUSH' });
      },
      keyed: () => {
        const id = `w${++seq}`;
        return cmds.callOnce(id, 'RPUSH', 'bench:keyed', id);
      },
      write: 'RPUSH',
      fence: 'callOnce: the guard key (SET PX) and RPUSH in one script',
      stop: async () => {
        await target.stop();
        await server.stop();
      },
    };
  },
  async mysql() {
    const server = await startMariaDB();
    const target = createTarget({
      name: 'keys-mysql',
      driver: mysqlDriver,
      options: { uri: `mysql://root@${server.host}:${server.port}/${server.options.database}` },
      policy: presets.mysql.policy,
    });
    await target.start();
    await target.execute((p) =>
      p.query('CREATE TABLE w (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB'),
    );
    await ensureIdempotencyKeyTable(target);
    return {
      plain: () => {
        const id = `w${++seq}`;
        return target.execute((p) => p.query('INSERT INTO w (v) VALUES (?)', [id]), { name: 'INSERT' });
      },
      keyed: () => {
        const id = `w${++seq}`;
        return statementOnce(target, id, 'INSERT INTO w (v) VALUES (?)', [id]);
      },
      write: 'INSERT (autocommit)',
      fence: 'statementOnce: START TRANSACTION, key row INSERT, the INSERT, COMMIT',
      stop: async () => {
        await target.stop();
        await server.stop();
      },
    };
  },
  async elasticsearch() {
    const cluster = await startElasticsearchCluster();
    const nodes = cluster.nodes.map((n) => `http://${n.host}:${n.port}`);
    const make = (name, clientIds) =>
      createTarget({
        name,
        driver: elasticsearchDriver,
        options: { nodes, clientIds },
        policy: presets.elasticsearch.policy,
      });
    const plainTarget = make('keys-es-plain', false);
    const keyedTarget = make('keys-es-keyed', true);
    await Promise.all([plainTarget.start(), keyedTarget.start()]);
    const plainEs = elasticsearchRequests(plainTarget);
    const keyedEs = elasticsearchRequests(keyedTarget);
    return {
      plain: () => plainEs.index({ index: 'bench-plain', document: { v: ++seq } }),
      keyed: () => keyedEs.index({ index: 'bench-keyed', document: { v: ++seq } }),
      write: 'index without an id (POST _doc)',
      fence: 'clientIds: PUT _doc/<uuid>?op_type=create (the test cluster, not Lucene)',
      stop: async () => {
        await Promise.all([plainTarget.stop(), keyedTarget.stop()]);
        await cluster.stop();
      },
    };
  },
};

async function closedLoop(fn, callers, ms) {
  const latencies = [];
  const end = performance.now() + ms;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await fn();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    opsPerS: (latencies.length / ms) * 1000,
    p50: q(0.5),
    p99: q(0.99),
    cpuUsPerOp: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const rows = [];
try {
  for (const name of values.stores.split(',')) {
    const s = await storeSetups[name]();
    try {
      for (const callers of callersList) {
        await closedLoop(s.plain, callers, 500); // warm-up
        await closedLoop(s.keyed, callers, 500);
        const runs = { plain: [], keyed: [] };
        for (let r = 0; r < rounds; r++)
          for (const k of r % 2 === 0 ? ['plain', 'keyed'] : ['keyed', 'plain'])
            runs[k].push(await closedLoop(s[k], callers, seconds * 1000));
        const m = (k, f) => median(runs[k].map((x) => x[f]));
        const row = {
          store: name,
          write: s.write,
          fence: s.fence,
          callers,
          plain: { opsPerS: m('plain', 'opsPerS'), p50: m('plain', 'p50'), p99: m('plain', 'p99') },
          keyed: { opsPerS: m('keyed', 'opsPerS'), p50: m('keyed', 'p50'), p99: m('keyed', 'p99') },
          cpuUsPerOp: { plain: m('plain', 'cpuUsPerOp'), keyed: m('keyed', 'cpuUsPerOp') },
        };
        row.throughputRatio = row.keyed.opsPerS / row.plain.opsPerS;
        rows.push(row);
        process.stdout.write(
          `${name} ${callers} caller(s): plain ${Math.round(row.plain.opsPerS)} ops/s p50 ${row.plain.p50.toFixed(2)} p99 ${row.plain.p99.toFixed(2)} ms; keyed ${Math.round(row.keyed.opsPerS)} ops/s p50 ${row.keyed.p50.toFixed(2)} p99 ${row.keyed.p99.toFixed(2)} ms; ratio ${row.throughputRatio.toFixed(2)}\n`,
        );
      }
    } finally {
      await s.stop();
    }
  }
} finally {
  await cleanupAll();
}
const machine = {
  node: process.version,
  cpus: os.cpus().length,
  load: os.loadavg(),
  at: new Date().toISOString(),
};
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ machine, rows }, null, 2)}\n`);
