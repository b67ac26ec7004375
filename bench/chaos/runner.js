// `npm run bench:chaos`: for each store, each fault and each contender, one at a time and each against
// its own throwaway server(s), the same fixed-rate workload (the live demo's Lane: idempotent reads and
// non-idempotent writes of unique ids, issued on schedule), one fault, then the count on the server.
// The bookkeeping is the demo's (examples/demo/summary.js: laneFigures, faultFigures).
/* global performance, setInterval, clearInterval */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cleanupAll } from '@reconnect/testkit';
import { Lane } from '../../examples/demo/lane.js';
import { DEADLINE_SLACK_MS, faultFigures, laneFigures } from '../../examples/demo/summary.js';
import { contenders, defaultContenders } from './contenders.js';
import { allFaultNames, faultNames, faultNeedsProxy, stores } from './stores.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Timing of one run, ms. `tiny` is the gating test's. */
export const timings = {
  full: {
    warmMs: 1000,
    faultMs: 3000,
    tailMs: 3000,
    loopCycles: 3,
    loopDownMs: 500,
    loopUpMs: 800,
    readEveryMs: 25,
    writeEveryMs: 50,
    drainMs: 15_000,
  },
  tiny: {
    warmMs: 300,
    faultMs: 1000,
    tailMs: 1500,
    loopCycles: 2,
    loopDownMs: 300,
    loopUpMs: 400,
    readEveryMs: 50,
    writeEveryMs: 100,
    drainMs: 8000,
  },
};

/**
 * The full timing at `rate` operations a second, the same read/write mix as the default 60 (two reads to one
 * write), with room for every operation that waits through the fault (`maxPending`).
 */
export function timingAt(rate) {
  const t = timings.full;
  return {
    ...t,
    readEveryMs: 1000 / ((rate * 2) / 3),
    writeEveryMs: 1000 / (rate / 3),
    maxPending: Math.max(2000, rate * 15),
    rate,
  };
}

/** The p-th percentile (0–100) of `xs`, nearest rank. */
export function percentile(xs, p) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Consistency of one run's bookkeeping; each inconsistency is a sentence (none: an empty list).
 * Every issued operation is ok, failed or still waiting; every id on the server is one this lane wrote;
 * the server holds every id once, plus the duplicates counted.
 */
export function bookkeepingProblems(r) {
  const out = [];
  const f = r.figures;
  for (const kind of ['reads', 'writes']) {
    const issued = r.issued[kind];
    const settled = f[kind].ok + f[kind].failed;
    const waiting = r.stillWaitingByKind[kind];
    if (settled + waiting !== issued)
      out.push(`${kind}: ${issued} issued but ${settled} settled + ${waiting} waiting`);
  }
  if (r.foreignServerIds > 0) out.push(`${r.foreignServerIds} id(s) on the server this lane never wrote`);
  if (r.distinctServerIds + f.duplicated !== f.serverWrites)
    out.push(`server: ${f.serverWrites} rows ≠ ${r.distinctServerIds} distinct + ${f.duplicated} duplicated`);
  if (f.lostAcknowledged > f.writes.ok) out.push('more writes lost than acknowledged');
  if (r.issued.reads === 0 || r.issued.writes === 0) out.push('the workload did not run');
  return out;
}

/** One contender through one fault, against a fresh server. */
export async function runOnce({ store, fault, contender, t, log = () => {} }) {
  const run = await store.start();
  /** @type {Awaited<ReturnType<typeof contender.create>> | undefined} */
  let c;
  const t0 = { at: performance.now() + 1e9 };
  const now = () => performance.now() - t0.at;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let heapTimer;
  try {
    await run.expose(faultNeedsProxy(fault));
    c = await contender.create(store, run, now);
    const lane = new Lane({
      store: store.key,
      via: contender.key,
      now,
      run: (kind, id) => c.op(kind, id),
      ...(t.maxPending === undefined ? {} : { maxPending: t.maxPending }),
    });
    const played = run.fault(fault, t);
    const rec = { name: fault };
    loopDelay.enable();
    let heapMax = process.memoryUsage().heapUsed;
    heapTimer = setInterval(() => {
      heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
    }, 100);
    t0.at = performance.now();
    if (c.events) c.events.length = 0;
    lane.start({ readEveryMs: t.readEveryMs, writeEveryMs: t.writeEveryMs });
    await sleep(t.warmMs);
    rec.startedAt = now();
    await played.start();
    await sleep(Math.max(0, rec.startedAt + t.faultMs - now()));
    await played.end();
    rec.healedAt = now();
    const faultActed = played.acted?.();
    await sleep(t.tailMs);
    lane.stop();
    const stoppedAt = now();
    await lane.drain(t.drainMs);
    const endedAt = now();
    clearInterval(heapTimer);
    loopDelay.disable();
    const stallMs = Math.round(loopDelay.max / 1e6);
    const serverIds = await run.serverWrites(contender.key);
    const figures = laneFigures(lane, serverIds, [rec], endedAt, c.deadlineMs, DEADLINE_SLACK_MS + stallMs);
    const ff = faultFigures(rec, lane, c.events);
    const durations = lane.records.map((r) => (r.t1 ?? endedAt) - r.t0);
    const written = new Set(lane.records.filter((r) => r.kind === 'write').map((r) => r.id));
    // Issue #29's promises under load: nothing issued a second after the server was back fails, and no
    // idempotent read fails whose deadline outlasted the outage.
    const failedAfterBack = lane.records.filter((r) => r.ok === false && r.t0 >= rec.healedAt + 1000).length;
    const readsFailedWithinDeadline =
      c.deadlineMs === undefined
        ? null
        : lane.records.filter(
            (r) => r.kind === 'read' && r.ok === false && r.t0 + c.deadlineMs > rec.healedAt + 1000,
          ).length;
    const distinct = new Set(serverIds);
    // The fault matrix's figures (issue #24): every error by code, kind and outcome with what it said, writes that
    // said not_sent yet are on the server (never allowed), and how often the target left `connected`.
    const errorDetail = {};
    for (const r of lane.records) {
      if (r.ok !== false) continue;
      const k = `${r.code}|${r.errorKind ?? ''}|${r.outcome ?? ''}`;
      errorDetail[k] ??= {
        code: r.code,
        kind: r.errorKind,
        outcome: r.outcome,
        count: 0,
        message: r.message,
      };
      errorDetail[k].count++;
    }
    const notSentLanded = lane.records.filter(
      (r) => r.kind === 'write' && r.ok === false && r.outcome === 'not_sent' && distinct.has(r.id),
    ).length;
    const leftConnected = (c.events ?? []).filter(
      (e) => e.kind === 'state' && e.from === 'connected' && e.at >= rec.startedAt,
    ).length;
    const result = {
      store: store.key,
      fault,
      contender: contender.key,
      policyNote: c.policyNote,
      deadlineMs: c.deadlineMs,
      issued: {
        reads: lane.records.filter((r) => r.kind === 'read').length,
        writes: lane.records.filter((r) => r.kind === 'write').length,
      },
      stillWaitingByKind: {
        reads: lane.records.filter((r) => r.kind === 'read' && r.t1 === undefined).length,
        writes: lane.records.filter((r) => r.kind === 'write' && r.t1 === undefined).length,
      },
      figures,
      ok: figures.reads.ok + figures.writes.ok,
      failed: figures.reads.failed + figures.writes.failed,
      readsOk: figures.reads.ok,
      readsFailed: figures.reads.failed,
      writesOk: figures.writes.ok,
      writesFailed: figures.writes.failed,
      writesUnknown: figures.writes.unknown,
      lost: figures.lostAcknowledged,
      duplicated: figures.duplicated,
      p99Ms: Math.round(percentile(durations, 99) ?? 0),
      longestMs: figures.longestMs,
      pastDeadline: c.deadlineMs === undefined ? null : figures.pastDeadline,
      neverSettled: figures.stillWaiting,
      errors: figures.errors,
      detectMs: ff.detectedMs,
      recoverMs: ff.recoveredMs,
      faultMs: Math.round(rec.healedAt - rec.startedAt),
      drainMs: Math.round(endedAt - stoppedAt),
      stallMs,
      distinctServerIds: distinct.size,
      foreignServerIds: [...distinct].filter((id) => !written.has(id)).length,
      rate: t.rate ?? 60,
      issuedPerSec: Math.round((lane.records.length / Math.max(1, stoppedAt)) * 1000),
      skipped: lane.skipped,
      failedAfterBack,
      readsFailedWithinDeadline,
      heapMaxMB: Math.round(heapMax / 1048576),
      errorDetail: Object.values(errorDetail),
      notSentLanded,
      leftConnected,
      // The fault's own count of what it did on the server (connections killed), where it keeps one.
      faultActed: faultActed ?? null,
    };
    result.problems = bookkeepingProblems(result);
    log(
      `${store.key} ${fault} ${contender.key}: ok ${result.ok} failed ${result.failed} lost ${result.lost} dup ${result.duplicated} p99 ${result.p99Ms} ms longest ${result.longestMs} ms detect ${result.detectMs ?? 'never'} recover ${result.recoverMs ?? 'never'}${result.failed ? ` errors ${JSON.stringify(result.errors)}` : ''}${result.problems.length ? ` PROBLEMS: ${result.problems.join('; ')}` : ''}`,
    );
    return result;
  } finally {
    clearInterval(heapTimer);
    loopDelay.disable();
    if (c) await c.close().catch(() => {});
    await run.stop().catch(() => {});
  }
}

/** The median of numbers where `null` means "never" (sorted last). */
export function median(xs) {
  const s = [...xs].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
  return s[Math.floor((s.length - 1) / 2)];
}

/** Groups the runs by store × fault × contender; each metric as { median, min, max, values }. */
export function aggregate(results) {
  const metrics = [
    'ok',
    'failed',
    'readsOk',
    'readsFailed',
    'writesOk',
    'writesFailed',
    'writesUnknown',
    'lost',
    'duplicated',
    'p99Ms',
    'longestMs',
    'pastDeadline',
    'neverSettled',
    'detectMs',
    'recoverMs',
    'failedAfterBack',
    'readsFailedWithinDeadline',
    'skipped',
    'heapMaxMB',
    'issuedPerSec',
    'notSentLanded',
    'leftConnected',
    // What the fault counted on the server or at the proxy (killed connections, deadlocks, connection attempts).
    'faultActed',
  ];
  const groups = new Map();
  for (const r of results) {
    const k = `${r.store}|${r.fault}|${r.contender}|${r.rate ?? 60}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  return [...groups.values()].map((rs) => {
    const m = {};
    for (const name of metrics) {
      const values = rs.map((r) => r[name]);
      const nums = values.filter((v) => v !== null && v !== undefined);
      m[name] = {
        median: median(values),
        min: nums.length ? Math.min(...nums) : null,
        max: nums.length === values.length ? Math.max(...nums) : null,
        values,
      };
    }
    return {
      store: rs[0].store,
      fault: rs[0].fault,
      contender: rs[0].contender,
      rate: rs[0].rate ?? 60,
      policyNote: rs[0].policyNote,
      runs: rs.length,
      metrics: m,
      problems: rs.flatMap((r) => r.problems),
      errorDetail: rs.flatMap((r) => r.errorDetail ?? []),
    };
  });
}

/**
 * Runs the benchmark. `stores`/`faults`/`contenders` filter (names); resolves to
 * `{ results, groups, machine }`. Runs are ordered run → store → fault → contender, so a slow minute of
 * the machine hits every contender's n-th run rather than one contender's all.
 */
export async function runChaos({
  runs = 3,
  tiny = false,
  storeNames = Object.keys(stores),
  faultFilter = faultNames,
  contenderNames = defaultContenders,
  rates = undefined,
  matrix = false,
  log = (line) => process.stdout.write(`${line}\n`),
} = {}) {
  // One timing per rate of the sweep (issue #29), or the default one; the testkit's cleanup runs once, at the end.
  const timingsByRate =
    rates === undefined ? [tiny ? timings.tiny : timings.full] : rates.map((r) => timingAt(r));
  const t = timingsByRate[0];
  for (const n of storeNames) if (!stores[n]) throw new Error(`unknown store "${n}"`);
  for (const n of contenderNames) if (!contenders[n]) throw new Error(`unknown contender "${n}"`);
  for (const n of faultFilter) if (!allFaultNames.includes(n)) throw new Error(`unknown fault "${n}"`);
  const loadBefore = os.loadavg();
  const wallStart = Date.now();
  const results = [];
  const loads = [];
  try {
    for (let i = 0; i < runs; i++) {
      for (const sn of storeNames) {
        const store = stores[sn];
        for (const tr of timingsByRate) {
          const storeFaults = matrix ? store.matrixFaults : store.faults;
          for (const fault of storeFaults.filter((f) => faultFilter.includes(f))) {
            for (const cn of contenderNames) {
              loads.push(os.loadavg()[0]);
              if (rates === undefined && !matrix) {
                const r = await runOnce({ store, fault, contender: contenders[cn], t: tr, log });
                results.push({ ...r, run: i + 1 });
                continue;
              }
              // The sweep (and the matrix) goes on past a cell whose server could not be started, restarted or
              // faulted.
              try {
                const r = await runOnce({ store, fault, contender: contenders[cn], t: tr, log });
                results.push({ ...r, run: i + 1 });
              } catch (error) {
                log(`${sn} ${fault} ${cn} at ${tr.rate}/s did not run: ${String(error).split('\n')[0]}`);
              }
            }
          }
        }
      }
    }
  } finally {
    await cleanupAll();
  }
  const machine = {
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    loadBefore,
    loadAfter: os.loadavg(),
    load1Min: Math.min(...loads),
    load1Max: Math.max(...loads),
    startedAt: new Date(wallStart).toISOString(),
    durationMs: Date.now() - wallStart,
    runs,
    tiny,
    timing: t,
  };
  return { results, groups: aggregate(results), machine };
}
