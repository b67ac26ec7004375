import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createManager, describeChange, type Driver, type ReloadResult } from '@reconnect/core';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

const before = `version: 1
targets:
  cache:
    driver: redis
    options: { url: "redis://:hunter2@127.0.0.1:6379" }
    policy: { extends: preset:redis, healthCheck: { interval: 10s } }
  db:
    driver: mysql
`;
const after = `version: 1
targets:
  cache:
    driver: redis
    options: { url: "redis://:s3cret-too@127.0.0.1:6380" }
    policy: { extends: preset:redis, healthCheck: { interval: 200ms, timeout: 100ms } }
  search:
    driver: elasticsearch
`;

describe('reconnect diff OLD NEW', () => {
  it('prints each change in words, with how a live target takes it, secrets redacted; exit 1 when something changes', async () => {
    const r = await run(['diff', file('old.yaml', before), file('new.yaml', after)], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^A reload of new\.yaml over old\.yaml would change 5 things:\n/);
    const lines = r.stdout
      .split('\n')
      .slice(1, -1)
      .map((l) => l.trim().replace(/\s{2,}/g, ' | '));
    expect(lines).toEqual([
      'cache: options.url "redis://:***@127.0.0.1:6379" → "redis://:***@127.0.0.1:6380" | the target is replaced: new client first, then the old one closes',
      'cache: healthCheck.interval 10s → 200ms | from the next probe',
      'cache: healthCheck.timeout 2s → 100ms | from the next probe',
      'search: added (started)',
      'db: removed (stopped after its in-flight operations)',
    ]);
    expect(r.stdout + r.stderr).not.toMatch(/hunter2|s3cret-too/);
  });

  it('says nothing would change (exit 0) for two files that resolve the same', async () => {
    const r = await run(['diff', file('a.yaml', before), file('b.yaml', `${before}\n# a comment\n`)], {
      cwd: dir,
    });
    expect(r).toMatchObject({ code: 0, stdout: 'A reload of b.yaml over a.yaml would change nothing.\n' });
  });

  it('an invalid NEW: a reload would refuse it; the located issue is printed (exit 1)', async () => {
    const broken = file('broken.yaml', before.replace('interval: 10s', 'intervall: 10s'));
    const r = await run(['diff', file('ok.yaml', before), broken], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a reload would refuse it and keep the policy in force');
    expect(r.stderr).toContain('broken.yaml: targets.cache.policy.healthCheck.intervall');
    expect(r.stdout).toBe('');
  });

  it('--json lists the changes with their paths, words and effects', async () => {
    const r = await run(['diff', '--json', file('j1.yaml', before), file('j2.yaml', after)], { cwd: dir });
    const doc = JSON.parse(r.stdout) as { changes: { at: string; text: string; area: string }[] };
    expect(doc.changes.map((c) => c.at)).toEqual([
      'cache.options.url',
      'cache.healthCheck.interval',
      'cache.healthCheck.timeout',
      'search',
      'db',
    ]);
    expect(doc.changes[0]).toMatchObject({ area: 'connection', kind: 'changed' });
  });

  it('usage errors exit 2', async () => {
    expect((await run(['diff', 'only-one.yaml'], { cwd: dir })).code).toBe(2);
  });

  it("uses the same words as a running manager's reload event", async () => {
    // A driver that connects to nothing: only the reload's diff is compared here.
    const driver = {
      name: 'noop',
      system: 'noop',
      // Any options do: a schema that accepts everything (the CLI has no zod of its own).
      options: {
        safeParse: (value: unknown) => ({ success: true, data: value }),
      } as unknown as Driver['options'],
      connect: () => Promise.resolve({}),
      probe: () => Promise.resolve(),
      close: () => Promise.resolve(),
      classify: () => ({ kind: 'unknown' as const }),
    };
    const text = (n: number, retries: number) =>
      `version: 1\ntargets:\n  t:\n    driver: noop\n    options: { n: ${n} }\n    policy: { retry: { maxRetries: ${retries} } }\n`;
    const live = file('live.yaml', text(1, 3));
    const m = await createManager({ config: live, drivers: { noop: driver }, env: {} });
    const events: ReloadResult[] = [];
    m.on('reload', (e) => events.push(e));
    const oldCopy = file('live-old.yaml', text(1, 3));
    writeFileSync(live, text(2, 5));
    await m.reload();
    await m.stopAll();
    const r = await run(['diff', oldCopy, live], { cwd: dir });
    const printed = r.stdout
      .split('\n')
      .slice(1, -1)
      .map((l) => l.trim().split(/\s{2,}/)[0]);
    expect(events[0]!.summary).toEqual(printed);
    expect(events[0]!.changes.map(describeChange)).toEqual(printed);
  });
});

describe('reconnect validate --diff OLD NEW', () => {
  it('is reconnect diff OLD NEW', async () => {
    const a = file('v1.yaml', before);
    const b = file('v2.yaml', after);
    const viaValidate = await run(['validate', '--diff', a, b], { cwd: dir });
    const viaDiff = await run(['diff', a, b], { cwd: dir });
    expect(viaValidate).toEqual(viaDiff);
    expect(viaValidate.stdout).toContain('cache: healthCheck.interval 10s → 200ms');
  });
});
