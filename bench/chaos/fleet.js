/* global setInterval, clearInterval, clearTimeout */
// The fleet after a restart: 1 000 clients in one process (fleet-worker.js) against one throwaway Redis,
// which is killed and restarted. This process samples the server's own counter of accepted connections
// (INFO stats total_connections_received) every 100 ms over one connection of its own, and the worker
// reports when each client was connected again.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanupAll, startRedis } from '@reconnect/testkit';
import { presets } from '@reconnect/policies';
import { stopWorker } from './worker-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const withJitter = (base, jitter) => ({
  ...base,
  reconnect: { ...base.reconnect, backoff: { ...base.reconnect.backoff, jitter } },
});

/** The fleet's contenders: raw ioredis, and Reconnect targets with these policies. */
export const fleetContenders = {
  raw: { title: 'raw ioredis (defaults)', kind: 'raw', capMs: 5000 + 200 },
  redis: {
    title: 'Reconnect, preset:redis as shipped (reconnect jitter: full)',
    kind: 'reconnect',
    policy: presets.redis.policy,
    capMs: 30_000,
  },
  // The preset as it was before issue #26: the same schedule without jitter, for the comparison.
  'redis-no-jitter': {
    title: 'Reconnect, preset:redis with reconnect.backoff.jitter: none (the preset before issue #26)',
    kind: 'reconnect',
    policy: withJitter(presets.redis.policy, 'none'),
    capMs: 30_000,
  },
  'redis-full-jitter-5s': {
    title:
      'Reconnect, preset:redis + reconnect { maxRetries: unlimited, backoff: { jitter: full, max: 5s } }',
    kind: 'reconnect',
    policy: {
      ...presets.redis.policy,
      reconnect: {
        ...presets.redis.policy.reconnect,
        maxRetries: 'unlimited',
        backoff: { ...presets.redis.policy.reconnect.backoff, jitter: 'full', max: '5s' },
      },
    },
    capMs: 5000,
  },
  fast: {
    title: 'Reconnect, preset:fast-failover (jitter: full)',
    kind: 'reconnect',
    policy: presets['fast-failover'].policy,
    capMs: 1000,
  },
};
export const defaultFleet = ['raw', 'redis', 'redis-no-jitter', 'redis-full-jitter-5s', 'fast'];

/** Samples `INFO stats` every `everyMs` over one socket, reconnecting while the server is down. */
function counterSampler(port, everyMs = 100) {
  const samples = [];
  let socket;
  let buf = '';
  let waiting = false;
  let stopped = false;
  const connect = () => {
    if (stopped) return;
    socket = net.createConnection({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      buf += d;
      const m = /total_connections_received:(\d+)/.exec(buf);
      if (m && buf.includes('\r\n', buf.indexOf(m[0]))) {
        samples.push({ at: Date.now(), total: Number(m[1]) });
        buf = '';
        waiting = false;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      socket = undefined;
      waiting = false;
      buf = '';
      if (!stopped) setTimeout(connect, 20);
    });
  };
  connect();
  const timer = setInterval(() => {
    if (socket && !waiting && socket.writable) {
      waiting = true;
      socket.write('INFO stats\r\n');
    }
  }, everyMs);
  return {
    samples,
    stop() {
      stopped = true;
      clearInterval(timer);
      socket?.destroy();
    },
  };
}

/** Peak accepted connections per 100 ms from counter samples taken after `fromAt` (a fresh process's counter). */
export function peakPer100ms(samples, fromAt, ownConnections = 2) {
  const after = samples.filter((s) => s.at >= fromAt);
  let peak = 0;
  let prev = { at: fromAt, total: ownConnections };
  const rates = [];
  for (const s of after) {
    const dt = Math.max(100, s.at - prev.at);
    const rate = ((s.total - prev.total) * 100) / dt;
    rates.push({ at: s.at - fromAt, n: s.total - prev.total, dt });
    if (rate > peak) peak = rate;
    prev = s;
  }
  return { peak: Math.round(peak), total: prev.total - ownConnections, rates };
}

/** Client-side: how many clients were connected again in each 100 ms after `fromAt`; the busiest bin. */
export function peakBin(times, fromAt) {
  const bins = new Map();
  for (const t of times) {
    if (t === undefined || t === null) continue;
    const b = Math.floor((t - fromAt) / 100);
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  return Math.max(0, ...bins.values());
}

/** One fleet run: `count` clients of `contender`, Redis killed, down `downMs`, restarted. */
export async function runFleet({
  contender,
  count = 1000,
  downMs = 3000,
  limitMs = 60_000,
  trafficMs = 0,
  log = () => {},
}) {
  const c = fleetContenders[contender];
  if (!c) throw new Error(`unknown fleet contender "${contender}"`);
  const server = await startRedis({ args: ['--maxclients', String(count + 500)] });
  const child = fork(
    path.join(here, 'fleet-worker.js'),
    [
      '--port',
      String(server.port),
      '--count',
      String(count),
      '--kind',
      c.kind,
      '--policy',
      JSON.stringify(c.policy ?? {}),
      '--limitMs',
      String(limitMs),
      '--trafficMs',
      String(trafficMs),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const next = (type, ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fleet worker: no "${type}" within ${ms} ms`)), ms);
      const onMsg = (m) => {
        if (m?.type === type) {
          clearTimeout(timer);
          child.off('message', onMsg);
          resolve(m);
        }
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`fleet worker exited (${code})`)));
    });
  let sampler;
  try {
    const ready = await next('ready', 120_000);
    log(`fleet ${contender}: ${count} clients connected in ${ready.ms} ms`);
    await sleep(1000);
    sampler = counterSampler(server.port);
    await sleep(300);
    const killedAt = Date.now();
    await server.kill();
    child.send({ type: 'watch', killedAt });
    const back = next('back', limitMs + 15_000);
    await sleep(Math.max(0, killedAt + downMs - Date.now()));
    const restartAt = Date.now(); // the restart command: a client may get in before restart() resolves
    child.send({ type: 'restarted', at: restartAt });
    await server.restart();
    const readyMs = Date.now() - restartAt;
    const { times, down, errors } = await back;
    await sleep(300);
    sampler.stop();
    const last = Math.max(...times.filter((t) => t !== undefined));
    const peak = peakPer100ms(sampler.samples, restartAt);
    const result = {
      contender,
      title: c.title,
      count,
      downMs,
      trafficMs,
      capMs: c.capMs,
      peakPer100ms: peak.peak,
      acceptedAfterRestart: peak.total,
      clientPeakPer100ms: peakBin(times, restartAt),
      allBackMs: down > 0 ? null : last - restartAt,
      neverBack: down,
      restartReadyMs: readyMs,
      firstBackMs: Math.min(...times.filter((t) => t !== undefined)) - restartAt,
      // Calls that started after the restart and failed, by code (with --trafficMs), until every client was back.
      errorsAfterRestart: errors ?? {},
      rates: peak.rates,
      load1: os.loadavg()[0],
    };
    log(
      `fleet ${contender}: peak ${result.peakPer100ms}/100 ms (client-side ${result.clientPeakPer100ms}), ${result.acceptedAfterRestart} accepted, all back after ${result.allBackMs ?? 'never'} ms, ${down} never back`,
    );
    return result;
  } finally {
    sampler?.stop();
    await stopWorker(child, 12_000);
    await server.stop();
  }
}

// `npm run build && node bench/chaos/fleet.js [--count 1000] [--down-ms 30000] [--traffic-ms 5000]
//   [--contender redis,raw] [--runs 1] [--json FILE]`: the Redis fleet alone (`npm run bench:chaos -- --fleet only`
// runs it too, idle: without callers), each contender in turn per run; prints one line per run and writes the raw
// results as JSON (default bench/chaos/last-fleet.json). With `--traffic-ms N` each client has a caller (an idempotent
// GET every ~N ms), so the targets reconnect on demand as well as on their schedule.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000' },
      contender: { type: 'string', default: 'redis,raw' },
      'down-ms': { type: 'string', default: '30000' },
      'traffic-ms': { type: 'string', default: '0' },
      runs: { type: 'string', default: '1' },
      json: { type: 'string' },
    },
  });
  const say = (line) => process.stdout.write(`${line}\n`);
  const command = `node bench/chaos/fleet.js ${process.argv.slice(2).join(' ')}`.trim();
  say(`${command}: ${os.cpus().length} cores, Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
  const file = path.resolve(values.json ?? path.join(here, 'last-fleet.json'));
  const results = [];
  try {
    for (let run = 1; run <= Number(values.runs); run++)
      for (const contender of values.contender.split(',').map((n) => n.trim())) {
        const loadBefore = os.loadavg()[0];
        const r = await runFleet({
          contender,
          count: Number(values.count),
          downMs: Number(values['down-ms']),
          trafficMs: Number(values['traffic-ms']),
          log: say,
        });
        results.push({ ...r, run, loadBefore });
        writeFileSync(file, `${JSON.stringify({ command, results }, null, 2)}\n`);
      }
  } finally {
    await cleanupAll();
  }
  say(`results: ${file}`);
  process.exit(0);
}
