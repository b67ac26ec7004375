// One closed-loop round of `npm run bench:load`: N callers, each awaiting its operation and then issuing the
// next, for a fixed time. What it measures over the round: operations, CPU of this process (user + system),
// every operation's latency (a preallocated log histogram: the harness allocates nothing per operation), the
// garbage collector's time ('gc' performance entries) and the heap's high-water mark (sampled).
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';

// A full collection before each round, so no contender starts with the previous one's garbage: `gc` without
// restarting Node with --expose-gc (the flag applies to contexts made after it is set).
v8.setFlagsFromString('--expose-gc');
const fullGc = vm.runInNewContext('gc');

/** Latency buckets: bucket i > 0 holds (BASE^(i−1), BASE^i] µs, so a percentile is within ±1 %. */
const BASE = 1.02;
const LOG_BASE = Math.log(BASE);
const BUCKETS = 1300; // 1.02^1300 µs ≈ 1.5 · 10^11 µs: far beyond any round

export class Histogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS);
    this.n = 0;
  }

  /** Records one latency, in µs. */
  record(us) {
    const i = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(us) / LOG_BASE));
    this.counts[i]++;
    this.n++;
  }

  /** The p-quantile (0 < p ≤ 1) in µs: the geometric middle of its bucket; undefined when empty. */
  quantile(p) {
    if (this.n === 0) return undefined;
    const rank = Math.max(1, Math.ceil(p * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return i === 0 ? 1 : BASE ** (i - 0.5);
    }
    return BASE ** (BUCKETS - 0.5);
  }
}

// Every GC since the last round: [startTime, duration, startTime, duration, …] (performance.now() time, ms).
const gcEntries = [];
let gcObserver;

/** Starts listening to the garbage collector's performance entries (once). */
export function startGcObserver() {
  if (gcObserver !== undefined) return;
  gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcEntries.push(e.startTime, e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
}

export function stopGcObserver() {
  gcObserver?.disconnect();
  gcObserver = undefined;
}

/** Milliseconds of GC that started within [t0, t1), clipped at t1. */
function gcMsWithin(t0, t1) {
  let ms = 0;
  for (let i = 0; i < gcEntries.length; i += 2) {
    const start = gcEntries[i];
    if (start < t0 || start >= t1) continue;
    ms += Math.min(gcEntries[i + 1], t1 - start);
  }
  return ms;
}

/**
 * @typedef {object} RoundResult
 * @property {number} ops          operations completed within the round
 * @property {number} started      operations issued (those completed after the round's end included)
 * @property {number} seconds      the round's wall time
 * @property {number} opsPerSec
 * @property {number} cpuUsPerOp   (user + system CPU of this process over the round) / ops
 * @property {number} p50Ms
 * @property {number} p99Ms
 * @property {number} gcMs         GC time within the round
 * @property {number} gcShare      gcMs / wall time
 * @property {number} heapMaxMB    the highest heapUsed sampled (MiB)
 * @property {number} errors       operations that failed
 * @property {string | undefined} firstError
 */

/**
 * Runs `op` from `callers` concurrent callers in a closed loop for `seconds`, at most `maxOps` operations.
 * Every loop is bounded: each caller stops at the round's end (read from the clock it already reads for the
 * latency, so a contender whose operations fail at once cannot starve the timers), and a round whose callers
 * are still waiting `graceMs` after its end fails (an operation that never settles).
 * @returns {Promise<RoundResult>}
 */
export async function runRound({
  op,
  callers,
  seconds,
  maxOps = 50_000_000,
  graceMs = 15_000,
  heapEveryMs = 20,
}) {
  fullGc();
  await delay(5); // let the collector's entries of that GC arrive before the round starts
  gcEntries.length = 0;
  const hist = new Histogram();
  const st = { stop: false, started: 0, ops: 0, errors: 0, firstError: undefined, t1: 0, cpu: undefined };
  let heapMax = process.memoryUsage().heapUsed;
  const heapTimer = setInterval(() => {
    const h = process.memoryUsage().heapUsed;
    if (h > heapMax) heapMax = h;
  }, heapEveryMs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const tEnd = t0 + seconds * 1000;
  const end = (t) => {
    if (st.stop) return;
    st.stop = true;
    st.t1 = t;
    st.cpu = process.cpuUsage(cpu0);
    const h = process.memoryUsage().heapUsed;
    if (h > heapMax) heapMax = h;
  };
  // The round also ends on time when no operation completes at all (every caller waiting).
  const endTimer = setTimeout(() => end(performance.now()), seconds * 1000);
  const caller = async () => {
    while (!st.stop) {
      const s = performance.now();
      st.started++;
      let failed = false;
      try {
        await op();
      } catch (error) {
        failed = true;
        st.firstError ??= error;
      }
      const e = performance.now();
      if (st.stop) break; // completed after the round ended: not counted
      if (failed) st.errors++;
      hist.record((e - s) * 1000);
      if (++st.ops >= maxOps || e >= tEnd) end(e);
    }
  };
  const loops = [];
  for (let i = 0; i < callers; i++) loops.push(caller());
  let watchdog;
  try {
    await Promise.race([
      Promise.all(loops),
      new Promise((_, reject) => {
        watchdog = setTimeout(
          () =>
            reject(
              new Error(
                `round stalled: callers still waiting ${graceMs} ms after the round's end (an operation never settled)`,
              ),
            ),
          seconds * 1000 + graceMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(watchdog);
    clearTimeout(endTimer);
    clearInterval(heapTimer);
  }
  await delay(20); // the GC entries of the round's last collections are delivered asynchronously
  const wallMs = st.t1 - t0;
  const gcMs = gcMsWithin(t0, st.t1);
  const cpuUs = st.cpu.user + st.cpu.system;
  return {
    ops: st.ops,
    started: st.started,
    seconds: wallMs / 1000,
    opsPerSec: st.ops / (wallMs / 1000),
    cpuUsPerOp: st.ops > 0 ? cpuUs / st.ops : NaN,
    p50Ms: (hist.quantile(0.5) ?? NaN) / 1000,
    p99Ms: (hist.quantile(0.99) ?? NaN) / 1000,
    gcMs,
    gcShare: gcMs / wallMs,
    heapMaxMB: heapMax / 2 ** 20,
    errors: st.errors,
    firstError:
      st.firstError === undefined
        ? undefined
        : String(st.firstError?.code ?? st.firstError?.name ?? 'Error') +
          ': ' +
          String(st.firstError?.message),
  };
}

/** The harness's own cost: one caller over an operation that returns an already-resolved promise. */
export async function harnessCost(seconds = 0.3) {
  const resolved = Promise.resolve();
  const op = () => resolved;
  await runRound({ op, callers: 1, seconds: Math.min(0.1, seconds) });
  return runRound({ op, callers: 1, seconds });
}
