/* global clearTimeout */
// The MariaDB fleet after an outage (issue #26): `count` instances (fleet-mysql-worker.js, spread over several
// processes: 250 each by default), each a pool of 10 used by 10 callers, against one throwaway MariaDB whose
// max_connections (default 3 × count) is below what the pools want (10 × count). The server is killed, kept down
// `downMs`, restarted. This process samples the server's own counters every 100 ms over a root connection (root may
// use one connection beyond max_connections): `Connections` (connections accepted; the 1040s are not in it) and
// `Connection_errors_max_connections` (1040s given).
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { cleanupAll, startMariaDB } from '@reconnect/testkit';
import { presets } from '@reconnect/policies';
import { peakAttemptsPer100ms, percentile, statusSampler } from './fleet-mysql-status.js';
import { stopWorker } from './worker-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Each caller's think time after a call, in ms (jittered ×0.5–1.5): a fleet of N issues ~2 N statements a second,
 * so the machine's CPU goes to the reconnect, not to the load; after an outage every caller of an instance wants a
 * connection at once all the same (the calls that waited through it). */
export const defaultThinkMs = 4500;
/** How long a caller waits after a failed call before its next one, in ms (an application does not spin on errors). */
export const defaultFailPauseMs = 1000;

/** The MariaDB fleet's contenders; `capMs`: the longest wait of the reconnect schedule (for "back within its cap"). */
export const mysqlFleetContenders = {
  raw: { title: 'raw mysql2 pool (defaults, connectionLimit 10)', kind: 'raw' },
  mysql: {
    title: 'Reconnect, preset:mysql as shipped',
    kind: 'reconnect',
    policy: presets.mysql.policy,
    capMs: 60_000,
  },
  'mysql-unpaced': {
    title: 'Reconnect, preset:mysql, connectRate: 0 (no ceiling)',
    kind: 'reconnect',
    policy: presets.mysql.policy,
    options: { connectRate: 0 },
    capMs: 60_000,
  },
};
export const defaultMysqlFleet = ['raw', 'mysql', 'mysql-unpaced'];

/** Waits for a `type` message from a worker (rejects after `ms`, or if it exits first). */
function nextFrom(child, type, ms) {
  return new Promise((resolve, reject) => {
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
}

/** Adds the counts of `b` into `a` (error codes → counts). */
const addCounts = (a, b) => {
  for (const [k, n] of Object.entries(b)) a[k] = (a[k] ?? 0) + n;
  return a;
};

/**
 * One run: `count` instances of `contender`, spread over `workers` processes, MariaDB killed, down `downMs`,
 * restarted.
 */
export async function runMysqlFleet({
  contender,
  count = 1000,
  downMs = 30_000,
  maxConnections = 3 * count,
  limitMs = 90_000,
  workers = Math.max(1, Math.ceil(count / 250)),
  thinkMs = defaultThinkMs,
  failPauseMs = defaultFailPauseMs,
  log = () => {},
}) {
  const c = mysqlFleetContenders[contender];
  if (!c) throw new Error(`unknown MariaDB fleet contender "${contender}"`);
  const server = await startMariaDB({ args: [`--max-connections=${maxConnections}`] });
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
  await admin.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'");
  await admin.query("GRANT ALL ON test.* TO 'app'@'%'");
  await admin.end();
  const children = [];
  for (let w = 0, first = 0; w < workers; w++) {
    const n = Math.floor(count / workers) + (w < count % workers ? 1 : 0);
    children.push(
      fork(
        path.join(here, 'fleet-mysql-worker.js'),
        [
          ...['--port', String(server.port), '--count', String(n), '--first', String(first)],
          ...['--kind', c.kind, '--policy', JSON.stringify(c.policy ?? {})],
          ...['--options', JSON.stringify(c.options ?? {}), '--thinkMs', String(thinkMs)],
          ...['--failPauseMs', String(failPauseMs)],
          ...['--limitMs', String(limitMs)],
        ],
        { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
      ),
    );
    first += n;
  }
  const all = (type, ms) => Promise.all(children.map((child) => nextFrom(child, type, ms)));
  let sampler;
  try {
    const ready = await all('ready', 240_000);
    log(
      `mysql fleet ${contender}: ${count} instances in ${workers} processes serving in ${Math.max(...ready.map((r) => r.ms))} ms${ready.some((r) => r.unserved > 0) ? ` (not served within 90 s: ${ready.map((r) => `${r.unserved} ${JSON.stringify(r.unservedStates)}`).join(', ')})` : ''}`,
    );
    sampler = statusSampler(server.port);
    await sleep(500);
    const killedAt = Date.now();
    await server.kill();
    await sleep(Math.max(0, killedAt + downMs - Date.now()));
    const restartAt = Date.now(); // the restart command: a client may get in before restart() resolves
    await server.restart();
    const readyMs = Date.now() - restartAt;
    for (const child of children) child.send({ type: 'restarted', at: restartAt });
    const backs = await all('back', limitMs + 60_000);
    await sleep(2000);
    sampler.stop();
    for (const child of children) child.send({ type: 'report', killedAt, at: restartAt });
    const reports = await all('report', 30_000);
    // Per instance: its first call started after the restart that succeeded, in ms after the restart (IPC turns
    // an undefined into null: never).
    const back = backs.flatMap((b) => b.backAt).map((t) => (typeof t === 'number' ? t - restartAt : null));
    const down = backs.reduce((n, b) => n + b.down, 0);
    const afterRestart = reports.reduce((a, r) => addCounts(a, r.errors.afterRestart), {});
    const outage = reports.reduce((a, r) => addCounts(a, r.errors.outage), {});
    const breakerOpens = reports
      .flatMap((r) => r.breakerOpens)
      .map((b) => ({ ...b, at: b.at - restartAt }))
      .sort((a, b) => a.at - b.at);
    const total = (key) => reports.reduce((n, r) => n + r[key], 0);
    // The fleet's own connection attempts per 100 ms after the restart (every worker's, by bin).
    const connects = reports.reduce((a, r) => addCounts(a, r.connects), {});
    // The Reconnect targets' reconnects per 100 ms (their reconnectors' successful attempts: each a pool's first
    // connection); the rest of `connects` is pools growing (the driver's pacer).
    const reconnects = reports.reduce((a, r) => addCounts(a, r.reconnects ?? {}), {});
    // Of `connects`, those made outside the pools (health checks' side connections, KILL QUERY), per 100 ms.
    const side = reports.reduce((a, r) => addCounts(a, r.side ?? {}), {});
    const server100 = peakAttemptsPer100ms(sampler.samples, restartAt);
    const sum = (o) => Object.values(o).reduce((n, x) => n + x, 0);
    const result = {
      store: 'mysql',
      contender,
      title: c.title,
      count,
      workers,
      warmUpMs: Math.max(...ready.map((r) => r.ms)),
      unservedAtWarmUp: ready.reduce((n, r) => n + (r.unserved ?? 0), 0),
      thinkMs,
      failPauseMs,
      downMs,
      maxConnections,
      capMs: c.capMs,
      peakClientConnectsPer100ms: Math.max(0, ...Object.values(connects)),
      clientConnectsAfterRestart: Object.values(connects).reduce((n, x) => n + x, 0),
      peakReconnectsPer100ms: Math.max(0, ...Object.values(reconnects)),
      clientConnectsPer100ms: connects,
      reconnectsPer100ms: reconnects,
      // The Reconnect pools at the end of the run: instances by pool size, and the driver's counters (current pools).
      poolSizesAtEnd: reports.reduce((a, r) => addCounts(a, r.poolSizes ?? {}), {}),
      poolStatsAtEnd: reports.reduce((a, r) => addCounts(a, r.poolStats ?? {}), {}),
      sideConnectsAfterRestart: Object.values(side).reduce((n, x) => n + x, 0),
      sideConnectsPer100ms: side,
      connectsPerSecondFromKill: reports.reduce(
        (a, r) => addCounts(a, r.connectsPerSecondFromKill ?? {}),
        {},
      ),
      // Connections the fleet started to the down server ÷ the calls its callers issued during the outage.
      outageConnects: total('outageConnects'),
      outageCalls: total('outageCalls'),
      amplification: Math.round((100 * total('outageConnects')) / Math.max(1, total('outageCalls'))) / 100,
      peakArrivalsPer100ms: server100.peakArrivals,
      peakAttemptsPer100ms: server100.peak,
      attemptsAfterRestart: server100.attempts,
      refusedAfterRestart: server100.refused,
      maxConnected: server100.maxConnected,
      allBackP50Ms: percentile(back, 50),
      allBackP99Ms: percentile(back, 99),
      allBackMaxMs: down > 0 ? null : Math.max(...back),
      neverBack: down,
      restartReadyMs: readyMs,
      errorsAfterRestart: sum(afterRestart),
      errorsAfterRestartByCode: afterRestart,
      errorsInOutage: sum(outage),
      errorsInOutageByCode: outage,
      okAfterRestart: reports.reduce((n, r) => n + r.okAfterRestart, 0),
      breakerOpened: total('breakerOpened'),
      breakerOpenedInOutage: total('breakerOpenedInOutage'),
      breakerOpens: breakerOpens.slice(0, 20),
      breakerOpensPerSecond: reports.reduce((a, r) => addCounts(a, r.opensPerSecond), {}),
      errorsPerSecondAfterRestart: reports.reduce((a, r) => addCounts(a, r.errorsPerSecond), {}),
      workerLoopDelayP99Ms: reports.map((r) => Math.round(r.loopDelayP99Ms)),
      // Instances back per second after the restart.
      backPerSecond: back.reduce((a, t) => {
        if (t !== null) a[Math.floor(t / 1000)] = (a[Math.floor(t / 1000)] ?? 0) + 1;
        return a;
      }, {}),
      rates: server100.rates,
      load1: os.loadavg()[0],
    };
    log(
      `mysql fleet ${contender}: peak ${result.peakClientConnectsPer100ms} connections started by the fleet / ${result.peakArrivalsPer100ms} connections arriving / ${result.peakAttemptsPer100ms} accepted per 100 ms, ${result.refusedAfterRestart} refused (1040), ${result.maxConnected} connected at most; back p50 ${result.allBackP50Ms} / p99 ${result.allBackP99Ms} / max ${result.allBackMaxMs} ms, ${down} never back; errors reaching callers after the restart ${result.errorsAfterRestart} ${JSON.stringify(result.errorsAfterRestartByCode)}, during the outage ${result.errorsInOutage}; breakers opened ${result.breakerOpened}`,
    );
    return result;
  } finally {
    sampler?.stop();
    await Promise.all(children.map((child) => stopWorker(child, 20_000)));
    await server.stop();
  }
}

/** The MariaDB fleet's results as a Markdown table. */
export function renderMysqlFleet(results) {
  const n = (x) => (x === null || x === undefined ? 'never' : x.toLocaleString('en-US').replace(/,/g, ' '));
  const s = (ms) => (ms === null || ms === undefined ? 'never' : `${(ms / 1000).toFixed(2)} s`);
  const rows = results.map(
    (r) =>
      `| ${r.title} | ${n(r.count)} × 10 | ${n(r.maxConnections)} | ${n(r.peakClientConnectsPer100ms)} | ${n(r.peakArrivalsPer100ms)} | ${n(r.peakAttemptsPer100ms)} | ${n(r.refusedAfterRestart)} | ${s(r.allBackP50Ms)} / ${s(r.allBackP99Ms)} | ${r.capMs === undefined ? '—' : s(r.capMs)} | ${n(r.neverBack)} | ${n(r.errorsAfterRestart)}${
        r.errorsAfterRestart > 0
          ? ` (${Object.entries(r.errorsAfterRestartByCode)
              .map(([k, v]) => `${k} ${n(v)}`)
              .join(', ')})`
          : ''
      } | ${n(r.breakerOpened ?? 0)} | ${r.amplification ?? '—'} |`,
  );
  return [
    '| contender | instances × pool | max_connections | peak connections started by the fleet / 100 ms | peak connections arriving at the server / 100 ms | peak accepted / 100 ms | refused (1040) | back p50 / p99 | backoff cap | never back | errors reaching callers after the restart | breakers opened after the restart | connects ÷ calls in the outage |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- | --: | --: |',
    ...rows,
  ].join('\n');
}

// `npm run build && node bench/chaos/fleet-mysql.js [--count 1000] [--workers count/250] [--contender raw,mysql,mysql-unpaced]
//   [--down-ms 30000] [--max-connections 3×count] [--think-ms 4500] [--fail-pause-ms 1000] [--runs 1] [--json FILE]`: prints the table, writes
// the raw results as JSON (default bench/chaos/last-fleet-mysql.json). Not written to BENCHMARKS.md by itself.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000' },
      workers: { type: 'string' },
      contender: { type: 'string' },
      'down-ms': { type: 'string', default: '30000' },
      'max-connections': { type: 'string' },
      'think-ms': { type: 'string' },
      'fail-pause-ms': { type: 'string' },
      runs: { type: 'string', default: '1' },
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
  const optional = (key, name) => (values[key] === undefined ? {} : { [name]: Number(values[key]) });
  try {
    for (let run = 1; run <= Number(values.runs); run++)
      for (const contender of names) {
        const loadBefore = os.loadavg()[0];
        results.push({
          loadBefore,
          ...(await runMysqlFleet({
            contender,
            count,
            downMs: Number(values['down-ms']),
            ...optional('max-connections', 'maxConnections'),
            ...optional('workers', 'workers'),
            ...optional('think-ms', 'thinkMs'),
            ...optional('fail-pause-ms', 'failPauseMs'),
            log: say,
          })),
          run,
        });
        writeFileSync(file, `${JSON.stringify({ command, results }, null, 2)}\n`);
      }
  } finally {
    await cleanupAll();
  }
  say(`\n${renderMysqlFleet(results)}\nresults: ${file}`);
  process.exit(0);
}
