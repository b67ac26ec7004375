import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { schemaText } from '../src/index.js';
import { run } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const example = path.join(root, 'examples', 'reconnect.config.yaml');
const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return file;
}

describe('reconnect --help', () => {
  it.each([
    [['--help']],
    [['validate', '--help']],
    [['explain', '--help']],
    [['schema', '--help']],
    [['help', 'explain']],
  ])('%j prints usage and exits 0', async (argv) => {
    const r = await run(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: reconnect/);
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    const r = await run(['validate', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--bogus');
  });
});

describe('reconnect validate', () => {
  it('prints every target with each value and where it came from', async () => {
    const r = await run(['validate', '--config', example], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ examples/reconnect.config.yaml is valid: 3 targets');
    expect(r.stdout).toContain('layers: default ← defaults ← preset:mysql ← policies.patient');
    expect(r.stdout).toMatch(/query\s+PING\s+← preset:redis/);
    expect(r.stdout).toMatch(/attemptTimeout\s+2s\s+← defaults/);
    expect(r.stdout).toMatch(/maxRetries\s+5\s+← policies\.patient/);
    expect(r.stdout).toMatch(/deadTimeoutMax\s+30m\s+← target/);
    expect(r.stdout).toMatch(/jitter\s+10%\s+← default$/m);
  });

  it('finds the file in the working directory when --config is not given', async () => {
    const dir = mkdtempSync(path.join(tmp, 'cwd-'));
    writeFileSync(
      path.join(dir, 'reconnect.config.yaml'),
      'version: 1\ntargets: { cache: { driver: redis } }\n',
    );
    const r = await run(['validate'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reconnect.config.yaml is valid: 1 target');
  });

  it('--json gives the resolved policies and provenance', async () => {
    const r = await run(['validate', '--config', example, '--json'], { cwd: root });
    const doc = JSON.parse(r.stdout);
    expect(doc.valid).toBe(true);
    expect(doc.targets.cache.policy.reconnect.maxRetries).toBe(5);
    expect(doc.targets.search.policy.reconnect.maxRetries).toBe(15);
    expect(doc.targets.main_db.provenance['healthCheck.query']).toBe('preset:mysql');
  });

  it('exits 1 listing every problem with file, path and expectation', async () => {
    const file = write(
      'bad.yaml',
      'version: 1\ntargets:\n  cache: { driver: redis, policy: { healthCheck: { intervall: 5s } } }\n  db: { driver: mysql, policy: preset:mysq }\n',
    );
    const r = await run(['validate', '--config', file], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✗ bad.yaml is invalid: 2 problems');
    expect(r.stderr).toContain(
      'bad.yaml: targets.cache.policy.healthCheck.intervall: Unknown key "intervall" — did you mean "interval"?',
    );
    expect(r.stderr).toContain(
      'bad.yaml: targets.db.policy: Unknown preset "mysq" — did you mean "preset:mysql"?',
    );
    const json = JSON.parse((await run(['validate', '--config', file, '--json'], { cwd: tmp })).stdout);
    expect(json.valid).toBe(false);
    expect(json.issues).toHaveLength(2);
  });
});

describe('reconnect explain', () => {
  it('shows the retry schedule with ranges, worst case, bars and what ends it', async () => {
    const r = await run(['explain', 'cache', '--config', example], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+2\s+0ms – 100ms\s+2\.1s\s+░+$/m);
    expect(r.stdout).toMatch(/^\s+4\s+0ms – 400ms\s+6\.7s\s+░{30}$/m);
    expect(r.stdout).toContain('max retries: 3 retries, so at most 4 attempts');
    expect(r.stdout).toContain('deadline: 10s (retry.deadline) — not reached');
    expect(r.stdout).toContain(
      'budget: retries may be at most 10% of requests over 10s, plus 10/s earned by successes',
    );
    // Reconnects spread by full jitter within the seed's envelope (1s, 2s, 4s…): the wait is a range.
    expect(r.stdout).toMatch(/^\s+1\s+0ms – 1s\s+1s\s+░+$/m);
    expect(r.stdout).toContain('max retries: 5 attempts (reconnect.maxRetries)');
  });

  it('says whether reads are hedged, and how', async () => {
    const off = await run(['explain', 'cache', '--config', example], { cwd: root });
    expect(off.stdout).toContain('hedged reads: off (retry.hedge.enabled)');
    const file = write(
      'hedge.yaml',
      'version: 1\ntargets:\n  search:\n    driver: elasticsearch\n    options: { nodes: ["http://127.0.0.1:9200", "http://127.0.0.1:9201"] }\n    policy: { extends: preset:elasticsearch, retry: { hedge: { enabled: true, maxExtraLoad: 2% } } }\n',
    );
    const on = await run(['explain', 'search', '--config', file], { cwd: tmp });
    expect(on.stderr).toBe('');
    expect(on.stdout).toContain(
      'hedged reads: a readOnly, idempotent read not answered after the p95 of recent reads is also sent to another live node (at most 2 attempts at once, at most 2% extra reads)',
    );
    const bad = write(
      'bad-hedge.yaml',
      'version: 1\ntargets:\n  c: { driver: redis, policy: { retry: { hedge: { delay: p96 } } } }\n',
    );
    const invalid = await run(['validate', '--config', bad], { cwd: tmp });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('targets.c.policy.retry.hedge.delay');
  });

  it('marks attempts the deadline cuts off', async () => {
    const r = await run(['explain', 'search', '--config', example], { cwd: root });
    // Attempt 2 starts by 30s + 2s and would run to 1m 2s: the 1m deadline cuts it; attempt 3 never starts.
    expect(r.stdout).toMatch(/^\s+2\s+1s – 2s\s+32s\s+█+░+\s+✂ cut short by the deadline at 1m$/m);
    expect(r.stdout).toMatch(/^\s+3\s+2s – 4s\s+1m 6s\s+█+░+\s+✗ past the deadline: never starts$/m);
    expect(r.stdout).toContain(
      'in the worst case it cuts attempt 2 short at 1m and ends the retrying before attempt 3',
    );
  });

  // Explain prints ranges, so it is deterministic: no random source is involved at all.
  it.each([
    ['mysql', ['0ms – 1s', '0ms – 2s', '0ms – 4s'], '0ms – 100ms'],
    ['redis', ['0ms – 1s', '0ms – 2s', '0ms – 4s'], '0ms – 100ms'],
    ['elasticsearch', ['0ms – 1s', '0ms – 2s', '0ms – 4s'], '1s – 2s'],
    ['fast-failover', ['0ms – 50ms', '0ms – 100ms', '0ms – 200ms'], '25ms – 50ms'],
    ['conservative', ['0ms – 1s', '0ms – 2s', '0ms – 4s'], '0ms – 500ms'],
    ['no-retry', ['0ms – 500ms', '0ms – 1s', '0ms – 2s'], undefined],
  ])('preset:%s prints the expected first delays', async (name, reconnectDelays, firstRetry) => {
    const r = await run(['explain', `preset:${name}`, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const fmt = (d: { min: number; max: number }): string => {
      const f = (ms: number): string => (ms < 1000 ? `${ms}ms` : `${ms / 1000}s`);
      return d.min === d.max ? f(d.max) : `${f(d.min)} – ${f(d.max)}`;
    };
    expect(
      doc.reconnect.rows.slice(0, 3).map((row: { delay: { min: number; max: number } }) => fmt(row.delay)),
    ).toEqual(reconnectDelays);
    if (firstRetry === undefined) expect(doc.retry.rows).toHaveLength(1);
    else expect(fmt(doc.retry.rows[1].delay)).toBe(firstRetry);
    const text = (await run(['explain', `preset:${name}`])).stdout;
    expect(text).toContain(`   1  ${reconnectDelays[0]}`);
  });

  it('names the known targets when the one asked for does not exist', async () => {
    const r = await run(['explain', 'cahce', '--config', example], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets: cache, main_db, search');
  });
});

describe('reconnect schema', () => {
  it('prints a JSON Schema that knows the policy keys', async () => {
    const r = await run(['schema']);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toContain('json-schema.org');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['version', 'defaults', 'policies', 'targets']),
    );
  });

  it('lets numbers and booleans be written as one ${VAR} reference', async () => {
    const schema = JSON.parse((await run(['schema'])).stdout) as {
      properties: { defaults: { properties: { retry: { properties: Record<string, unknown> } } } };
    };
    const retry = schema.properties.defaults.properties.retry.properties;
    for (const key of ['maxRetries']) {
      const field = retry[key] as { anyOf?: { type?: string; pattern?: string }[] };
      const ref = field.anyOf?.find((s) => s.type === 'string');
      expect(ref?.pattern, key).toBeDefined();
      expect(new RegExp(ref?.pattern ?? '^$').test('${N:-3}')).toBe(true);
      expect(field.anyOf?.some((s) => s.type === 'integer')).toBe(true);
    }
  });

  it('--check passes on the shipped files and fails on a stale one', async () => {
    // The repository's copy and the one @reconnect/cli ships (its "./schema.json" export).
    const shipped = ['reconnect.schema.json', 'packages/cli/reconnect.schema.json'];
    const fresh = await run(['schema', ...shipped.flatMap((f) => ['--check', f])], { cwd: root });
    expect(fresh.stderr).toBe('');
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('✓ packages/cli/reconnect.schema.json is up to date');
    const stale = write('stale.json', '{}\n');
    const r = await run(['schema', '--check', shipped[0]!, '--check', stale], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`✗ ${stale} is out of date`);
  });

  it('--write without a file name writes reconnect.schema.json in the working directory', async () => {
    const dir = mkdtempSync(path.join(tmp, 'write-'));
    const r = await run(['schema', '--write'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, 'reconnect.schema.json'), 'utf8')).toBe(schemaText());
    const named = await run(['schema', '--write', 'editor.json'], { cwd: dir });
    expect(named.code).toBe(0);
    expect(readFileSync(path.join(dir, 'editor.json'), 'utf8')).toBe(schemaText());
  });
});

describe('the built binary', () => {
  const exec = promisify(execFile);
  const bin = path.join(root, 'packages', 'cli', 'bin', 'reconnect.js');

  it('runs validate and explain as a subprocess', async () => {
    const v = await exec(process.execPath, [bin, 'validate', '--config', example], { cwd: root });
    expect(v.stdout).toContain('is valid: 3 targets');
    const e = await exec(process.execPath, [bin, 'explain', 'cache', '--config', example], { cwd: root });
    expect(e.stdout).toContain('Reconnect schedule after a lost connection');
  });

  it('exits 1 on an invalid file', async () => {
    const file = write(
      'bad2.yaml',
      'version: 1\ntargets: { a: { driver: redis, policy: { retry: { maxRetries: -1 } } } }\n',
    );
    const failed = await exec(process.execPath, [bin, 'validate', '--config', file]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('targets.a.policy.retry.maxRetries');
  });
});

describe('reconnect validate: driver options', () => {
  const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

  it("checks each target's options with its driver's schema, never echoing a secret", async () => {
    const file = path.join(fixtures, 'driver-options.yaml');
    const r = await run(['validate', '--config', file], { env: { PW: 'pw-Qz7' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets.app.options.url: Wrong type: got a number (expected a string)');
    expect(r.stderr).toContain(
      'targets.app.options.passwrod: Unknown key "passwrod" — did you mean "password"?',
    );
    expect(r.stderr).not.toContain('pw-Qz7');
    expect(
      (await run(['validate', '--config', file, '--skip-drivers'], { env: { PW: 'pw-Qz7' } })).code,
    ).toBe(0);
  });

  it('fails, located at targets.NAME.driver, when a driver cannot be found (no install advice)', async () => {
    const file = write(
      'missing-driver.yaml',
      'version: 1\ntargets: { a: { driver: reconnect-no-such-driver } }\n',
    );
    const r = await run(['validate', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets.a.driver: Unknown driver "reconnect-no-such-driver"');
    expect(r.stderr).not.toContain('npm install');
  });
});

describe('reconnect explain: failure detection', () => {
  it('says how fast a dead server is noticed', async () => {
    const r = await run(['explain', 'preset:fast-failover']);
    expect(r.stdout).toContain('declared down after 2 failed checks: within 630ms at worst');
    expect(r.stdout).toContain('sits out 1s, doubling per failure up to 30s');
  });
});

describe('reconnect explain: long schedules', () => {
  it('names the attempt the deadline cuts off even beyond the listed rows', async () => {
    const file = write(
      'long.yaml',
      'version: 1\ntargets: { a: { driver: redis, policy: { retry: { maxRetries: 50, backoff: { type: fixed, base: 1s, max: 1s, jitter: none }, attemptTimeout: 1s, deadline: 40s } } } }\n',
    );
    const r = await run(['explain', 'a', '--config', file, '--rows', '5']);
    expect(r.stdout).toContain('… 46 more');
    // Attempt k starts by (k−1)·(1s + 1s): 40s is reached at attempt 21.
    expect(r.stdout).toContain('it ends the retrying before attempt 21');
  });
});

describe('0 means no limit for retry.attemptTimeout and retry.deadline', () => {
  const policy = (retry: string): string =>
    `version: 1\ntargets: { a: { driver: redis, policy: { retry: { maxRetries: 2, backoff: { type: fixed, base: 100ms, max: 100ms, jitter: none }, ${retry} } } } }\n`;

  it('validate accepts deadline: 0 next to an attempt timeout, and attemptTimeout: 0 next to a deadline', async () => {
    for (const retry of ['attemptTimeout: 2s, deadline: 0', 'attemptTimeout: 0, deadline: 1s']) {
      const r = await run(['validate', '--config', write(`zero-${retry.length}.yaml`, policy(retry))]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('explain says "no deadline" and never marks an attempt past it', async () => {
    const r = await run([
      'explain',
      'a',
      '--config',
      write('no-deadline.yaml', policy('attemptTimeout: 2s, deadline: 0')),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('attempt timeout 2s, no deadline');
    expect(r.stdout).toContain('no deadline (retry.deadline: 0)');
    expect(r.stdout).not.toContain('past the deadline');
    expect(r.stdout).not.toContain('deadline: 0ms');
    // Attempt 3 starts by 2·(2s + 100ms) at worst; the last attempt ends 2s later.
    expect(r.stdout).toMatch(/^\s+3\s+100ms\s+4\.2s\s+█+$/m);
    expect(r.stdout).toContain('the last attempt ends by 6.2s at worst');
  });

  it('explain says "no attempt timeout" and counts the worst case as unbounded', async () => {
    const file = write('no-timeout.yaml', policy('attemptTimeout: 0, deadline: 0'));
    const r = await run(['explain', 'a', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no attempt timeout, no deadline');
    expect(r.stdout).toContain('no attempt timeout (retry.attemptTimeout: 0)');
    expect(r.stdout).toContain('the worst case is unbounded (∞)');
    expect(r.stdout).toMatch(/^\s+2\s+100ms\s+∞\s+█+$/m);
    expect(r.stdout).not.toContain('abandoned after 0ms');
    expect(r.stdout).not.toMatch(/ends by \d/);
    expect(r.stdout).not.toContain('past the deadline');
    const json = JSON.parse((await run(['explain', 'a', '--config', file, '--json'])).stdout) as {
      retry: { rows: { worstStart: unknown }[]; worstEnd: unknown };
    };
    expect(json.retry.rows.map((x) => x.worstStart)).toEqual([0, 'unbounded', 'unbounded']);
    expect(json.retry.worstEnd).toBe('unbounded');
  });

  it('explain: with no attempt timeout a deadline still ends a hung attempt', async () => {
    const r = await run([
      'explain',
      'a',
      '--config',
      write('deadline-only.yaml', policy('attemptTimeout: 0, deadline: 1s')),
    ]);
    expect(r.stdout).toContain('no attempt timeout, deadline 1s');
    expect(r.stdout).toContain(
      'it is what abandons a hung attempt; in the worst case it cuts attempt 1 short at 1s and ends the retrying before attempt 2',
    );
    expect(r.stdout).toMatch(/^\s+1\s+at once\s+0ms\s+✂ cut short by the deadline at 1s$/m);
  });
});
