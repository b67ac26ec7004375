import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumBinary, measureLayout, readReport } from './layout.js';

// The gating run of `npm run demo`: the real demo script in its short mode (every fault and pause
// halved), as a subprocess against its own throwaway servers. The assertions are the summary's
// bookkeeping and Reconnect's promises, not timings: the machine is shared.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = mkdtempSync(path.join(tmpdir(), 'reconnect-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let run: { code: number | null; stdout: string; stderr: string; ms: number };
interface Figures {
  reads: { ok: number; failed: number };
  writes: { ok: number; failed: number; unknown: number; unknownLanded: number; failedLanded: number };
  stillWaiting: number;
  skipped: number;
  serverWrites: number;
  duplicated: number;
  lostAcknowledged: number;
  failedReadsOutsideFaults: number;
  longestMs: number;
  pastDeadline: number;
}
interface FaultFigures {
  detectedMs: number | null;
  recoveredMs: number | null;
}
interface StoreSummary {
  store: string;
  title: string;
  target: string;
  rawName: string;
  deadlineMs: number;
  slackMs: number;
  faults: { name: string; startedAt: number; healedAt: number; error?: string }[];
  figures: Record<'reconnect' | 'raw', Figures>;
  faultFigures: Record<'reconnect' | 'raw', FaultFigures[]>;
}
interface Summary {
  ok: boolean;
  broken: string[];
  skipped: string[];
  stores: StoreSummary[];
  spans: number;
  workloadMs: number;
  traces: { key: string; found: boolean; traceId?: string }[];
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}
interface Otlp {
  resourceSpans: { scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

let summary: Summary;
const vias = ['reconnect', 'raw'] as const;

function runDemo(): Promise<typeof run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['examples/demo.js', '--short', '--out', out], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGINT'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  run = await runDemo();
  const file = path.join(out, 'summary.json');
  summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Summary) : ({} as Summary);
  console.log(`demo --short took ${run.ms} ms (workload ${summary?.workloadMs} ms)`);
}, 180_000);

describe('npm run demo (short mode)', () => {
  it('exits 0, says Reconnect kept its promises, and cleans up', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(summary.ok).toBe(true);
    expect(summary.broken).toEqual([]);
    expect(run.stdout).toContain('✓ Reconnect kept its promises on Redis, MariaDB, Elasticsearch');
    expect(run.stdout).toMatch(/cleaned up: every server stopped and every client closed/);
  });

  it('shows the live view as a line log when stdout is not a terminal', () => {
    expect(run.stdout).not.toContain(String.fromCharCode(27));
    expect(run.stdout).toMatch(
      /^TARGET\s+STATE\s+NODES\s+OPS\/S\s+ERRORS\s+RETRIES\s+BREAKER\s+BUDGET\s+P99\s+│ RAW CLIENT\s+OPS\/S\s+ERRORS\s+P99\s+WAITING$/m,
    );
    expect(run.stdout).toMatch(/^search\s+connected\s+3\/3\s/m);
    expect(run.stdout).toMatch(/^\[[█░]{30}\]\s+\d+\.\d s \/ \d+\.\d s/m);
    expect(run.stdout).toMatch(/orders_db: connected → reconnecting/);
    expect(run.stdout).toMatch(/search: node \S+ dead/);
  });

  it('ran every store, none skipped', () => {
    expect(summary.skipped).toEqual([]);
    expect(summary.stores.map((s) => s.store)).toEqual(['redis', 'mysql', 'elasticsearch']);
    expect(run.stdout).not.toContain('SKIPPED');
  });

  it('played and announced every fault of the script, and Reconnect noticed each one and recovered', () => {
    const names = summary.stores.flatMap((s) => s.faults.map((f) => f.name));
    expect(names).toHaveLength(6);
    for (const s of summary.stores) {
      s.faults.forEach((f, i) => {
        expect(f.error).toBeUndefined();
        expect(f.healedAt).toBeGreaterThan(f.startedAt);
        expect(run.stdout).toContain(`FAULT ${s.title}: ${f.name}`);
        expect(s.faultFigures.reconnect[i]!.detectedMs, `${s.title}: ${f.name}`).not.toBeNull();
        expect(s.faultFigures.reconnect[i]!.recoveredMs, `${s.title}: ${f.name}`).not.toBeNull();
      });
    }
  });

  it("keeps Reconnect's promises on every store, counted on the server", () => {
    for (const s of summary.stores) {
      const r = s.figures.reconnect;
      expect(r.duplicated, s.title).toBe(0);
      expect(r.lostAcknowledged, s.title).toBe(0);
      expect(r.failedReadsOutsideFaults, s.title).toBe(0);
      expect(r.pastDeadline, s.title).toBe(0);
      expect(r.stillWaiting, s.title).toBe(0);
      expect(r.longestMs, s.title).toBeLessThanOrEqual(s.deadlineMs + s.slackMs);
    }
  });

  it('balances the books: the server holds exactly the acknowledged writes plus the unknown ones that ran', () => {
    for (const s of summary.stores) {
      for (const via of vias) {
        const f = s.figures[via];
        expect(f.reads.ok + f.reads.failed, `${s.title} ${via}`).toBeGreaterThan(50);
        expect(f.writes.ok, `${s.title} ${via}`).toBeGreaterThan(25);
        expect(f.skipped).toBe(0);
      }
      for (const via of vias) {
        const f = s.figures[via];
        // Each distinct id on the server is an acknowledged write that was kept, or a failed one that ran anyway.
        expect(f.serverWrites - f.duplicated, `${s.title} ${via}`).toBe(
          f.writes.ok - f.lostAcknowledged + f.writes.failedLanded,
        );
      }
      // Through Reconnect only an `outcome: unknown` failure may have run: a not-sent one never reached the server.
      expect(s.figures.reconnect.writes.failedLanded, s.title).toBe(s.figures.reconnect.writes.unknownLanded);
    }
  });

  it('prints the summary table per store, Reconnect beside the raw client', () => {
    for (const s of summary.stores) {
      expect(run.stdout).toContain(`Reconnect (${s.target})`);
      expect(run.stdout).toContain(s.rawName);
    }
    for (const row of [
      'duplicated writes (on the server)',
      'lost acknowledged writes',
      'longest operation',
      'detected after',
      'server back → first success',
    ]) {
      expect(run.stdout).toContain(row);
    }
    expect(run.stdout).toContain(`report: ${path.join(out, 'index.html')}`);
  });

  it('writes the spans as OTLP JSON, from the real SDK', () => {
    const otlp = JSON.parse(readFileSync(path.join(out, 'spans.json'), 'utf8')) as Otlp;
    const spans = otlp.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans.length).toBe(summary.spans);
    // Operations are Reconnect's CLIENT spans (OTLP kind 3), scope @reconnect/core (the ES client has its own).
    const execute = otlp.resourceSpans.flatMap((r) =>
      r.scopeSpans
        .filter((s) => s.scope.name === '@reconnect/core')
        .flatMap((s) => s.spans.filter((sp) => sp.kind === 3)),
    );
    expect(execute.length).toBeGreaterThan(100);
    for (const s of execute.slice(0, 50)) {
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(s.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
      expect(BigInt(s.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(s.startTimeUnixNano));
    }
    const targets = new Set(
      execute.map((s) => s.attributes.find((a) => a.key === 'reconnect.target')?.value.stringValue),
    );
    expect([...targets].sort()).toEqual(['cache', 'orders_db', 'search']);
    expect(otlp.resourceSpans[0]!.scopeSpans.map((s) => s.scope.name)).toContain('@reconnect/core');
    // The report's trace view: a retried read, an outcome-unknown write, a deadline give-up — each a trace in spans.json.
    expect(summary.traces.map((t) => [t.key, t.found])).toEqual([
      ['retried-read', true],
      ['unknown-write', true],
      ['deadline', true],
    ]);
    const traceIds = new Set(spans.map((s) => s.traceId));
    for (const t of summary.traces) expect(traceIds.has(t.traceId!)).toBe(true);
  });
});

/** Runs headless Chromium on the report with the network shut off; resolves to its stdout and stderr. */
function chromium(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(
    chromiumBinary(),
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--no-first-run',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      '--enable-logging=stderr',
      '--v=0',
      '--window-size=1320,2200',
      `--user-data-dir=${path.join(out, 'chromium-profile')}`,
      ...args,
      `file://${path.join(out, 'index.html')}`,
    ],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('demo-report/index.html in headless Chromium', () => {
  it('is self-contained: no script, style, image or font from anywhere else', () => {
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
  });

  it('draws a chart per store and client, the fault windows, the state band and the traces, with no console error', () => {
    const r = chromium(['--dump-dom', '--virtual-time-budget=5000']);
    expect(r.status).toBe(0);
    // Every console message (console.error, an uncaught exception) is logged by Chromium as CONSOLE.
    expect(r.stderr.split('\n').filter((l) => l.includes(':CONSOLE'))).toEqual([]);
    const dom = r.stdout;
    const attr = (name: string): number =>
      Number(new RegExp(`<body[^>]* ${name}="(\\d+)"`).exec(dom)?.[1] ?? -1);
    expect(attr('data-errors')).toBe(0);
    expect(attr('data-charts')).toBe(2 * summary.stores.length);
    let ops = 0;
    for (const st of summary.stores) {
      for (const via of vias) {
        const f = st.figures[via];
        ops += f.reads.ok + f.reads.failed + f.writes.ok + f.writes.failed + f.stillWaiting;
      }
    }
    // One mark per recorded operation, drawn as SVG elements.
    expect(attr('data-marks')).toBe(ops);
    expect((dom.match(/class="op[ "]/g) ?? []).length).toBe(ops);
    const faults = summary.stores.reduce((n, st) => n + st.faults.length, 0);
    expect((dom.match(/class="fault"/g) ?? []).length).toBe(2 * faults);
    expect((dom.match(/class="state"/g) ?? []).length).toBeGreaterThanOrEqual(summary.stores.length * 3);
    expect(attr('data-traces')).toBe(3);
    expect(dom).toContain('reconnect.outcome=unknown');
    expect(dom).toContain('reason=deadline');
  });

  it.each([1280, 390])(
    'at %i px wide: no horizontal scroll, no label over another, a legend entry for every mark',
    (width) => {
      const l = measureLayout(readReport(path.join(out, 'index.html')), width);
      expect(l.width).toBe(width);
      expect(l.scrollWidth).toBeLessThanOrEqual(width);
      expect(l.overflowing).toEqual([]);
      expect(l.outside).toEqual([]);
      expect(l.charts).toBe(2 * summary.stores.length);
      expect(l.overlaps).toEqual([]);
      expect(l.clipped).toEqual([]);
      expect(l.legendOverlaps).toEqual([]);
      expect(l.unmarked).toEqual([]);
      expect(l.withoutLegend).toEqual([]);
      // The marks every run draws: the state band and, for the 3-node cluster, the node markers among them.
      expect(l.marks).toEqual(
        expect.arrayContaining([
          'op-read',
          'op-write',
          'fault',
          'deadline',
          'state-connected',
          'no-state',
          'node-dead',
        ]),
      );
    },
    120_000,
  );

  it("per store, the target's policy and one sentence on why the two columns differ (also printed)", () => {
    const l = measureLayout(readReport(path.join(out, 'index.html')), 1280);
    expect(l.stores.map((s) => s.title)).toEqual(summary.stores.map((s) => s.title));
    for (const [i, s] of l.stores.entries()) {
      const st = summary.stores[i]!;
      expect(s.why).toMatch(/^\S.*\.$/);
      expect(run.stdout).toContain(`  why: ${s.why}`);
      expect(s.policy).toContain(`Policy of target ${st.target}: preset:`);
      expect(s.policy).toContain(`${st.deadlineMs / 1000}s deadline for the whole operation`);
    }
    // MariaDB's hang outlasts the target's 3 s deadline: the sentence says that is why Reconnect failed more.
    const mysql = l.stores.find((s) => s.title === 'MariaDB');
    expect(mysql?.why).toMatch(
      /^Reconnect failed \d+ operations? where raw mysql2 pool failed 0: .*3 s deadline/,
    );
  }, 120_000);

  it('renders to a screenshot', () => {
    const shot = path.join(out, 'screenshot.png');
    const r = chromium([`--screenshot=${shot}`, '--virtual-time-budget=5000']);
    expect(r.status).toBe(0);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    if (process.env.DEMO_SCREENSHOT) spawnSync('cp', [shot, process.env.DEMO_SCREENSHOT]);
  });
});
