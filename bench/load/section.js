// The load benchmark's part of BENCHMARKS.md: the command, the machine and its load, one table per store, and
// the history (issue #21's figures, the starting point). Tables are laid out the way Prettier formats Markdown,
// so the written file passes `prettier --check`.
import { markdownTable } from '../chaos/table.js';
import { otelDescription } from './otel.js';
import { stores } from './stores.js';

export const START = '<!-- bench:load:start -->';
export const END = '<!-- bench:load:end -->';

/** Issue #21's goal for the Reconnect (preset) row, each a bound on Reconnect ÷ raw. */
export const goals = [
  { metric: 'opsPerSec', label: 'ops/s', ok: (r) => r >= 0.95 },
  { metric: 'cpuUsPerOp', label: 'CPU', ok: (r) => r <= 1.1 },
  { metric: 'p99Ms', label: 'p99', ok: (r) => r <= 1.1 },
  // GC share is time per wall second: a contender that serves more operations collects more often. Compared at
  // equal work it is GC time per operation; the goal is met by either (see the columns' description).
  {
    metric: 'gcShare',
    label: 'GC',
    ok: (r, s) => r <= 1.1 || (s.ratio.opsPerSec > 1 && s.ratio.gcUsPerOp <= 1.1),
  },
  { metric: 'heapMaxMB', label: 'heap', ok: (r) => r <= 1.1 },
];

export const contenderKeys = ['raw', 'reconnect', 'otel', 'spans'];

export function contenderTitle(store, key) {
  if (key === 'raw') return store.rawTitle;
  if (key === 'reconnect') return `Reconnect (preset:${store.preset})`;
  if (key === 'spans') return `${store.rawTitle} + OTel SDK, the same 2 spans by hand`;
  return `Reconnect (preset:${store.preset}) + OTel SDK`;
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const metricKeys = ['opsPerSec', 'cpuUsPerOp', 'p50Ms', 'p99Ms', 'gcShare', 'gcUsPerOp', 'heapMaxMB'];

/** A round's metric: as measured, or GC µs per operation (derived, so saved results re-render with it). */
const metricOf = (r, m) => (m === 'gcUsPerOp' ? (r.ops > 0 ? (r.gcMs * 1000) / r.ops : NaN) : r[m]);

/**
 * One caller level's rounds summarised: per contender the median of each metric, and for the Reconnect
 * contenders the median over rounds of (its value ÷ the raw client's value in the same round).
 */
export function summarise(level) {
  const out = { callers: level.callers, contenders: {} };
  for (const key of contenderKeys) {
    const mine = level.rounds.filter((r) => r.contender === key);
    if (mine.length === 0) continue;
    const s = {
      rounds: mine.length,
      errors: mine.reduce((a, r) => a + r.errors, 0),
      spansPerOp: median(mine.map((r) => (r.spans ?? 0) / Math.max(1, r.started ?? r.ops))),
      median: {},
      ratio: {},
      min: {},
      max: {},
    };
    for (const m of metricKeys) {
      const xs = mine.map((r) => metricOf(r, m));
      s.median[m] = median(xs);
      s.min[m] = Math.min(...xs);
      s.max[m] = Math.max(...xs);
      if (key === 'raw') continue;
      const ratios = mine.map((r) => {
        const raw = level.rounds.find((x) => x.contender === 'raw' && x.round === r.round);
        return raw === undefined || !(metricOf(raw, m) > 0) ? NaN : metricOf(r, m) / metricOf(raw, m);
      });
      s.ratio[m] = median(ratios);
    }
    out.contenders[key] = s;
  }
  return out;
}

/** Reconnect + SDK ÷ the raw client with the same spans by hand, median over rounds (undefined without that row). */
function overHandSpans(level) {
  const pairs = level.rounds
    .filter((r) => r.contender === 'otel')
    .map((r) => [r, level.rounds.find((x) => x.contender === 'spans' && x.round === r.round)])
    .filter(([, b]) => b !== undefined && b.opsPerSec > 0 && b.cpuUsPerOp > 0);
  if (pairs.length === 0) return undefined;
  return {
    ops: median(pairs.map(([a, b]) => a.opsPerSec / b.opsPerSec)),
    cpu: median(pairs.map(([a, b]) => a.cpuUsPerOp / b.cpuUsPerOp)),
  };
}

const kOps = (v) => (!Number.isFinite(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(1)} k` : v.toFixed(0));
const us = (v) => (!Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ms = (v) =>
  !Number.isFinite(v)
    ? '—'
    : v >= 100
      ? `${v.toFixed(0)} ms`
      : v >= 10
        ? `${v.toFixed(1)} ms`
        : v >= 1
          ? `${v.toFixed(2)} ms`
          : `${v.toFixed(3)} ms`;
const pct = (v) => (!Number.isFinite(v) ? '—' : `${(v * 100).toFixed(1)} %`);
const gcUs = (v) => (!Number.isFinite(v) ? '—' : v.toFixed(2));
const mb = (v) => (!Number.isFinite(v) ? '—' : `${v.toFixed(1)} MB`);
const ratio = (v) => (!Number.isFinite(v) ? '' : ` (${v.toFixed(2)}×)`);

/** The table of one store: a row per caller count × contender. */
export function storeTable(storeResult) {
  const store = stores[storeResult.key];
  const body = [];
  for (const level of storeResult.levels) {
    const sum = summarise(level);
    for (const key of contenderKeys) {
      const s = sum.contenders[key];
      if (s === undefined) continue;
      const r = (m) => (key === 'raw' ? '' : ratio(s.ratio[m]));
      // A raw median of 0 (no GC at all in a round) has no ratio: then the goal is met only by 0 as well.
      const meets = (g) =>
        Number.isFinite(s.ratio[g.metric])
          ? g.ok(s.ratio[g.metric], s)
          : s.median[g.metric] <= sum.contenders.raw.median[g.metric];
      const misses =
        key === 'reconnect'
          ? goals.filter((g) => !meets(g)).map((g) => g.label)
          : key === 'otel'
            ? ['(spans)']
            : key === 'spans'
              ? ['(baseline)']
              : [];
      body.push([
        String(level.callers),
        contenderTitle(store, key),
        kOps(s.median.opsPerSec) + r('opsPerSec'),
        us(s.median.cpuUsPerOp) + r('cpuUsPerOp'),
        ms(s.median.p50Ms) + r('p50Ms'),
        ms(s.median.p99Ms) + r('p99Ms'),
        pct(s.median.gcShare) + r('gcShare'),
        gcUs(s.median.gcUsPerOp) + r('gcUsPerOp'),
        mb(s.median.heapMaxMB) + r('heapMaxMB'),
        String(s.errors),
        key === 'raw' ? '' : misses.length === 0 ? 'met' : misses.join(', '),
      ]);
    }
  }
  return markdownTable(
    [
      'callers',
      'contender',
      'ops/s (×raw)',
      'CPU µs/op (×raw)',
      'p50 (×raw)',
      'p99 (×raw)',
      'GC share (×raw)',
      'GC µs/op (×raw)',
      'heap high-water (×raw)',
      'failed ops',
      "issue #21's goal: missed",
    ],
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    body,
  );
}

/** Issue #21's own measurements, copied: the starting point. */
export const issueBefore = {
  header: [
    'store',
    'callers',
    'raw ops/s',
    'through Reconnect (preset)',
    'throughput ratio',
    'CPU µs per op raw → Reconnect',
    'p99 raw → Reconnect',
  ],
  align: ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  rows: [
    ['Redis `GET`', '1', '63 k', '55 k', '0.87', '10.2 → 12.7 (1.24×)', '0.07 → 0.11 ms'],
    ['Redis `GET`', '64', '162 k', '94 k', '**0.58**', '6.0 → 9.7 (1.62×)', '1.6 → 5.6 ms'],
    ['MySQL `SELECT 1` (pool of 10)', '1', '33 k', '14 k', '**0.44**', '21 → 56 (2.64×)', '0.09 → 0.18 ms'],
    ['MySQL `SELECT 1` (pool of 10)', '32', '30 k', '14 k', '**0.47**', '30 → 64 (2.14×)', '7.3 → 18 ms'],
  ],
};

const load = (l) => (l ? l.map((x) => x.toFixed(2)).join(' / ') : '?');

export function renderSection(results) {
  const { machine, config } = results;
  const out = [];
  out.push('## Load: throughput and cost per operation against real servers (`npm run bench:load`)');
  out.push('');
  out.push(
    'Command: `npm run bench:load` (= `tsc -b && node bench/load/run.js`; `--stores redis,mysql,mysql-tx,elasticsearch`, `--callers 1,8,64,256`, `--rounds N` (default 6), `--seconds S` per round (default 2), `--warmup S` (default 1), also `BENCH_LOAD_STORES`, `BENCH_LOAD_CALLERS`, `BENCH_LOAD_ROUNDS`, `BENCH_LOAD_SECONDS`, `BENCH_LOAD_WARMUP`; `--no-write` prints only, `--json FILE`, `--from FILE` re-renders saved results; a run of every store writes this section between its markers and the raw results to `bench/load/results/load.json`). Not part of `npm test`. ' +
      `These figures: \`${results.command}\`, ${machine.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${(machine.durationMs / 60000).toFixed(1)} min.`,
  );
  out.push('');
  out.push(
    `Machine: ${machine.cpuModel}, ${machine.cpus} cores (\`os.cpus()\`), ${machine.memGB} GB, ${machine.os}, Node ${machine.node}; load average ${load(machine.loadBefore)} before, ${load(machine.loadAfter)} after (1 / 5 / 15 min; the 1-minute load ranged ${machine.load1Min.toFixed(2)}–${machine.load1Max.toFixed(2)} across the rounds). ` +
      `Servers: throwaway ones started by the testkit for this run, on loopback, sharing the machine with the benchmark (${results.stores.map((s) => s.server).join('; ')}).`,
  );
  out.push('');
  out.push(
    `Load: one Node process; per store four contenders against the same server, each with its own connections — **the raw client** at its defaults (ioredis; a mysql2 promise pool, \`connectionLimit\` 10; \`@elastic/elasticsearch\` with the three nodes), **Reconnect**: the same client library through \`createTarget\` with the store's preset (\`preset:redis\`, \`preset:mysql\`, \`preset:elasticsearch\`, no overrides: attempt timeout, deadline, retry budget, passive health and active health checks on, and the circuit breaker, which \`preset:elasticsearch\` leaves off), reads declared \`idempotent\`, and **Reconnect + OTel SDK**: a second target like it, built and run while an OpenTelemetry SDK is registered (${otelDescription}; registered only for that contender's rounds, so the other two run as without an SDK), and **the raw client + OTel SDK, the same 2 spans by hand**: the raw client's call inside two nested active spans (an operation span and an attempt span, as a target makes), with the SDK registered for its rounds — what the spans alone cost, so that Reconnect + SDK ÷ this row is what Reconnect adds to tracing beyond its spans. ` +
      `Closed loop: ${config.callers.join(' / ')} concurrent callers, each awaiting its operation and then issuing the next, for ${config.seconds} s per round; ${config.rounds} rounds per caller count, the contenders alternating in rotating order within each round, after a ${config.warmup} s warm-up of each; a full GC before every round. ` +
      `The harness alone (one caller, an already-resolved promise) costs ${machine.harness.cpuUsPerOp.toFixed(2)} µs of CPU per operation.`,
  );
  out.push('');
  out.push(
    "Columns: medians over the rounds; _(×raw)_: the median over rounds of Reconnect ÷ the raw client in the same round. _CPU µs/op_: `process.cpuUsage()` (user + system) of the benchmark process over the round ÷ operations — the client, Reconnect and the harness; the servers are other processes. _p50_, _p99_: each operation as its caller saw it. _GC share_: summed duration of the `gc` performance entries ÷ the round's wall time; _GC µs/op_: the same duration ÷ the round's operations (a contender serving more operations a second collects more often: at unequal throughput this is the like-for-like figure). _Heap high-water_: the largest `process.memoryUsage().heapUsed` sampled every 20 ms (the whole process: every contender's clients stay open throughout). _Issue #21's goal_: for the Reconnect row, throughput ≥ 0.95×, CPU per operation, p99, GC share and heap ≤ 1.1× the raw client's (GC: the share, or — where Reconnect serves more operations a second than the raw client — GC µs per operation); the column names what it misses. The OTel row pays for its spans, which the goal allows; it is compared with the hand-made spans row below each table.",
  );
  for (const s of results.stores) {
    const store = stores[s.key];
    out.push('');
    out.push(`### ${store.title}`);
    out.push('');
    out.push(`Operation: ${store.operation}.`);
    out.push('');
    out.push(storeTable(s));
    const notes = [];
    const otelSpans = s.levels.flatMap((l) => l.rounds.filter((r) => r.contender === 'otel'));
    const others = s.levels.flatMap((l) =>
      l.rounds.filter((r) => r.contender !== 'otel' && r.contender !== 'spans'),
    );
    if (otelSpans.length > 0) {
      const perOp = median(otelSpans.map((r) => r.spans / Math.max(1, r.started ?? r.ops)));
      notes.push(
        `The OTel SDK exported ${perOp.toFixed(2)} spans per operation (median over its rounds), and ${others.reduce((a, r) => a + (r.spans ?? 0), 0)} spans during the other contenders' rounds (background health checks)`,
      );
    }
    if (s.metricsCheck !== undefined)
      notes.push(
        `its MeterProvider counted ${s.metricsCheck.attempts} \`reconnect.attempts\` of the OTel target, which ran ${s.metricsCheck.ops} operations (warm-ups included)`,
      );
    const overSpans = s.levels
      .map((l) => ({ callers: l.callers, r: overHandSpans(l) }))
      .filter((x) => x.r !== undefined);
    if (overSpans.length > 0)
      notes.push(
        `Reconnect + OTel SDK ÷ the raw client with the same 2 spans by hand, per round then the median (callers: throughput, CPU per operation): ${overSpans.map((x) => `${x.callers}: ${x.r.ops.toFixed(2)}×, ${x.r.cpu.toFixed(2)}×`).join('; ')}`,
      );
    const failed = s.levels.flatMap((l) => l.rounds.filter((r) => r.errors > 0));
    if (failed.length > 0) notes.push(`failed operations, first: ${failed[0].firstError}`);
    if (notes.length > 0) {
      out.push('');
      out.push(`${notes.join('; ')}.`);
    }
  }
  out.push('');
  out.push('### History');
  out.push('');
  out.push(
    "Starting point: issue #21's table below, **measured by the issue** (not by this command): one Node process, N callers in a closed loop for 2 s, raw client and target alternating, medians of 6 rounds, shared 2-core machine, servers on loopback. The tables above are this command's measurement of the same code path at the commit it ran on.",
  );
  out.push('');
  out.push(markdownTable(issueBefore.header, issueBefore.align, issueBefore.rows));
  return out.join('\n');
}

/** `md` with the load section (between its markers) replaced by `section`, or appended when absent. */
export function spliceSection(md, section) {
  const block = `${START}\n\n${section}\n\n${END}`;
  const a = md.indexOf(START);
  const b = md.indexOf(END);
  return a >= 0 && b > a
    ? md.slice(0, a) + block + md.slice(b + END.length)
    : `${md.trimEnd()}\n\n${block}\n`;
}
