import { describe, expect, it } from 'vitest';
import { measureLayout, type Layout } from './layout.js';

// The report's layout in a real browser (headless Chromium), on made-up data built to be hard to lay out: faults
// close together with long names, node events in bursts, every state, a long unbroken attribute in a trace. At a
// laptop's 1280 px and a phone's 390 px: no horizontal scroll, no label over another, a legend entry for every kind
// of mark, and per store the sentence on why the columns differ and the target's policy. (demo.test.ts checks the
// report of a real run the same way.)

interface ReportModule {
  reportPage(data: object): string;
}
// A plain-JS module of the demo, loaded by path so the type check does not need declarations for it.
const modulePath = '../report.js';
const { reportPage } = (await import(modulePath)) as ReportModule;

// A small deterministic generator: the same data every run.
let seed = 7;
const rnd = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;

function lane(endedAt: number, faults: { start: number; end: number }[], failInFaults: boolean): number[][] {
  const points: number[][] = [];
  for (let t = 0; t < endedAt; t += 60) {
    const inFault = faults.some((f) => t >= f.start && t <= f.end);
    const write = points.length % 3 === 0 ? 1 : 0;
    if (inFault && failInFaults && rnd() < 0.3) points.push([t, 900 + rnd() * 2000, 0, write]);
    else points.push([t, inFault ? 200 + rnd() * 2500 : 1 + rnd() * 30, 1, write]);
  }
  points.push([endedAt - 500, 500, 2, 0]);
  return points;
}

function store(
  title: string,
  target: string,
  faults: { name: string; short: string; start: number; end: number }[],
) {
  const endedAt = 40_000;
  const states = [{ at: 0, state: 'connected' }];
  for (const f of faults)
    states.push({ at: f.start + 50, state: 'reconnecting' }, { at: f.end + 80, state: 'connected' });
  states.splice(2, 0, { at: faults[0]!.start + 60, state: 'failed' });
  const nodeEvents = faults.flatMap((f, i) => [
    { at: f.start + 40, kind: 'node-dead', node: `127.0.0.1:4100${i}` },
    { at: f.start + 90, kind: 'node-dead', node: `127.0.0.1:4200${i}` },
    { at: f.end + 30, kind: 'node-back', node: `127.0.0.1:4100${i}` },
  ]);
  const figures = {
    reads: { ok: 600, failed: 12 },
    writes: { ok: 300, failed: 5, unknown: 2 },
    duplicated: 0,
    lostAcknowledged: 0,
    longestMs: 3010,
  };
  return {
    title,
    target,
    rawName: `raw ${title} client with a rather long name (defaults)`,
    deadlineMs: 3000,
    faults,
    states,
    nodeEvents,
    lanes: { reconnect: lane(endedAt, faults, true), raw: lane(endedAt, faults, false) },
    figures: { reconnect: figures, raw: { ...figures, duplicated: 3 } },
    policy: {
      from: 'preset:elasticsearch, overridden in examples/demo.config.yaml',
      overrides: Array.from({ length: 14 }, (_, i) => `retry.backoff.someRatherLongSetting${i} 1s`),
      behaviour: [
        'retry: up to 3 retries, 1s per attempt, 3s deadline for the whole operation; retried: connection, throttled, 429, 502, 503, 504',
        'health check: GET _cluster/health?local=true every 300ms, 250ms timeout, down after 3 failed checks',
      ],
    },
    rows: [
      { label: 'reads GET _doc: ok / failed', reconnect: '600 / 12', raw: '590 / 22' },
      { label: 'detected after (all nodes down)', reconnect: '70 ms', raw: 'never (no error)' },
      { label: 'server back → first success (503/429 burst)', reconnect: '8 ms', raw: '2.30 s (1st error)' },
    ],
    why: `Reconnect failed 17 operations where ${title} failed 22: each gave up at its 3 s deadline.`,
  };
}

const closeFaults = [
  { name: 'node-1 killed (SIGKILL), restarted after 5 s', short: 'node-1 killed', start: 8000, end: 13_000 },
  {
    name: 'node-2 answers 503, then 429 + Retry-After, for 2 s',
    short: '503/429 burst',
    start: 8600,
    end: 10_600,
  },
  { name: 'node-3 loses the answers to 3 writes', short: 'lost answers', start: 9100, end: 9400 },
  { name: 'all 3 nodes down (SIGKILL), back after 3 s', short: 'all nodes down', start: 9300, end: 12_300 },
  { name: 'a fifth fault with a long label', short: 'a fault with a long label', start: 38_500, end: 39_900 },
];

const data = {
  generated: '2026-01-01T00:00:00.000Z',
  ok: true,
  verdict:
    '✓ Reconnect kept its promises on Redis, MariaDB, Elasticsearch: no duplicated or lost acknowledged write',
  endedAt: 40_000,
  skipped: [],
  stores: [
    store('Redis', 'cache', [closeFaults[0]!]),
    store('MariaDB', 'orders_db', closeFaults.slice(0, 2)),
    store('Elasticsearch', 'search', closeFaults),
  ],
  traces: [
    {
      key: 'retried-read',
      title: 'A read retried until it succeeded',
      store: 'Elasticsearch',
      op: 'elasticsearch-reconnect-r238',
      traceId: 'edb5351e0dcce3399a7896f46cd339f6',
      spans: [
        {
          name: 'demo.read',
          id: 'a',
          parent: null,
          start: 0,
          dur: 116.6,
          status: 0,
          message: '',
          depth: 0,
          attrs: { 'demo.op_id': 'x'.repeat(240) },
          events: [
            { name: 'reconnect.retry_decision', at: 116.6, attrs: { 'error.type': 'ConnectionError' } },
          ],
        },
        {
          name: 'reconnect.attempt',
          id: 'b',
          parent: 'a',
          start: 0,
          dur: 7,
          status: 2,
          message: '',
          depth: 3,
          attrs: { 'reconnect.attempt': '1' },
          events: [],
        },
      ],
    },
    { key: 'deadline', title: 'An operation that gave up on its deadline', none: true },
  ],
  spanCount: 5000,
};

describe('the demo report, laid out by headless Chromium', () => {
  const pages: Record<number, Layout> = {};
  const layout = (width: number): Layout => (pages[width] ??= measureLayout(reportPage(data), width));

  it.each([1280, 390])(
    'at %i px: no horizontal scroll, nothing sticking out of its box',
    (width) => {
      const l = layout(width);
      expect(l.width).toBe(width);
      expect(l.scrollWidth).toBeLessThanOrEqual(width);
      expect(l.overflowing).toEqual([]);
      expect(l.outside).toEqual([]);
    },
    120_000,
  );

  it.each([1280, 390])(
    'at %i px: no label over another, over a marker or cut off; no legend entry over another',
    (width) => {
      const l = layout(width);
      expect(l.charts).toBe(6);
      expect(l.overlaps).toEqual([]);
      expect(l.clipped).toEqual([]);
      expect(l.legendOverlaps).toEqual([]);
    },
    120_000,
  );

  it.each([1280, 390])(
    'at %i px: every kind of mark drawn has a legend entry, and every drawn element is a mark',
    (width) => {
      const l = layout(width);
      expect(l.unmarked).toEqual([]);
      expect(l.withoutLegend).toEqual([]);
      expect([...l.marks].sort()).toEqual(
        [
          'deadline',
          'fault',
          'no-state',
          'node-back',
          'node-dead',
          'op-err',
          'op-read',
          'op-wait',
          'op-write',
          'state-connected',
          'state-failed',
          'state-reconnecting',
        ].sort(),
      );
    },
    120_000,
  );

  it('per store: one sentence on why the columns differ, and the policy of its target', () => {
    const l = layout(1280);
    expect(l.stores.map((s) => s.title)).toEqual(['Redis', 'MariaDB', 'Elasticsearch']);
    for (const [i, s] of l.stores.entries()) {
      expect(s.why).toBe(data.stores[i]!.why);
      expect(s.policy).toContain(`Policy of target ${data.stores[i]!.target}: preset:elasticsearch`);
      expect(s.policy).toContain('3s deadline for the whole operation');
    }
  }, 120_000);
});
