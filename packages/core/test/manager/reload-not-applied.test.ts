// A reload whose new client does not connect (issue #22): the event names the target, what was not applied and why
// (not `unchanged` with an empty summary), and the candidate's log lines say they are a candidate's, so nothing
// reads as if the live target had died.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createManager, type Manager, type ReloadResult } from '../../src/index.js';
import { createMemoryDriver } from '../lifecycle/memory-driver.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-reload-not-applied-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const managers: Manager[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(managers.splice(0).map((m) => m.stopAll()));
});

// Quick to give up: the candidate's start() waits 300 ms for a connect.
const policy =
  '{ healthCheck: { enabled: false }, reconnect: { startTimeout: 300ms, connectTimeout: 100ms, backoff: { type: fixed, base: 50ms, max: 50ms, jitter: none } } }';
const target = (name: string, label: string, retries = 2): string =>
  `  ${name}:\n    driver: memory\n    options: { label: ${label} }\n    policy: { extends: ${name}_policy, retry: { maxRetries: ${retries} } }\n`;
const config = (...targets: string[]): string =>
  `version: 1\npolicies:\n  a_policy: ${policy}\n  b_policy: ${policy}\ntargets:\n${targets.join('')}`;

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

async function setup(text: string) {
  const dir = mkdtempSync(path.join(tmp, 'case-'));
  const file = path.join(dir, 'reconnect.config.yaml');
  writeFileSync(file, text);
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void =>
      void lines.push({ level, message, fields });
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const mem = createMemoryDriver();
  const m = await createManager({ config: file, drivers: { memory: mem.driver }, env: {}, logger });
  managers.push(m);
  const events: ReloadResult[] = [];
  m.on('reload', (e) => events.push(e));
  await m.startAll();
  return { m, file, lines, events, ...mem };
}

describe('a reload whose new client does not connect', () => {
  it('is not_applied, naming the target, what was not applied and why; the live target stays connected', async () => {
    const { m, file, lines, events, control } = await setup(config(target('a', 'one')));
    const live = m.target('a');
    control.connect = 'fail';
    writeFileSync(file, config(target('a', 'two')));
    const before = lines.length;
    const result = await m.reload();

    expect(events).toEqual([result]);
    expect(result.result).toBe('not_applied');
    expect(result.changes).toEqual([]);
    expect(result.notApplied).toHaveLength(1);
    const [n] = result.notApplied;
    expect(n).toMatchObject({
      target: 'a',
      changes: [expect.objectContaining({ target: 'a', path: 'options.label' })],
      reason: 'its new client did not connect: ECONNREFUSED: connect refused',
    });
    expect(result.summary).toEqual([
      'a: options.label "one" → "two" — not applied: its new client did not connect: ECONNREFUSED: connect refused; the target in force is unchanged',
    ]);
    expect(live.state).toBe('connected');
    expect(m.target('a').state).toBe('connected');

    const reloadLines = lines.slice(before);
    // The candidate's own lines say whose they are; none reads as the live target's.
    const candidate = reloadLines.filter((l) => l.fields['candidate'] === true);
    expect(candidate.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^a \(reload candidate\): connect attempt 1 failed/),
        'a (reload candidate): stopped',
      ]),
    );
    expect(candidate.every((l) => l.message.startsWith('a (reload candidate): '))).toBe(true);
    expect(
      reloadLines.filter((l) => /^a: (connect attempt|stopped|connection lost)/.test(l.message)),
    ).toEqual([]);
    // One warning names the target, the reason and what was not applied.
    expect(reloadLines.filter((l) => l.level === 'warn' && l.fields['candidate'] === undefined)).toEqual([
      {
        level: 'warn',
        message:
          'a: reload not applied, the target in force is unchanged — its new client did not connect: ECONNREFUSED: connect refused (a: options.label "one" → "two")',
        fields: expect.objectContaining({ target: 'a', reason: n?.reason }),
      },
    ]);
    expect(reloadLines.some((l) => l.message.startsWith('policy reloaded'))).toBe(false);
  });

  it('beside a change that applied: applied, with the other target under notApplied and in the summary', async () => {
    const { m, file, control, events } = await setup(config(target('a', 'one'), target('b', 'one')));
    control.connect = 'fail';
    writeFileSync(file, config(target('a', 'two'), target('b', 'one', 5)));
    const result = await m.reload();
    expect(events).toEqual([result]);
    expect(result.result).toBe('applied');
    expect(result.changes.map((c) => `${c.target}.${c.path}`)).toEqual(['b.retry.maxRetries']);
    expect(result.notApplied.map((n) => n.target)).toEqual(['a']);
    expect(result.summary).toEqual([
      'b: retry.maxRetries 2 → 5',
      expect.stringMatching(
        /^a: options\.label "one" → "two" — not applied: its new client did not connect: /,
      ),
    ]);
    expect(m.target('b').policy.retry.maxRetries).toBe(5);
  });

  it('a candidate put in force logs as the target itself from then on', async () => {
    const { m, file, lines } = await setup(config(target('a', 'one')));
    writeFileSync(file, config(target('a', 'two')));
    expect((await m.reload()).result).toBe('applied');
    const before = lines.length;
    await m.stopAll();
    const after = lines.slice(before).map((l) => l.message);
    expect(after).toContain('a: stopped');
    expect(after.some((l) => l.includes('reload candidate'))).toBe(false);
  });

  it('with console as the logger, the candidate line is one readable line that says so', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const dir = mkdtempSync(path.join(tmp, 'console-'));
    const file = path.join(dir, 'reconnect.config.yaml');
    writeFileSync(file, config(target('a', 'one')));
    const mem = createMemoryDriver();
    const m = await createManager({
      config: file,
      drivers: { memory: mem.driver },
      env: {},
      logger: console,
    });
    managers.push(m);
    await m.startAll();
    mem.control.connect = 'fail';
    writeFileSync(file, config(target('a', 'two')));
    await m.reload();
    const said = warn.mock.calls.map((c) => String(c[0]));
    expect(said).toContainEqual(
      expect.stringMatching(
        /^\[reconnect\] a \(reload candidate\): connect attempt 1 failed; next in 50 ms \(ECONNREFUSED: connect refused\)$/,
      ),
    );
    expect(said).toContainEqual(
      expect.stringMatching(/^\[reconnect\] a: reload not applied, the target in force/),
    );
    expect(said.filter((l) => l.startsWith('[reconnect] a: connect attempt'))).toEqual([]);
  });
});
