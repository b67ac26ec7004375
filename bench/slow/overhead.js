// `node bench/slow/overhead.js` (after `npx tsc -b`): what the concurrency limiter costs an operation on the success
// path, against the same executor without it: sequential awaited calls of an operation that returns a resolved
// promise, through a source like a Target's (a ready client, a report() of each attempt), no OpenTelemetry SDK.
// Rounds alternate between the two; the median round is reported.
//   node bench/slow/overhead.js [--calls 200000] [--rounds 7]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  ConcurrencyLimiter,
  LimitedSource,
  RetryExecutor,
  resolvePolicy,
  systemClock,
} from '@reconnect/core';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '7' } },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);

const policy = resolvePolicy({ concurrency: { limit: 'adaptive' } });
const lease = { client: {} };
const source = { acquire: () => lease, report: () => undefined };
const executor = (withLimiter) =>
  new RetryExecutor({
    target: 'bench',
    system: 'other_sql',
    policy: policy.retry,
    classify: () => ({ kind: 'unknown' }),
    source: withLimiter
      ? new LimitedSource(
          source,
          new ConcurrencyLimiter(policy.concurrency, systemClock, 'bench'),
          systemClock,
        )
      : source,
  });

const op = () => Promise.resolve(1);
async function round(ex) {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await ex.execute(op);
  return ((performance.now() - t0) * 1e6) / calls;
}

const plain = executor(false);
const limited = executor(true);
const times = { plain: [], limited: [] };
for (let r = 0; r < rounds; r++) {
  times.plain.push(await round(plain));
  times.limited.push(await round(limited));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p = median(times.plain);
const l = median(times.limited);
console.log(
  `executor, default policy: ${Math.round(p)} ns/op; with the adaptive limiter: ${Math.round(l)} ns/op (+${Math.round(l - p)} ns, ${(l / p).toFixed(2)}×)`,
);
