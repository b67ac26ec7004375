// Shared by the slow-node benchmarks (node.js, mysql-replica.js): an open-loop driver of reads at a fixed rate,
// per-phase percentiles, and the healthy median a slowed node is slowed by 10× of.
import { performance } from 'node:perf_hooks';

export const pct = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
export const round = (v, digits = 2) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/**
 * Issues `call()` at `rate` per second for `ms`, open loop (a slow read does not hold the next one back); resolves
 * when issuing ends, with how many were issued and a promise of every read settled. Each read is pushed on `records`.
 */
export async function drive(call, rate, ms, phase, records) {
  const start = performance.now();
  const pending = [];
  let issued = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    for (; issued < due; issued++) {
      const rec = { phase, at: performance.now(), ms: 0, ok: false, code: undefined };
      records.push(rec);
      pending.push(
        call().then(
          () => {
            rec.ok = true;
            rec.ms = performance.now() - rec.at;
          },
          (error) => {
            rec.ms = performance.now() - rec.at;
            rec.code = error?.code ?? error?.name ?? 'error';
          },
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return { issued, settled: Promise.all(pending) };
}

/** `slowMs`: the added delay; `slowShare` is the share of reads that took at least that long (they waited on it). */
export function summarize(records, phase, slowMs) {
  const mine = records.filter((r) => r.phase === phase);
  const ok = mine
    .filter((r) => r.ok)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const failed = {};
  for (const r of mine) if (!r.ok) failed[r.code] = (failed[r.code] ?? 0) + 1;
  const slowShare = ok.length === 0 ? null : round(ok.filter((ms) => ms >= slowMs).length / ok.length, 4);
  return {
    reads: mine.length,
    p50: round(pct(ok, 0.5)),
    p95: round(pct(ok, 0.95)),
    p99: round(pct(ok, 0.99)),
    slowShare,
    failed,
  };
}

/** The median time of `n` reads one after another (`read()` resolves when answered). */
export async function sequentialMedian(read, n = 300) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await read();
    times.push(performance.now() - t0);
  }
  return pct(
    times.sort((a, b) => a - b),
    0.5,
  );
}
