import { describe, expect, it } from 'vitest';

// The demo's bookkeeping on hand-made records: each promise, broken on purpose, must show up as a
// sentence (which is what makes the demo exit non-zero), and a skipped store must be printed.

interface Rec {
  kind: 'read' | 'write';
  id: string;
  t0: number;
  t1?: number;
  ok?: boolean;
  code?: string;
  outcome?: string;
}
interface FakeLane {
  name: string;
  via: string;
  records: Rec[];
  acked: Set<string>;
  skipped: number;
}
interface Figures {
  duplicated: number;
  lostAcknowledged: number;
  failedReadsOutsideFaults: number;
  pastDeadline: number;
  stillWaiting: number;
  reads: { ok: number; failed: number };
  writes: { ok: number; failed: number; unknown: number; unknownLanded: number; failedLanded: number };
}
interface SummaryModule {
  laneFigures(
    lane: FakeLane,
    serverIds: string[],
    faults: { name: string; startedAt: number; healedAt: number }[],
    endedAt: number,
    deadlineMs: number | undefined,
    slackMs?: number,
  ): Figures;
  brokenPromises(store: object): string[];
  formatSummary(stores: object[]): string[];
  whyTheyDiffer(store: object): string;
  RECOVERY_GRACE_MS: number;
}
// A plain-JS module of the demo, loaded by path so the type check does not need declarations for it.
const modulePath = '../summary.js';
const m = (await import(modulePath)) as SummaryModule;

function lane(records: Rec[]): FakeLane {
  return {
    name: 'x-reconnect',
    via: 'reconnect',
    records,
    acked: new Set(records.filter((r) => r.kind === 'write' && r.ok).map((r) => r.id)),
    skipped: 0,
  };
}
const ok = (kind: 'read' | 'write', id: string, t0: number, t1 = t0 + 5): Rec => ({
  kind,
  id,
  t0,
  t1,
  ok: true,
});
const fault = { name: 'crash', startedAt: 1000, healedAt: 2000 };

function store(figures: Figures): object {
  return { title: 'Store', deadlineMs: 3000, slackMs: 250, faults: [fault], figures: { reconnect: figures } };
}

describe('the demo summary', () => {
  const good = [ok('read', 'r1', 0), ok('write', 'w1', 10), ok('write', 'w2', 20)];

  it('a clean run keeps every promise', () => {
    const f = m.laneFigures(lane(good), ['w1', 'w2'], [fault], 5000, 3000);
    expect(f).toMatchObject({
      duplicated: 0,
      lostAcknowledged: 0,
      failedReadsOutsideFaults: 0,
      pastDeadline: 0,
    });
    expect(m.brokenPromises(store(f))).toEqual([]);
  });

  it('a write held twice on the server is a duplicate', () => {
    const f = m.laneFigures(lane(good), ['w1', 'w2', 'w2'], [fault], 5000, 3000);
    expect(f.duplicated).toBe(1);
    expect(m.brokenPromises(store(f))).toEqual([
      'Store: 1 write(s) ran twice on the server through Reconnect',
    ]);
  });

  it('an acknowledged write missing on the server is lost', () => {
    const f = m.laneFigures(lane(good), ['w1'], [fault], 5000, 3000);
    expect(f.lostAcknowledged).toBe(1);
    expect(m.brokenPromises(store(f))[0]).toContain('1 acknowledged write(s) are missing on the server');
  });

  it('a failed read counts against Reconnect only outside the fault windows (and the recovery grace)', () => {
    const inside: Rec = {
      kind: 'read',
      id: 'r2',
      t0: 1500,
      t1: 1600,
      ok: false,
      code: 'ERR_DEADLINE_EXCEEDED',
    };
    const grace: Rec = {
      ...inside,
      id: 'r3',
      t0: 2000 + m.RECOVERY_GRACE_MS - 10,
      t1: 2000 + m.RECOVERY_GRACE_MS + 5,
    };
    const outside: Rec = { ...inside, id: 'r4', t0: 4500, t1: 4600 };
    expect(
      m.laneFigures(lane([...good, inside, grace]), ['w1', 'w2'], [fault], 5000, 3000)
        .failedReadsOutsideFaults,
    ).toBe(0);
    const f = m.laneFigures(lane([...good, inside, outside]), ['w1', 'w2'], [fault], 5000, 3000);
    expect(f.failedReadsOutsideFaults).toBe(1);
    expect(m.brokenPromises(store(f))[0]).toContain('1 idempotent read(s) failed outside the fault windows');
  });

  it('an operation longer than its deadline plus the slack breaks the deadline promise; one still waiting too', () => {
    const slow = ok('read', 'r5', 100, 100 + 3000 + 300);
    const waiting: Rec = { kind: 'read', id: 'r6', t0: 200 };
    const f = m.laneFigures(lane([...good, slow, waiting]), ['w1', 'w2'], [fault], 5000, 3000, 250);
    expect(f.pastDeadline).toBe(2);
    expect(f.stillWaiting).toBe(1);
    const broken = m.brokenPromises(store(f));
    expect(broken).toContain('Store: 2 operation(s) took longer than the 3000 ms deadline (+250 ms)');
    expect(broken).toContain('Store: 1 operation(s) through Reconnect never settled');
  });

  it('an unknown-outcome write that ran is not lost, not duplicated, and is counted as landed', () => {
    const unknown: Rec = {
      kind: 'write',
      id: 'w3',
      t0: 1100,
      t1: 2100,
      ok: false,
      code: 'ERR_OUTCOME_UNKNOWN',
      outcome: 'unknown',
    };
    const f = m.laneFigures(lane([...good, unknown]), ['w1', 'w2', 'w3'], [fault], 5000, 3000);
    expect(f.writes).toMatchObject({ ok: 2, failed: 1, unknown: 1, unknownLanded: 1, failedLanded: 1 });
    expect(m.brokenPromises(store(f))).toEqual([]);
  });

  it('prints a skipped store, with its reason', () => {
    const lines = m.formatSummary([{ title: 'Elasticsearch', skipped: 'driver not available yet (x)' }]);
    expect(lines).toContain('Elasticsearch: SKIPPED — driver not available yet (x)');
  });

  describe('why the two columns differ: one sentence from the figures', () => {
    const figs = (o: {
      failed?: number;
      errors?: Record<string, number>;
      duplicated?: number;
      unknown?: number;
      longestMs?: number;
    }) => ({
      reads: { ok: 500, failed: o.failed ?? 0 },
      writes: { ok: 250, failed: 0, unknown: o.unknown ?? 0 },
      duplicated: o.duplicated ?? 0,
      longestMs: o.longestMs ?? 20,
      errors: o.errors ?? {},
    });
    const base = {
      title: 'MariaDB',
      rawName: 'raw mysql2 pool (defaults)',
      deadlineMs: 3000,
      faults: [{ name: 'MariaDB hang (SIGSTOP)', short: 'hang' }],
      faultFigures: {
        reconnect: [{ detectedMs: 336, recoveredMs: 31 }],
        raw: [{ detectedMs: null, recoveredMs: 2 }],
      },
    };

    it('more failures through Reconnect, all at the deadline: by design, while the raw client kept callers waiting', () => {
      const why = m.whyTheyDiffer({
        ...base,
        figures: {
          reconnect: figs({ failed: 31, errors: { ERR_DEADLINE_EXCEEDED: 31 }, longestMs: 3010 }),
          raw: figs({ longestMs: 4998 }),
        },
      });
      expect(why).toBe(
        'Reconnect failed 31 operations where raw mysql2 pool failed 0: each gave up at its 3 s deadline while the fault held the server — by design, so a caller has an answer within 3 s, while raw mysql2 pool kept its callers waiting up to 5.00 s.',
      );
    });

    it('more failures and duplicates through the raw client: what Reconnect retried, and what it never resends', () => {
      const why = m.whyTheyDiffer({
        ...base,
        rawName: 'raw ES client (defaults)',
        deadlineMs: 4000,
        figures: {
          reconnect: figs({ unknown: 3 }),
          raw: figs({ failed: 9, duplicated: 3 }),
        },
      });
      expect(why).toBe(
        'raw ES client failed 9 operations where Reconnect failed 0: Reconnect retried, within its 4 s deadline, what was safe to retry; raw ES client applied 3 writes twice (it resent writes whose answers were lost), where Reconnect never resends a write that may have run; 3 writes ended outcome: unknown instead.',
      );
    });

    it('no failures either side: the difference is how fast each noticed and recovered', () => {
      const why = m.whyTheyDiffer({
        ...base,
        rawName: 'raw ioredis (defaults)',
        figures: { reconnect: figs({}), raw: figs({}) },
      });
      expect(why).toBe(
        'Neither failed an operation; they differ in speed: through the hang Reconnect noticed it after 336 ms and succeeded again 31 ms after the server was back, raw ioredis reported no error and needed 2 ms.',
      );
    });
  });
});
