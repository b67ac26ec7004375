// Success-path cost of RetryExecutor.execute against a bare call, cockatiel 3 and p-retry 7, in one run.
// No OpenTelemetry SDK is registered: this is what a library user pays when they do not trace.
// Usage: npm run bench   (builds, then runs this file; writes BENCHMARKS.md at the repo root)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { ExponentialBackoff, handleAll, retry, timeout, TimeoutStrategy, wrap } from 'cockatiel';
import pRetry from 'p-retry';
import {
  CircuitBreaker,
  RetryBudget,
  RetryExecutor,
  resolvePolicy,
  systemClock,
} from '../packages/core/dist/index.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

const client = { value: 42 };
// A realistic driver call: an already-settled promise (the cheapest async work a client can do).
const op = (c) => Promise.resolve(c.value);

const policy = resolvePolicy({});
const lease = { client };
// Like a Target: a ready client, and report() for passive health (it gets each attempt's duration).
const source = { acquire: () => lease, report: () => {} };
const classify = () => ({ kind: 'unknown' });

// Reconnect in the configurations that compare like for like with the other libraries.
const executor = (retryPolicy, withBreakerAndBudget) =>
  new RetryExecutor({
    target: 'bench',
    system: 'bench',
    policy: retryPolicy,
    classify,
    source,
    ...(withBreakerAndBudget
      ? { breaker: new CircuitBreaker(policy.circuitBreaker), budget: new RetryBudget(policy.retry.budget) }
      : {}),
  });
const noTimeouts = { ...policy.retry, attemptTimeout: 0, deadline: 0 };
const timeoutOnly = { ...policy.retry, deadline: 0 };
const reconnectDefault = executor(policy.retry, true);
const reconnectDefaultBare = executor(policy.retry, false);
const reconnectTimeout = executor(timeoutOnly, true);
const reconnectNoTimeouts = executor(noTimeouts, true);
const reconnectMinimal = executor(noTimeouts, false);
// A RetryExecutor used directly with a source that wants no report: one clock read less (not what a Target does).
const reconnectNoReport = new RetryExecutor({
  target: 'bench',
  system: 'bench',
  policy: noTimeouts,
  classify,
  source: { acquire: () => lease },
});
const cockatielRetry = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
const cockatielRetryTimeout = wrap(
  retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
  timeout(2000, TimeoutStrategy.Aggressive),
);

const DEFAULT = 'reconnect: default policy (breaker + budget + 2 s attempt timeout + 10 s deadline)';
const DEFAULT_BARE = 'reconnect: default timeouts, no breaker, no budget';
const TIMEOUT = 'reconnect: breaker + budget + 2 s attempt timeout, no deadline';
const NO_TIMEOUTS = 'reconnect: breaker + budget, no timeouts';
const MINIMAL = 'reconnect: no timeouts, no breaker, no budget';
const NO_REPORT = 'reconnect: no timeouts, no breaker, no budget, source without report()';
const COCKATIEL = 'cockatiel 3 retry';
const COCKATIEL_TIMEOUT = 'cockatiel 3 retry + 2 s timeout';
const PRETRY = 'p-retry 7';
const candidates = [
  ['bare call', () => op(client)],
  [DEFAULT, () => reconnectDefault.execute(op, { idempotent: true })],
  [DEFAULT_BARE, () => reconnectDefaultBare.execute(op, { idempotent: true })],
  [TIMEOUT, () => reconnectTimeout.execute(op, { idempotent: true })],
  [NO_TIMEOUTS, () => reconnectNoTimeouts.execute(op, { idempotent: true })],
  [MINIMAL, () => reconnectMinimal.execute(op, { idempotent: true })],
  [NO_REPORT, () => reconnectNoReport.execute(op, { idempotent: true })],
  [COCKATIEL, () => cockatielRetry.execute(() => op(client))],
  [COCKATIEL_TIMEOUT, () => cockatielRetryTimeout.execute(() => op(client))],
  [PRETRY, () => pRetry(() => op(client), { retries: 3 })],
];

async function measure(fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) await fn();
  return Number(process.hrtime.bigint() - start) / ITERATIONS;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const loadBefore = os.loadavg();
// Warm up every candidate so the JIT has seen them all before the first timed round.
for (const [, fn] of candidates) for (let i = 0; i < 20_000; i++) await fn();

const samples = new Map(candidates.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no candidate always runs first (or right after GC pressure).
  for (let k = 0; k < candidates.length; k++) {
    const [name, fn] = candidates[(k + round) % candidates.length];
    samples.get(name).push(await measure(fn));
  }
}

const loadAfter = os.loadavg();

// The two costs the success path cannot avoid, measured on this machine for the explanation below.
function perCall(fn, n = 1_000_000) {
  for (let i = 0; i < 100_000; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / n;
}
const noop = () => {};
const clockReadNs = perCall(() => systemClock.now());
const timerNs = perCall(() => systemClock.clearTimeout(systemClock.setTimeout(noop, 2000)));

const results = candidates.map(([name]) => {
  const xs = samples.get(name);
  return { name, ns: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
});
const ns = (name) => results.find((r) => r.name === name).ns;
const base = ns('bare call');
// Rendered the way Prettier formats Markdown tables, so the generated file passes `prettier --check`.
function markdownTable(header, align, body) {
  const rows = [header, ...body];
  const widths = header.map((_, i) => Math.max(3, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
const table = markdownTable(
  ['candidate', 'ns/op (median)', 'min–max of the rounds', 'vs bare call'],
  ['left', 'right', 'right', 'right'],
  results.map((r) => [
    r.name,
    r.ns.toFixed(0),
    `${r.min.toFixed(0)}–${r.max.toFixed(0)}`,
    `${(r.ns / base).toFixed(2)}×`,
  ]),
);
console.log(table);

// Like-for-like pairs: [reconnect row, other library's row, why they compare].
const pairs = [
  [TIMEOUT, COCKATIEL_TIMEOUT, 'both bound every attempt by a 2 s timeout'],
  [DEFAULT, COCKATIEL_TIMEOUT, 'reconnect also runs breaker, budget and deadline'],
  [NO_TIMEOUTS, COCKATIEL, 'neither bounds an attempt; reconnect also runs breaker and budget'],
  [MINIMAL, COCKATIEL, 'neither bounds an attempt'],
  [NO_REPORT, COCKATIEL, 'neither bounds an attempt nor reports durations (not a Target)'],
  [DEFAULT, PRETRY, 'p-retry bounds nothing'],
  [NO_TIMEOUTS, PRETRY, 'neither bounds an attempt'],
];
const verdict = ([ours, other, why]) => {
  const ratio = ns(other) / ns(ours);
  const how = ratio >= 1 ? `${ratio.toFixed(2)}× cheaper` : `${(1 / ratio).toFixed(2)}× more expensive`;
  return [ours, other, `${ns(ours).toFixed(0)} vs ${ns(other).toFixed(0)} ns`, `**${how}**`, why];
};
const pairTable = markdownTable(
  ['reconnect', 'compared with', 'ns/op', 'reconnect is', 'like for like because'],
  ['left', 'left', 'right', 'left', 'left'],
  pairs.map(verdict),
);
console.log(`\n${pairTable}`);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const gap = ns(MINIMAL) - ns(COCKATIEL);
const gapNote =
  gap > 0
    ? `reconnect without timeouts costs ${gap.toFixed(0)} ns more than it in this run, and its two clock reads alone cost ${(2 * clockReadNs).toFixed(0)} ns`
    : `reconnect without timeouts was ${(-gap).toFixed(0)} ns cheaper than it in this run, its two clock reads included`;
const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
const md = `# Benchmarks

Success-path cost of \`RetryExecutor.execute\` (what \`target.execute\` runs) with **no OpenTelemetry SDK
registered**, against a bare call, cockatiel 3's retry policy and p-retry 7, measured in the same run.
The operation returns an already-resolved promise, so the figures are pure overhead. The connection
source is like a Target's: a ready client and a \`report()\` that receives each attempt's duration.

Command: \`npm run bench\` (= \`tsc -b && node bench/run.js\`; \`BENCH_ITERATIONS\` and \`BENCH_ROUNDS\` tune it).
Not part of \`npm test\`. This file is written by that command; the figures below are from one run.

Setup: Node ${process.version}, ${cpu}, ${os.cpus().length} cores shared with other work while measured (load
average ${load(loadBefore)} before, ${load(loadAfter)} after, 1 / 5 / 15 min), ${ITERATIONS.toLocaleString('en')}
sequential awaited calls per round, ${ROUNDS} rounds in rotating order, median of the rounds. Runs on a busy
machine differ by ±10–20 %; compare rows within one run, not across runs.

${table}

Like for like (same run):

${pairTable}

Where the time goes: on this machine one clock read (\`systemClock.now()\`, i.e. \`performance.now()\`) costs
${clockReadNs.toFixed(0)} ns and one unref'd timer set and cleared ${timerNs.toFixed(0)} ns. Reconnect's success
path reads the clock twice: at the start (the deadline, and every attempt's duration should it fail) and when the
attempt settles (the duration \`report()\` receives; without a \`report()\` and without a MeterProvider this read is
skipped). The budget's deposit reuses the start reading. With a timeout it sets one timer (the attempt timeout,
which is also the deadline's) and makes one promise for the race. cockatiel's retry alone reads no clock and sets no
timer: ${gapNote}.

What the success path does not do without an SDK: no span (not even a no-op one: while the API's proxy tracer
has no SDK behind it, one shared non-recording span stands in), no attempt span, context or attributes, no
metric calls (instruments made without a MeterProvider are no-ops for good, so they are skipped), no
AbortController unless the operation reads \`ctx.signal\`, no breaker or budget allocation.
`;
// The sections other runs own (the engine A/B history, `npm run bench:chaos`) start at their first marker: kept.
const file = new URL('../BENCHMARKS.md', import.meta.url);
const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
const kept = previous.indexOf('<!-- bench:');
writeFileSync(file, kept === -1 ? md : `${md}\n${previous.slice(kept)}`);
console.log('\nWrote BENCHMARKS.md');
