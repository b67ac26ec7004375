// The chaos benchmark's tables, as Markdown formatted the way Prettier formats it (so BENCHMARKS.md
// passes `prettier --check`).
import { contenders } from './contenders.js';
import { faultTitles, stores } from './stores.js';

export function markdownTable(header, align, body) {
  const rows = [header, ...body];
  const widths = header.map((_, i) => Math.max(3, ...rows.map((r) => [...r[i]].length)));
  const pad = (c, i) => {
    const n = widths[i] - [...c].length;
    return align[i] === 'right' ? ' '.repeat(n) + c : c + ' '.repeat(n);
  };
  const line = (cells) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

const msText = (v) =>
  v === null || v === undefined ? 'never' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
const numText = (v) => (v === null || v === undefined ? '—' : String(v));

/** "median (min–max)" when the runs differ; `never` for a null median. */
export function cell(m, fmt = numText) {
  if (m.median === null || m.median === undefined) {
    const seen = m.values.filter((v) => v !== null && v !== undefined);
    return seen.length === 0
      ? fmt(null)
      : `${fmt(null)} (${seen.length}/${m.values.length} runs: ${fmt(Math.min(...seen))}…)`;
  }
  const lo = m.min;
  const hi = m.max;
  if (m.values.length === 1 || (lo === hi && hi !== null)) return fmt(m.median);
  return `${fmt(m.median)} (${fmt(lo)}–${hi === null ? 'never' : fmt(hi)})`;
}

/** One table per store: a row per fault × contender. */
export function storeTables(groups) {
  const out = [];
  for (const [key, store] of Object.entries(stores)) {
    const gs = groups.filter((g) => g.store === key);
    if (gs.length === 0) continue;
    const body = [];
    for (const fault of store.faults) {
      for (const g of gs.filter((x) => x.fault === fault)) {
        const m = g.metrics;
        body.push([
          faultTitles[fault],
          contenders[g.contender].title,
          `${cell(m.readsOk)} / ${cell(m.readsFailed)}`,
          `${cell(m.writesOk)} / ${cell(m.writesFailed)} (${cell(m.writesUnknown)})`,
          cell(m.lost),
          cell(m.duplicated),
          cell(m.p99Ms, msText),
          cell(m.longestMs, msText),
          m.pastDeadline.median === null ? '— (no deadline)' : cell(m.pastDeadline),
          cell(m.neverSettled),
          cell(m.detectMs, msText),
          cell(m.recoverMs, msText),
        ]);
      }
    }
    out.push({
      store: key,
      title: store.title,
      table: markdownTable(
        [
          'fault',
          'contender',
          'reads ok / failed',
          'writes ok / failed (unknown)',
          'acked writes lost',
          'writes duplicated',
          'p99',
          'longest op',
          'past deadline',
          'never settled',
          'detected after',
          'server back → 1st success',
        ],
        [
          'left',
          'left',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
          'right',
        ],
        body,
      ),
    });
  }
  return out;
}
