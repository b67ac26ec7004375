// `node bench/slow/run.js` (after `npx tsc -b`): the only server slowed 10×, issue #28. A throwaway redis-server;
// callers issue idempotent reads open-loop at `--rate` per second (a fixed schedule: a slow server does not slow
// the arrivals, as with real users), for `--healthy` s, then `--slow` s slowed, then `--healthy` s again.
// Two kinds of slow:
// - `latency`: the testkit's fault proxy delays every reply (`proxy.latency(ms, 'toClient', { jitterMs })`): a
//   slow network or a server slow whatever its load; capacity is unchanged.
// - `overload`: each read is a Lua script that spins on the server for a set time, 10× longer while slowed (a hot
//   key, a CPU-starved server): Redis runs one script at a time, so its capacity falls 10× with it and at
//   `--rate` it is overloaded (about 2× when slowed, 20 % busy when healthy).
// Contenders: raw ioredis at its defaults; Reconnect with preset:redis; the same with `concurrency.limit: adaptive`
// (defaults: a queue of 100 for at most 10 ms) and with `maxQueue: 0` (refuse the excess at once); on request,
// `adaptive-q50ms` (a queue wait of up to 50 ms).
// The machine is shared and its noise moves single runs by tens of percent: each contender runs `--repeat` times
// on a fresh server and the run with the median slowed goodput is reported, with the range of all runs.
// Per phase: p50/p99 of the reads that succeeded, goodput (successes within 1 s of their arrival, per second, and
// as a share of the healthy phase's), refusals (ERR_CONCURRENCY_LIMITED: count and p99 time to refuse), other
// failures, and extra load (reads the server ran per read asked for, from INFO commandstats).
//   node bench/slow/run.js [--scenarios latency,overload] [--contenders raw,preset,adaptive,adaptive-q0]
//                          [--rate 2000] [--healthy 5] [--slow 10] [--repeat 3] [--json bench/slow/results/slow.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createTarget, isConcurrencyLimitedError } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import redisDriver from '@reconnect/driver-redis';
import { startFaultProxy, startRedis } from '@reconnect/testkit';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'latency,overload' },
    contenders: { type: 'string', default: 'raw,preset,adaptive,adaptive-q0' },
    rate: { type: 'string', default: '2000' },
    healthy: { type: 'string', default: '5' },
    slow: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'string', default: 'bench/slow/results/slow.json' },
  },
});
const rate = Number(values.rate);
const healthyMs = Number(values.healthy) * 1000;
const slowMs = Number(values.slow) * 1000;
/** A success later than this after its arrival is no good to its caller: it does not count as goodput. */
const usefulMs = 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Spins on the server until `ARGV[1]` microseconds have passed by its clock (one script at a time: Redis's
// capacity is 1 / that time).
const SPIN =
  "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] local us = tonumber(ARGV[1]) " +
  "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s >= us return 1";

/** The two ways to slow the server. Each has a healthy and a slowed setting. */
function scenarios() {
  return {
    latency: {
      title: 'every reply delayed 1 ms, then 10 ms ± 2 ms (fault proxy; capacity unchanged)',
      viaProxy: true,
      command: 'get',
      read: (c) => c.get('slow:key'),
      healthy: ({ proxy }) => proxy.latency(1, 'toClient'),
      slowed: ({ proxy }) => proxy.latency(10, 'toClient', { jitterMs: 4 }),
    },
    overload: {
      title: 'each read spins 100 µs on the server, then 1 ms (capacity falls 10×)',
      viaProxy: false,
      command: 'evalsha',
      read: (c, state, spin) => c.evalsha(spin, 0, state.us),
      healthy: ({ state }) => void (state.us = 100),
      slowed: ({ state }) => void (state.us = 1000),
    },
  };
}

const contenders = {
  raw: { title: 'raw ioredis (defaults)', policy: undefined },
  preset: { title: 'Reconnect, preset:redis', policy: {} },
  adaptive: { title: 'Reconnect, preset:redis + concurrency adaptive', policy: { limit: 'adaptive' } },
  'adaptive-q50ms': {
    title: 'Reconnect, preset:redis + concurrency adaptive, queueTimeout 50ms',
    policy: { limit: 'adaptive', queueTimeout: '50ms' },
  },
  'adaptive-q0': {
    title: 'Reconnect, preset:redis + concurrency adaptive, maxQueue 0',
    policy: { limit: 'adaptive', maxQueue: 0 },
  },
};

async function client(name, endpoint) {
  const c = contenders[name];
  if (c.policy === undefined) {
    const raw = new Redis(endpoint);
    raw.on('error', () => {});
    await raw.ping();
    return { call: (read) => read(raw), close: async () => raw.disconnect() };
  }
  const policy = { ...presets.redis.policy, concurrency: c.policy };
  const target = createTarget({ name: `slow-${name}`, driver: redisDriver, options: endpoint, policy });
  await target.start();
  return {
    call: (read) => target.execute((r) => read(r), { idempotent: true, name: 'read' }),
    close: () => target.stop(),
  };
}

async function commandCalls(admin, command) {
  const info = await admin.info('commandstats');
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return m === null ? 0 : Number(m[1]);
}

const pct = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const round = (v, digits = 2) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/** Issues reads at `rate` per second for `ms`, recording each outcome; resolves once every read settled. */
async function drive(call, read, state, ms, phase, records) {
  const start = performance.now();
  const pending = [];
  let issued = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    for (; issued < due; issued++) {
      const t0 = performance.now();
      const rec = { phase, at: t0, ms: 0, ok: false, code: undefined };
      records.push(rec);
      pending.push(
        Promise.resolve()
          .then(() => call((c) => read(c, state)))
          .then(
            () => {
              rec.ok = true;
            },
            (e) => {
              rec.code = isConcurrencyLimitedError(e) ? 'limited' : (e?.code ?? e?.name ?? 'error');
            },
          )
          .finally(() => (rec.ms = performance.now() - t0)),
      );
    }
    await sleep(1);
  }
  return { issued, settled: Promise.all(pending) };
}

function summarize(records, phase, phaseMs) {
  const rs = records.filter((r) => r.phase === phase);
  const ok = rs
    .filter((r) => r.ok)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const limited = rs
    .filter((r) => r.code === 'limited')
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const failures = {};
  for (const r of rs) if (!r.ok && r.code !== 'limited') failures[r.code] = (failures[r.code] ?? 0) + 1;
  return {
    offered: rs.length,
    succeeded: ok.length,
    p50: round(pct(ok, 0.5)),
    p99: round(pct(ok, 0.99)),
    goodputPerS: round((ok.filter((ms) => ms <= usefulMs).length * 1000) / phaseMs, 0),
    refused: limited.length,
    refusalP99: round(pct(limited, 0.99)),
    failed: failures,
  };
}

/** When refusals started after the slowdown began and stopped after it ended (ms), from the arrivals. */
function settling(records, slowStart, slowEnd) {
  const limited = records.filter((r) => r.code === 'limited').map((r) => r.at);
  const during = limited.filter((t) => t >= slowStart && t < slowEnd);
  const after = limited.filter((t) => t >= slowEnd);
  return {
    firstRefusalAfterSlowMs: during.length === 0 ? null : round(Math.min(...during) - slowStart, 0),
    lastRefusalAfterEndMs: after.length === 0 ? null : round(Math.max(...after) - slowEnd, 0),
  };
}

async function runOne(scenario, name) {
  // A fresh server per run: a backlog the previous contender left in Redis must not slow the next one.
  const server = await startRedis();
  try {
    return await measure(scenario, name, server);
  } finally {
    await server.stop();
  }
}

async function measure(scenario, name, server) {
  const admin = new Redis(server.options);
  const spin = await admin.script('LOAD', SPIN);
  const proxy = scenario.viaProxy ? await startFaultProxy({ target: server.options }) : undefined;
  const endpoint = proxy === undefined ? server.options : { host: proxy.host, port: proxy.port };
  const state = { us: 0 };
  const ctx = { proxy, state };
  scenario.healthy(ctx);
  const c = await client(name, endpoint);
  // Warm up (connections, JIT) outside the measurement.
  const read = (cl, st) => scenario.read(cl, st, spin);
  await drive(c.call, read, state, 500, 'warmup', []).then((d) => d.settled);
  const records = [];
  const before = await commandCalls(admin, scenario.command);
  const t0 = performance.now();
  const runs = [await drive(c.call, read, state, healthyMs, 'healthy', records)];
  scenario.slowed(ctx);
  const slowStart = performance.now();
  runs.push(await drive(c.call, read, state, slowMs, 'slow', records));
  scenario.healthy(ctx);
  const slowEnd = performance.now();
  runs.push(await drive(c.call, read, state, healthyMs, 'after', records));
  await Promise.race([Promise.all(runs.map((r) => r.settled)), sleep(30_000)]);
  const sent = (await commandCalls(admin, scenario.command)) - before;
  const offered = runs.reduce((n, r) => n + r.issued, 0);
  await c.close();
  admin.disconnect();
  await proxy?.close();
  const healthy = summarize(records, 'healthy', healthyMs);
  const slow = summarize(records, 'slow', slowMs);
  const after = summarize(records, 'after', healthyMs);
  return {
    contender: name,
    title: contenders[name].title,
    healthy,
    slow,
    after,
    slowVsHealthy: {
      goodput: round(slow.goodputPerS / healthy.goodputPerS),
      p50: slow.p50 === null ? null : round(slow.p50 / healthy.p50),
      p99: slow.p99 === null ? null : round(slow.p99 / healthy.p99),
    },
    ...settling(records, slowStart, slowEnd),
    extraLoad: round(sent / offered - 1, 3),
    wallS: round((performance.now() - t0) / 1000, 1),
  };
}

/** What the slowed server serves at most: 32 callers back to back for 2 s, on a fresh server, no limit. */
async function slowedCapacity() {
  const server = await startRedis();
  const redis = new Redis(server.options);
  try {
    const spin = await redis.script('LOAD', SPIN);
    const end = performance.now() + 2000;
    let done = 0;
    const caller = async () => {
      while (performance.now() < end) {
        await redis.evalsha(spin, 0, 1000);
        done++;
      }
    };
    await Promise.all(Array.from({ length: 32 }, caller));
    return Math.round(done / 2);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

const results = [];
const all = scenarios();
const capacity = values.scenarios.includes('overload') ? await slowedCapacity() : undefined;
if (capacity !== undefined) console.log(`overload: the slowed server serves at most ${capacity}/s`);
for (const key of values.scenarios.split(',')) {
  for (const name of values.contenders.split(',')) {
    const runs = [];
    for (let i = 0; i < Number(values.repeat); i++) runs.push(await runOne(all[key], name));
    runs.sort((a, b) => a.slow.goodputPerS - b.slow.goodputPerS);
    const row = {
      ...runs[Math.floor(runs.length / 2)],
      runs: runs.length,
      slowGoodputRange: [runs[0].slow.goodputPerS, runs.at(-1).slow.goodputPerS],
      slowP99Range: [
        Math.min(...runs.map((r) => r.slow.p99 ?? Infinity)),
        Math.max(...runs.map((r) => r.slow.p99 ?? 0)),
      ],
    };
    results.push({ scenario: key, ...row });
    const s = row.slow;
    console.log(
      `${key.padEnd(8)} ${row.title.padEnd(60)} healthy p50 ${row.healthy.p50} p99 ${row.healthy.p99} ${row.healthy.goodputPerS}/s | slow p50 ${s.p50} p99 ${s.p99} goodput ${s.goodputPerS}/s (${Math.round(row.slowVsHealthy.goodput * 100)} %, runs ${row.slowGoodputRange.join('–')}) refused ${s.refused} (p99 ${s.refusalP99} ms) failed ${JSON.stringify(s.failed)} | after ${row.after.goodputPerS}/s p99 ${row.after.p99} | extra load ${row.extraLoad}`,
    );
  }
}

const out = {
  rate,
  healthyS: healthyMs / 1000,
  slowS: slowMs / 1000,
  usefulMs,
  overloadSlowedCapacityPerS: capacity,
  scenarios: Object.fromEntries(Object.entries(all).map(([k, s]) => [k, s.title])),
  node: process.version,
  results,
};
mkdirSync(dirname(values.json), { recursive: true });
writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${values.json}`);
