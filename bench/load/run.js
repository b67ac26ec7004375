// `npm run bench:load` (= tsc -b && node bench/load/run.js): the load benchmark of issue #21. For each store, the
// raw client, the same client through a Reconnect target with the store's preset, and that target again with an
// OpenTelemetry SDK registered, side by side in this one process, against throwaway servers (the testkit's):
// N callers in a closed loop, rounds alternating the contenders, medians and Reconnect ÷ raw ratios.
//   node bench/load/run.js [--stores redis,mysql,mysql-tx,elasticsearch] [--callers 1,8,64,256] [--rounds 6]
//        [--seconds 2] [--warmup 1] [--json FILE] [--from FILE] [--write | --no-write] [--benchmarks FILE]
// Prints the tables; unless --no-write, writes the raw results as JSON (default bench/load/results/load.json) and,
// for a run of every store (or with --write), the load section of BENCHMARKS.md (between its markers).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setInterval, clearInterval, setTimeout } from 'node:timers';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { cleanupAll } from '@reconnect/testkit';
import { harnessCost, runRound, startGcObserver, stopGcObserver } from './measure.js';
import { createOtel } from './otel.js';
import { contenderKeys, contenderTitle, renderSection, spliceSection, summarise } from './section.js';
import { storeNames, stores } from './stores.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    stores: { type: 'string' },
    callers: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    json: { type: 'string' },
    from: { type: 'string' },
    benchmarks: { type: 'string' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
  },
});
const env = process.env;
const list = (v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
const number = (name, v, fallback, { integer = false, min = 0 } = {}) => {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} takes a ${integer ? 'whole ' : ''}number ≥ ${min} (got ${v})`);
  return n;
};
const selected = list(values.stores ?? env.BENCH_LOAD_STORES ?? storeNames.join(','));
for (const s of selected)
  if (!stores[s]) throw new Error(`unknown store "${s}" (known: ${storeNames.join(', ')})`);
const callersList = list(values.callers ?? env.BENCH_LOAD_CALLERS ?? '1,8,64,256').map((c) =>
  number('callers', c, 1, { integer: true, min: 1 }),
);
if (callersList.some((c) => c > 4096)) throw new Error('--callers: at most 4096 callers');
const config = {
  stores: selected,
  callers: callersList,
  rounds: number('rounds', values.rounds ?? env.BENCH_LOAD_ROUNDS, 6, { integer: true, min: 1 }),
  seconds: number('seconds', values.seconds ?? env.BENCH_LOAD_SECONDS, 2, { min: 0.05 }),
  warmup: number('warmup', values.warmup ?? env.BENCH_LOAD_WARMUP, 1, { min: 0 }),
};
if (config.seconds > 600 || config.warmup > 600) throw new Error('--seconds and --warmup: at most 600');
if (config.rounds > 100) throw new Error('--rounds: at most 100');
const noWrite = values['no-write'];
const jsonFile = values.json ?? (noWrite ? undefined : path.join(here, 'results', 'load.json'));
const markdownFile = path.resolve(values.benchmarks ?? path.join(here, '..', '..', 'BENCHMARKS.md'));

const say = (line) => process.stdout.write(`${line}\n`);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');

/** Runs every selected store; returns the results as saved in JSON. */
async function measureAll() {
  const startedAt = new Date();
  const command = `npm run bench:load${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const loadBefore = os.loadavg();
  const load1 = [loadBefore[0]];
  const loadTimer = setInterval(() => load1.push(os.loadavg()[0]), 5000);
  loadTimer.unref();
  const cpus = os.cpus();
  say(
    `${command}: ${cpus.length} × ${cpus[0]?.model ?? '?'}, Node ${process.version}, load ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}; ` +
      `callers ${config.callers.join('/')}, ${config.rounds} round(s) of ${config.seconds} s, warm-up ${config.warmup} s`,
  );
  startGcObserver();
  const harness = await harnessCost();
  say(`harness alone: ${harness.cpuUsPerOp.toFixed(2)} µs CPU per operation`);
  const otel = createOtel();
  const results = { command, config, stores: [] };
  try {
    for (const key of selected) results.stores.push(await measureStore(stores[key], otel));
  } finally {
    clearInterval(loadTimer);
    await otel.shutdown();
    stopGcObserver();
  }
  const loadAfter = os.loadavg();
  load1.push(loadAfter[0]);
  results.machine = {
    cpuModel: cpus[0]?.model?.trim() ?? '?',
    cpus: cpus.length,
    memGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadBefore,
    loadAfter,
    load1Min: Math.min(...load1),
    load1Max: Math.max(...load1),
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    harness,
  };
  return results;
}

/** One store: its server, the three contenders, every caller count × round. */
async function measureStore(store, otel) {
  say(`\n${store.title}: starting a throwaway server`);
  const run = await store.start();
  const lanes = {};
  try {
    // The raw client and the plain target are made while no SDK is registered, the third while one is.
    lanes.raw = await run.raw();
    lanes.spans = withHandSpans(await run.raw());
    lanes.reconnect = await run.reconnect(`load-${store.key}`);
    otel.on();
    try {
      lanes.otel = await run.reconnect(`load-${store.key}-otel`);
    } finally {
      otel.off();
    }
    say(`  ${run.server}; contenders ready`);
    const levels = [];
    let otelOps = 0;
    for (const callers of config.callers) {
      const level = { callers, rounds: [] };
      levels.push(level);
      const play = async (key, seconds, round) => {
        const sdk = key === 'otel' || key === 'spans';
        const spans0 = otel.spansExported();
        if (sdk) otel.on();
        let r;
        try {
          r = await runRound({ op: lanes[key].op, callers, seconds });
        } finally {
          if (sdk) otel.off();
        }
        await otel.flush();
        if (key === 'otel') otelOps += r.started;
        return { contender: key, round, ...r, spans: otel.spansExported() - spans0 };
      };
      if (config.warmup > 0) for (const key of contenderKeys) await play(key, config.warmup, 0);
      for (let round = 1; round <= config.rounds; round++) {
        for (let k = 0; k < contenderKeys.length; k++) {
          const key = contenderKeys[(k + round - 1) % contenderKeys.length];
          const r = await play(key, config.seconds, round);
          level.rounds.push(r);
          say(
            `  ${String(callers).padStart(3)} callers, round ${round}/${config.rounds}, ${contenderTitle(store, key)}: ` +
              `${Math.round(r.opsPerSec)} ops/s, ${f1(r.cpuUsPerOp)} µs CPU/op, p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms, ` +
              `GC ${(r.gcShare * 100).toFixed(1)} %, heap ${f1(r.heapMaxMB)} MB` +
              (r.errors > 0 ? `, ${r.errors} failed (${r.firstError})` : ''),
          );
        }
      }
      const s = summarise(level);
      const ratios = ['reconnect', 'otel', 'spans']
        .map(
          (k) =>
            `${k} ${s.contenders[k].ratio.opsPerSec.toFixed(2)}× ops/s, ${s.contenders[k].ratio.cpuUsPerOp.toFixed(2)}× CPU`,
        )
        .join('; ');
      say(`  ${callers} callers: ${ratios}`);
    }
    // Every operation the OTel target ran (warm-ups included) made one attempt or more: the counter holds at least as many.
    const attempts = await otel.attemptsRecorded(lanes.otel.target);
    return { key: store.key, server: run.server, levels, metricsCheck: { attempts, ops: otelOps } };
  } finally {
    for (const lane of Object.values(lanes)) await lane.close().catch(() => {});
    await run.stop();
  }
}

/**
 * A raw client's lane whose every call runs inside two nested active spans, as a target's execute and attempt spans
 * (kind client, a few attributes each): what a user tracing the raw client by hand would pay for the same spans.
 */
function withHandSpans(lane) {
  const tracer = trace.getTracer('bench-load-hand-spans');
  const op = lane.op;
  const attributes = { 'db.system.name': 'bench', 'db.operation.name': 'op' };
  const call = (operation, attempt) =>
    op().then(
      (value) => {
        attempt.end();
        operation.end();
        return value;
      },
      (error) => {
        attempt.setStatus({ code: SpanStatusCode.ERROR });
        attempt.end();
        operation.setStatus({ code: SpanStatusCode.ERROR });
        operation.end();
        throw error;
      },
    );
  return {
    op: () =>
      tracer.startActiveSpan('op', { kind: SpanKind.CLIENT, attributes }, (operation) =>
        tracer.startActiveSpan('attempt', { attributes: { 'reconnect.attempt': 1 } }, (attempt) =>
          call(operation, attempt),
        ),
      ),
    close: lane.close,
  };
}

process.once('SIGINT', () => {
  process.stdout.write('\n✗ interrupted: every throwaway server is being stopped\n');
  process.exit(130);
});

let results;
if (values.from !== undefined) {
  results = JSON.parse(readFileSync(values.from, 'utf8'));
} else {
  try {
    results = await measureAll();
  } finally {
    await cleanupAll();
  }
}

const section = renderSection(results);
say(`\n${section}`);
if (values.from === undefined && jsonFile !== undefined) {
  mkdirSync(path.dirname(path.resolve(jsonFile)), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  say(`\nresults: ${path.resolve(jsonFile)}`);
}
// BENCHMARKS.md's section is rewritten by a run of every store (or by --write).
const everyStore = storeNames.every((k) => results.stores.some((s) => s.key === k));
if (!noWrite && (values.write ?? everyStore)) {
  writeFileSync(markdownFile, spliceSection(readFileSync(markdownFile, 'utf8'), section));
  say(`wrote the load section of ${markdownFile}`);
} else if (!noWrite) say(`BENCHMARKS.md not written: not every store ran (--write writes it anyway)`);
// The run checks itself: no operation failed, and the SDK was on for the two SDK contenders only.
const problems = [];
for (const s of results.stores) {
  const rounds = s.levels.flatMap((l) => l.rounds);
  const failed = rounds.filter((r) => r.errors > 0);
  if (failed.length > 0) problems.push(`${s.key}: ${failed.length} round(s) had failed operations`);
  const traced = rounds.filter((r) => r.contender === 'otel');
  if (traced.some((r) => r.spans === 0)) problems.push(`${s.key}: an OTel round exported no span`);
  // The hand-made spans contender exports spans by design (the SDK is on for its rounds too).
  const untraced = rounds.filter((r) => r.contender !== 'otel' && r.contender !== 'spans');
  const stray = untraced.reduce((a, r) => a + r.spans, 0);
  if (stray > 0.001 * untraced.reduce((a, r) => a + r.started, 0))
    problems.push(`${s.key}: ${stray} spans exported during the rounds without the SDK`);
  if (s.metricsCheck.attempts < s.metricsCheck.ops)
    problems.push(
      `${s.key}: the OTel target's MeterProvider counted ${s.metricsCheck.attempts} attempts for ${s.metricsCheck.ops} operations`,
    );
}
if (problems.length > 0) {
  say(`✗ not a clean run:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exitCode = 1;
}
setTimeout(() => {
  console.error(
    `! a handle kept the process alive 3 s after the benchmark ended (${process.getActiveResourcesInfo().join(', ')}); exiting`,
  );
  process.exit(process.exitCode ?? 0);
}, 3000).unref();
