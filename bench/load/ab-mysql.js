// A/B of the MySQL driver's hot path (issue #21), in one process against one throwaway MariaDB: the raw mysql2 pool,
// a target on a saved copy of the driver's build ("before") and a target on this checkout's build ("after"), rounds
// alternating the three in rotating order, medians; each Reconnect contender's ratios to the raw pool of the same
// round, and after ÷ before. Both targets use the same core (this checkout's), so only the driver differs. `--after`
// takes another copy of a build instead of this checkout's (the default).
//   cp -r packages/driver-mysql/dist .scratch/mysql-before-dist    # before the change
//   npx tsc -b && node bench/load/ab-mysql.js --before .scratch/mysql-before-dist [--after DIR] [--op select|tx]
//        [--callers 1,8,64] [--rounds 6] [--seconds 1.5] [--warmup 0.5]
// Prints only (not part of `npm test`, writes nothing).
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { createTarget } from '@reconnect/core';
import * as built from '@reconnect/driver-mysql';
import { presets } from '@reconnect/policies';
import { cleanupAll, startMariaDB } from '@reconnect/testkit';
import { runRound, startGcObserver, stopGcObserver } from './measure.js';
import { median } from './section.js';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    op: { type: 'string', default: 'select' },
    callers: { type: 'string', default: '1,8,64' },
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '1.5' },
    warmup: { type: 'string', default: '0.5' },
  },
});
if (values.before === undefined)
  throw new Error('--before DIR: a copy of packages/driver-mysql/dist to compare with');
if (values.op !== 'select' && values.op !== 'tx') throw new Error('--op: select or tx');
const load = (dir) => import(pathToFileURL(path.resolve(dir, 'index.js')).href);
const before = await load(values.before);
const after = values.after === undefined ? built : await load(values.after);
const callersList = values.callers.split(',').map(Number);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
if (![...callersList, rounds, seconds].every((n) => Number.isFinite(n) && n > 0) || !(warmup >= 0))
  throw new Error('--callers, --rounds, --seconds take positive numbers, --warmup a number ≥ 0');
const POOL_SIZE = 10;
const say = (line) => process.stdout.write(`${line}\n`);

async function rawTransaction(pool) {
  const conn = await pool.getConnection();
  try {
    await conn.query('START TRANSACTION');
    await conn.query('SELECT 1');
    await conn.query('COMMIT');
  } finally {
    conn.release();
  }
}

const server = await startMariaDB();
const lanes = {};
try {
  const { host, port, database } = server.options;
  const raw = mysql.createPool({ ...server.options, connectionLimit: POOL_SIZE });
  await raw.query('SELECT 1');
  const uri = `mysql://root@${host}:${port}/${database}`;
  const target = async (name, driver) => {
    const t = createTarget({
      name,
      driver: driver.mysqlDriver,
      options: { uri, connectionLimit: POOL_SIZE },
      policy: presets.mysql.policy,
    });
    await t.start();
    if (values.op === 'tx') {
      const body = (conn) => conn.query('SELECT 1');
      return { t, op: () => driver.transaction(t, body) };
    }
    const fn = (pool) => pool.query('SELECT 1');
    const options = { idempotent: true, name: 'SELECT 1' };
    return { t, op: () => t.execute(fn, options) };
  };
  lanes.raw = {
    op: values.op === 'tx' ? () => rawTransaction(raw) : () => raw.query('SELECT 1'),
    close: () => raw.end(),
  };
  const b = await target('ab-before', before);
  lanes.before = { op: b.op, close: () => b.t.stop() };
  const a = await target('ab-after', after);
  lanes.after = { op: a.op, close: () => a.t.stop() };
  const keys = ['raw', 'before', 'after'];
  const load0 = os.loadavg();
  say(
    `ab-mysql --op ${values.op}: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${load0.map((x) => x.toFixed(2)).join(' / ')}; ` +
      `callers ${callersList.join('/')}, ${rounds} rounds of ${seconds} s, warm-up ${warmup} s; before = ${values.before}`,
  );
  startGcObserver();
  for (const callers of callersList) {
    const results = { raw: [], before: [], after: [] };
    if (warmup > 0) for (const k of keys) await runRound({ op: lanes[k].op, callers, seconds: warmup });
    for (let round = 0; round < rounds; round++) {
      const inRound = {};
      for (let i = 0; i < keys.length; i++) {
        const k = keys[(i + round) % keys.length];
        const r = await runRound({ op: lanes[k].op, callers, seconds });
        if (r.errors > 0) throw new Error(`${k}: ${r.errors} operations failed (${r.firstError})`);
        inRound[k] = r;
      }
      for (const k of keys) results[k].push({ ...inRound[k], raw: inRound.raw, before: inRound.before });
    }
    const med = (k, m) => median(results[k].map((r) => r[m]));
    const ratio = (k, m, base = 'raw') => median(results[k].map((r) => r[m] / r[base][m]));
    say(
      `\n${callers} callers (medians of ${rounds} rounds; ratios: median over rounds of the same round's values)`,
    );
    say('| contender | ops/s | CPU µs/op | p99 ms | GC share | ops/s ÷ raw | CPU ÷ raw | p99 ÷ raw |');
    say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const k of keys) {
      const rel = (m) => (k === 'raw' ? '' : ratio(k, m).toFixed(2));
      say(
        `| ${k} | ${Math.round(med(k, 'opsPerSec'))} | ${med(k, 'cpuUsPerOp').toFixed(1)} | ${med(k, 'p99Ms').toFixed(2)} | ` +
          `${(med(k, 'gcShare') * 100).toFixed(1)} % | ${rel('opsPerSec')} | ${rel('cpuUsPerOp')} | ${rel('p99Ms')} |`,
      );
    }
    say(
      `after ÷ before: ops/s ${ratio('after', 'opsPerSec', 'before').toFixed(3)}, CPU/op ${ratio('after', 'cpuUsPerOp', 'before').toFixed(3)}, ` +
        `GC share ${ratio('after', 'gcShare', 'before').toFixed(3)}`,
    );
  }
  say(
    `\nload after: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}`,
  );
} finally {
  stopGcObserver();
  for (const l of Object.values(lanes)) await l.close().catch(() => undefined);
  await server.stop();
  await cleanupAll?.();
}
