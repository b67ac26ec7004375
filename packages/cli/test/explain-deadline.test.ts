import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createFakeClock,
  formatDuration,
  isDeadlineExceededError,
  isRetriesExhaustedError,
  loadConfig,
  presetNames,
  RetryExecutor,
  type ResolvedPolicy,
} from '@reconnect/core';
import { run } from './helpers.js';

// `explain`'s deadline verdict against the engine itself: every policy of the table is run through a real
// RetryExecutor on a fake clock, with an operation that hangs (so every attempt lasts as long as the engine
// lets it), every wait at its maximum (random → 1) and every failure retryable: the worst case explain
// describes. What explain marks and says must be what the engine did.

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-explain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Retry = ResolvedPolicy['retry'];

interface EngineRun {
  /** Each attempt's start and the time the engine gave it (Infinity: none). */
  attempts: { start: number; limit: number }[];
  /** When the operation gave up, and with what; undefined when it had not after `horizonMs`. */
  end?: { at: number; error: unknown };
}

/** Runs one hanging, idempotent operation through the engine under `retry` until it gives up. */
async function engineWorstCase(retry: Retry, horizonMs: number): Promise<EngineRun> {
  const clock = createFakeClock();
  const attempts: EngineRun['attempts'] = [];
  const executor = new RetryExecutor<string>({
    target: 't',
    system: 'test',
    // Every failure retryable and no budget: explain lists those limits apart from the schedule.
    policy: {
      ...retry,
      retryOn: { ...retry.retryOn, errors: [...retry.retryOn.errors, 'timeout'] },
      budget: { ...retry.budget, enabled: false },
    },
    classify: () => ({ kind: 'timeout' }),
    source: { acquire: () => ({ client: 'c' }), report: () => {} },
    clock,
    random: () => 1,
  });
  const result: EngineRun = { attempts };
  void executor
    .execute(
      (_client, ctx) => {
        attempts.push({ start: clock.now(), limit: ctx.timeoutMs });
        return new Promise<never>(() => {});
      },
      { idempotent: true },
    )
    .catch((error: unknown) => {
      result.end = { at: clock.now(), error };
    });
  const step = 60_000; // advanceAsync fires the timers within a step in order
  for (let t = 0; t < horizonMs && result.end === undefined; t += step) await clock.advanceAsync(step);
  return result;
}

interface Row {
  attempt: number;
  mark: 'cut' | 'past' | 'none';
}

/** The retry table's rows and the deadline sentence, from explain's text. */
function parseText(text: string): { rows: Row[]; deadline: string } {
  const section = text.slice(text.indexOf('Retry schedule'), text.indexOf('Reconnect schedule'));
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const m = /^\s+(\d+)\s{2}/.exec(line);
    if (m === null) continue;
    const mark = line.includes('✂ cut short by the deadline')
      ? 'cut'
      : line.includes('✗ past the deadline')
        ? 'past'
        : 'none';
    rows.push({ attempt: Number(m[1]), mark });
  }
  const deadline = section.split('\n').find((l) => /• (no )?deadline/.test(l)) ?? '';
  return { rows, deadline };
}

const retryVariants: { name: string; retry: string }[] = [
  { name: 'as preset', retry: '' },
  { name: 'no attempt timeout, 1s deadline', retry: 'attemptTimeout: 0, deadline: 1s' },
  // preset:redis (2s attempts, 100ms exponential, full jitter): attempt 5 starts by 9.5s, attempt 4 ends by 8.7s.
  { name: 'deadline at a start', retry: 'attemptTimeout: 2s, deadline: 9500ms' },
  { name: 'deadline at an end', retry: 'attemptTimeout: 2s, deadline: 8700ms' },
  { name: 'deadline just after an end', retry: 'attemptTimeout: 2s, deadline: 11501ms' },
  { name: 'no deadline', retry: 'attemptTimeout: 500ms, deadline: 0' },
  { name: 'neither', retry: 'attemptTimeout: 0, deadline: 0' },
];
const maxRetries = [0, 1, 3, 4, 5, 8];

interface Case {
  target: string;
  label: string;
  file: string;
}
// One small file per case: explain loads (and resolves) the whole file each time.
const cases: Case[] = [];
for (const preset of presetNames)
  for (const [v, variant] of retryVariants.entries())
    for (const n of maxRetries) {
      const target = `${preset.replace(/-/g, '_')}_${v}_${n}`;
      const retry = `maxRetries: ${n}${variant.retry === '' ? '' : `, ${variant.retry}`}`;
      const file = path.join(tmp, `${target}.yaml`);
      writeFileSync(
        file,
        `version: 1\ntargets:\n  ${target}: { driver: redis, policy: { extends: 'preset:${preset}', retry: { ${retry} } } }\n`,
      );
      cases.push({ target, file, label: `preset:${preset}, maxRetries ${n}, ${variant.name}` });
    }

describe('reconnect explain: the deadline verdict is what the engine does', () => {
  it('the table covers preset:redis with maxRetries 4 and 5 (issue #22)', () => {
    expect(cases.map((c) => c.label)).toEqual(
      expect.arrayContaining([
        'preset:redis, maxRetries 4, as preset',
        'preset:redis, maxRetries 5, as preset',
      ]),
    );
  });

  it.each(cases)('$label', async ({ target, file }) => {
    const loaded = await loadConfig({ config: file, env: {} });
    const retry = (loaded.targets[target] as { policy: ResolvedPolicy }).policy.retry;
    const text = await run(['explain', target, '--config', file, '--rows', '20']);
    expect(text.code).toBe(0);
    const { rows, deadline } = parseText(text.stdout);
    expect(rows.map((r) => r.attempt)).toEqual(Array.from({ length: retry.maxRetries + 1 }, (_, i) => i + 1));
    const json = JSON.parse(
      (await run(['explain', target, '--config', file, '--rows', '20', '--json'])).stdout,
    ) as { retry: { rows: { attempt: number; worstStart: number | string }[] } };

    const horizon = 2 * 3600_000; // past every finite worst case of the table
    const engine = await engineWorstCase(retry, horizon);
    const attemptTimeout = retry.attemptTimeout === 0 ? Number.POSITIVE_INFINITY : retry.attemptTimeout;

    // Each row: started (at its worst-case start), cut short, or never started, as marked.
    for (const row of rows) {
      const ran = engine.attempts[row.attempt - 1];
      if (ran === undefined && engine.end === undefined) {
        // Still waiting on a hung attempt (no timeout, no deadline): explain says unbounded, marks nothing.
        expect(json.retry.rows[row.attempt - 1]?.worstStart).toBe('unbounded');
        expect(row.mark).toBe('none');
        continue;
      }
      if (ran === undefined) {
        expect(row.mark, `attempt ${row.attempt} never started`).toBe('past');
        continue;
      }
      const cut = ran.limit < attemptTimeout;
      expect(row.mark, `attempt ${row.attempt}`).toBe(cut ? 'cut' : 'none');
      const worstStart = json.retry.rows[row.attempt - 1]?.worstStart;
      expect(typeof worstStart === 'number' ? worstStart : Number.NaN).toBeCloseTo(ran.start, 6);
    }
    expect(rows.filter((r) => r.mark === 'cut').length).toBeLessThanOrEqual(1);

    // The sentence, claim by claim.
    const d = formatDuration(retry.deadline);
    const end = engine.end;
    const cutShort = /cuts attempt (\d+) short at (\S+?)( \(the last attempt\))?( and|$)/.exec(deadline);
    const stops = /ends the retrying before attempt (\d+)/.exec(deadline);
    const notReached = /not reached: the last attempt ends by (\S+) at worst/.exec(deadline);
    if (retry.deadline === 0) {
      expect(deadline).toContain('no deadline (retry.deadline: 0)');
      expect(cutShort ?? stops ?? notReached).toBeNull();
      if (retry.attemptTimeout === 0) {
        expect(deadline).toContain('the worst case is unbounded (∞)');
        expect(end).toBeUndefined();
        expect(engine.attempts).toHaveLength(1);
      } else {
        expect(end).toBeDefined();
        expect(deadline).toContain(`the last attempt ends by ${formatDuration(end?.at ?? -1)} at worst`);
        expect(isRetriesExhaustedError(end?.error)).toBe(true);
      }
      return;
    }
    expect(end, 'a deadline always ends the operation').toBeDefined();
    const lastRan = engine.attempts.length;
    expect(end?.at ?? Infinity).toBeLessThanOrEqual(retry.deadline);
    if (cutShort !== null) {
      expect(Number(cutShort[1])).toBe(lastRan);
      expect(cutShort[2]).toBe(d);
      expect(end?.at).toBe(retry.deadline);
      expect(cutShort[3] !== undefined).toBe(lastRan === retry.maxRetries + 1);
    } else {
      expect(engine.attempts.every((a) => a.limit === attemptTimeout)).toBe(true);
    }
    if (stops !== null) {
      expect(Number(stops[1])).toBe(lastRan + 1);
      expect(isDeadlineExceededError(end?.error)).toBe(true);
    } else {
      expect(lastRan).toBe(retry.maxRetries + 1);
    }
    if (notReached !== null) {
      expect(cutShort ?? stops).toBeNull();
      expect(notReached[1]).toBe(formatDuration(end?.at ?? -1));
      expect(isRetriesExhaustedError(end?.error)).toBe(true);
    }
    // Exactly one of the three verdicts, and it names the deadline.
    expect([cutShort, stops, notReached].some((m) => m !== null)).toBe(true);
    expect(deadline).toContain(`deadline: ${d} (retry.deadline)`);
  });
});
