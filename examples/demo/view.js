// The demo's live terminal view: the same LiveView and target columns as `reconnect watch`, with the
// workload's figures (Reconnect's and the raw client's) beside them.
import { figure, formatTable } from '@reconnect/cli';

const WINDOW_MS = 1000;
const P99_WINDOW_MS = 5000;

/** Operations per second, errors, p99 and still-waiting count of a lane, over the last few seconds. */
export function laneNow(lane, now) {
  let done = 0;
  let errors = 0;
  const lat = [];
  for (let i = lane.records.length - 1; i >= 0; i--) {
    const r = lane.records[i];
    if (r.t0 < now - P99_WINDOW_MS - 60_000) break;
    if (r.t1 === undefined) continue;
    if (r.t1 >= now - WINDOW_MS) {
      done++;
      if (r.ok === false) errors++;
    }
    if (r.t1 >= now - P99_WINDOW_MS) lat.push(r.t1 - r.t0);
  }
  lat.sort((a, b) => a - b);
  const p99 = lat.length === 0 ? undefined : lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))];
  const totalErrors = lane.records.reduce((n, r) => n + (r.ok === false ? 1 : 0), 0);
  return {
    opsPerSec: (done * 1000) / WINDOW_MS,
    errorsPerSec: errors,
    totalErrors,
    p99,
    waiting: lane.pending.size,
  };
}

const headers = [
  'TARGET',
  'STATE',
  'NODES',
  'OPS/S',
  'ERRORS',
  'RETRIES',
  'BREAKER',
  'BUDGET',
  'P99',
  '│ RAW CLIENT',
  'OPS/S',
  'ERRORS',
  'P99',
  'WAITING',
];

/** The table of every running store. */
export function viewLines(stores, now) {
  const rows = [];
  for (const s of stores) {
    if (s.skipped) {
      rows.push([
        s.target,
        'skipped',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        `│ ${s.skipped.slice(0, 40)}`,
        '',
        '',
        '',
        '',
      ]);
      continue;
    }
    const st = s.monitor.snapshot();
    const a = laneNow(s.lanes.reconnect, now);
    const b = laneNow(s.lanes.raw, now);
    const ms = (v) => (v === undefined ? '—' : `${figure(v)} ms`);
    rows.push([
      s.target,
      st.state,
      st.nodesTotal === 0 ? '—' : `${st.nodesAlive}/${st.nodesTotal}`,
      figure(a.opsPerSec),
      String(a.totalErrors),
      String(st.retries),
      st.breaker,
      st.budgetDenied === 0 ? 'ok' : `${st.budgetDenied} denied`,
      ms(a.p99),
      `│ ${s.rawShort}`,
      figure(b.opsPerSec),
      String(b.totalErrors),
      ms(b.p99),
      String(b.waiting),
    ]);
  }
  return formatTable({ headers, rows });
}

/** `[██████░░░░]  12.3 s / 30.0 s  next: …` */
export function progressLine(now, endAt, next) {
  const width = 30;
  const done = Math.max(0, Math.min(width, Math.round((now / endAt) * width)));
  const nextText =
    next === undefined ? 'no more faults' : `next: ${next.name} at ${(next.at / 1000).toFixed(1)} s`;
  return `[${'█'.repeat(done)}${'░'.repeat(width - done)}]  ${(now / 1000).toFixed(1)} s / ${(endAt / 1000).toFixed(1)} s   ${nextText}`;
}
