/* global setInterval, clearInterval, clearTimeout */
// The MariaDB fleet after an outage (issue #26): `count` instances (fleet-mysql-worker.js), each a pool of 10 used by
// 10 callers, against one throwaway MariaDB whose max_connections (default 3 × count) is below what the
// pools want (10 × count). The server is killed, kept down `downMs`, restarted. This process samples the server's
// own counters every 100 ms over a root connection (root may use one connection beyond max_connections):
// `Connections` (connection attempts, refused ones included) and `Connection_errors_max_connections` (1040s given).
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { cleanupAll, startMariaDB } from '@reconnect/testkit';
import { presets } from '@reconnect/policies';
import { stopWorker } from './worker-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The MariaDB fleet's contenders. */
export const mysqlFleetContenders = {
  raw: { title: 'raw mysql2 pool (defaults, connectionLimit 10)', kind: 'raw' },
  mysql: {
    title: 'Reconnect, preset:mysql as shipped (connectRate 5)',
    kind: 'reconnect',
    policy: presets.mysql.policy,
  },
  'mysql-unpaced': {
    title: 'Reconnect, preset:mysql, connectRate: 0 (no ceiling)',
    kind: 'reconnect',
    policy: presets.mysql.policy,
    options: { connectRate: 0 },
  },
};
export const defaultMysqlFleet = ['raw', 'mysql', 'mysql-unpaced'];

/** Samples the server's connection counters every `everyMs` over one root connection, reconnecting while it is down. */
function statusSampler(port, everyMs = 100) {
  const samples = [];
  let conn;
  let busy = false;
  let stopped = false;
  const timer = setInterval(async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      if (conn === undefined) {
        conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 500 });
        conn.on('error', () => {});
      }
      const [rows] = await conn.query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Connection_errors_max_connections', 'Threads_connected')",
      );
      const v = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
      samples.push({
        at: Date.now(),
        attempts: v.Connections,
        refused: v.Connection_errors_max_connections,
        connected: v.Threads_connected,
      });
    } catch {
      conn?.destroy();
      conn = undefined;
    } finally {
      busy = false;
    }
  }, everyMs);
  return {
    samples,
    stop() {
      stopped = true;
      clearInterval(timer);
      conn?.destroy();
    },
  };
}

/** Peak connection attempts per 100 ms among samples after `fromAt` (a fresh server process's counters). */
function peakAttemptsPer100ms(samples, fromAt) {
  const after = samples.filter((s) => s.at >= fromAt);
  let peak = 0;
  for (let i = 1; i < after.length; i++) {
    const dt = Math.max(100, after[i].at - after[i - 1].at);
    peak = Math.max(peak, ((after[i].attempts - after[i - 1].attempts) * 100) / dt);
  }
  const last = after.at(-1);
  return {
    peak: Math.round(peak),
    attempts: last?.attempts ?? 0,
    refused: last?.refused ?? 0,
    maxConnected: Math.max(0, ...after.map((s) => s.connected)),
  };
}

/** The p-th percentile of `xs`, where `null` (never) sorts last: `null` when more than (100 − p) % never came. */
const percentile = (xs, p) => {
  const s = xs.map((x) => x ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const v = s.length === 0 ? undefined : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return v === undefined || v === Number.POSITIVE_INFINITY ? null : v;
};

/** One run: `count` instances of `contender`, MariaDB killed, down `downMs`, restarted. */
export async function runMysqlFleet({
  contender,
  count = 1000,
  downMs = 30_000,
  maxConnections = 3 * count,
  limitMs = 90_000,
  log = () => {},
}) {
  const c = mysqlFleetContenders[contender];
  if (!c) throw new Error(`unknown MariaDB fleet contender "${contender}"`);
  const server = await startMariaDB({ args: [`--max-connections=${maxConnections}`] });
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
  await admin.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'");
  await admin.query("GRANT ALL ON test.* TO 'app'@'%'");
  await admin.end();
  const child = fork(
    path.join(here, 'fleet-mysql-worker.js'),
    [
      ...['--port', String(server.port), '--count', String(count), '--kind', c.kind],
      ...['--policy', JSON.stringify(c.policy ?? {}), '--options', JSON.stringify(c.options ?? {})],
      ...['--limitMs', String(limitMs)],
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const next = (type, ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`MariaDB fleet worker: no "${type}" within ${ms} ms`)),
        ms,
      );
      const onMsg = (m) => {
        if (m?.type === type) {
          clearTimeout(timer);
          child.off('message', onMsg);
          resolve(m);
        }
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`MariaDB fleet worker exited (${code})`)));
    });
  let sampler;
  try {
    const ready = await next('ready', 180_000);
    log(`mysql fleet ${contender}: ${count} instances serving in ${ready.ms} ms`);
    sampler = statusSampler(server.port);
    await sleep(500);
    const killedAt = Date.now();
    await server.kill();
    await sleep(Math.max(0, killedAt + downMs - Date.now()));
    const restartAt = Date.now(); // the restart command: a client may get in before restart() resolves
    await server.restart();
    const readyMs = Date.now() - restartAt;
    child.send({ type: 'restarted', at: restartAt });
    const { backAt, down } = await next('back', limitMs + 15_000);
    await sleep(2000);
    sampler.stop();
    child.send({ type: 'report', killedAt, at: restartAt });
    const report = await next('report', 30_000);
    // Per instance: its first call started after the restart that succeeded, in ms after the restart (IPC turns
    // an undefined into null: never).
    const back = backAt.map((t) => (typeof t === 'number' ? t - restartAt : null));
    const server100 = peakAttemptsPer100ms(sampler.samples, restartAt);
    const sum = (o) => Object.values(o).reduce((n, x) => n + x, 0);
    const result = {
      store: 'mysql',
      contender,
      title: c.title,
      count,
      downMs,
      maxConnections,
      peakAttemptsPer100ms: server100.peak,
      attemptsAfterRestart: server100.attempts,
      refusedAfterRestart: server100.refused,
      maxConnected: server100.maxConnected,
      allBackP50Ms: percentile(back, 50),
      allBackP99Ms: percentile(back, 99),
      allBackMaxMs: down > 0 ? null : Math.max(...back),
      neverBack: down,
      restartReadyMs: readyMs,
      errorsAfterRestart: sum(report.errors.afterRestart),
      errorsAfterRestartByCode: report.errors.afterRestart,
      errorsInOutage: sum(report.errors.outage),
      errorsInOutageByCode: report.errors.outage,
      okAfterRestart: report.okAfterRestart,
      load1: os.loadavg()[0],
    };
    log(
      `mysql fleet ${contender}: peak ${result.peakAttemptsPer100ms} connection attempts/100 ms, ${result.refusedAfterRestart} refused (1040), ${result.maxConnected} connected at most; back p50 ${result.allBackP50Ms} / p99 ${result.allBackP99Ms} / max ${result.allBackMaxMs} ms, ${down} never back; errors reaching callers after the restart ${result.errorsAfterRestart} ${JSON.stringify(result.errorsAfterRestartByCode)}, during the outage ${result.errorsInOutage}`,
    );
    return result;
  } finally {
    sampler?.stop();
    await stopWorker(child, 20_000);
    await server.stop();
  }
}

/** The MariaDB fleet's results as a Markdown table. */
export function renderMysqlFleet(results) {
  const rows = results.map(
    (r) =>
      `| ${r.title} | ${r.count} × 10 | ${r.maxConnections} | ${r.downMs / 1000} s | ${r.peakAttemptsPer100ms} | ${r.refusedAfterRestart} | ${r.maxConnected} | ${r.allBackP50Ms ?? 'never'} / ${r.allBackP99Ms ?? 'never'} ms | ${r.neverBack} | ${r.errorsAfterRestart} ${Object.entries(
        r.errorsAfterRestartByCode,
      )
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')} | ${r.errorsInOutage} |`,
  );
  return [
    '| contender | instances × pool | max_connections | outage | peak connection attempts / 100 ms | refused (1040) | connected at most | back p50 / p99 | never back | errors reaching callers after the restart | during the outage |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

// `npm run build && node bench/chaos/fleet-mysql.js [--count 1000] [--contender raw,mysql,mysql-unpaced]
//   [--down-ms 30000] [--max-connections 3×count] [--json FILE]`: prints the table, writes the raw results as JSON
// (default bench/chaos/last-fleet-mysql.json). Not written to BENCHMARKS.md by itself.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000' },
      contender: { type: 'string' },
      'down-ms': { type: 'string', default: '30000' },
      'max-connections': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const count = Number(values.count);
  const names = values.contender?.split(',').map((n) => n.trim()) ?? defaultMysqlFleet;
  const say = (line) => process.stdout.write(`${line}\n`);
  const command = `node bench/chaos/fleet-mysql.js ${process.argv.slice(2).join(' ')}`.trim();
  say(`${command}: ${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
  const results = [];
  const file = path.resolve(values.json ?? path.join(here, 'last-fleet-mysql.json'));
  try {
    for (const contender of names) {
      results.push(
        await runMysqlFleet({
          contender,
          count,
          downMs: Number(values['down-ms']),
          ...(values['max-connections'] === undefined
            ? {}
            : { maxConnections: Number(values['max-connections']) }),
          log: say,
        }),
      );
      writeFileSync(file, `${JSON.stringify({ command, results }, null, 2)}\n`);
    }
  } finally {
    await cleanupAll();
  }
  say(`\n${renderMysqlFleet(results)}\nresults: ${file}`);
  process.exit(0);
}
