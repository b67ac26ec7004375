import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startElasticsearchCluster, startRedis, useServer } from '@reconnect/testkit';
import type { TargetCheck } from '../src/index.js';
import { run } from './helpers.js';

// `reconnect check` against throwaway servers: one connect and one probe per node, a table, and an exit
// code a deploy step can trust.

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PASSWORD = 'pw-Zq81x-check';

function config(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `version: 1\ntargets:\n${body}`);
  return file;
}

const fast = 'policy: { reconnect: { connectTimeout: 800ms }, healthCheck: { timeout: 400ms } }';

describe('reconnect check', () => {
  const redis = useServer(() => startRedis({ password: PASSWORD }));

  const files = () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis().port}`;
    return {
      up: config('up.yaml', `  cache: { driver: redis, ${fast}, options: { url: '${url}' } }\n`),
      mixed: config(
        'mixed.yaml',
        `  cache: { driver: redis, ${fast}, options: { url: '${url}' } }\n` +
          `  other: { driver: redis, ${fast}, options: { url: 'redis://127.0.0.1:1' } }\n` +
          `  extra: { driver: redis, required: false, ${fast}, options: { url: 'redis://127.0.0.1:1' } }\n` +
          `  wrongpw: { driver: redis, ${fast}, options: { url: 'redis://:not-the-pw-77@127.0.0.1:${redis().port}' } }\n`,
      ),
    };
  };

  it('prints one row per target with where it points (no secret), up, and its latency; exit 0', async () => {
    const r = await run(['check', '--config', files().up]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TARGET\s+DRIVER\s+WHERE\s+STATE\s+LATENCY\s+ERROR$/m);
    expect(r.stdout).toMatch(
      new RegExp(`^cache\\s+redis\\s+127\\.0\\.0\\.1:${redis().port}\\s+up\\s+\\d+ ms$`, 'm'),
    );
    expect(r.stdout).toContain('✓ 1 of 1 target up');
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('exits 1 when a required target is down, naming the error kind and code; an optional one does not count', async () => {
    const r = await run(['check', '--config', files().mixed]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^other\s+redis\s+127\.0\.0\.1:1\s+down\s+\d+ ms\s+connection ECONNREFUSED/m);
    expect(r.stdout).toMatch(/^wrongpw\s+redis\s+\S+\s+down\s+\d+ ms\s+auth WRONGPASS/m);
    expect(r.stdout).toContain('✗ required targets down: other, wrongpw (optional, down: extra)');
    expect(r.stdout + r.stderr).not.toContain('not-the-pw-77');
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // Only the named targets are checked.
    const only = await run(['check', '--config', files().mixed, 'cache', 'extra']);
    expect(only.code).toBe(0);
    expect(only.stdout).not.toMatch(/^other/m);
  });

  it('--json for machines', async () => {
    const r = await run(['check', '--config', files().mixed, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; targets: TargetCheck[] };
    expect(doc.ok).toBe(false);
    const by = Object.fromEntries(doc.targets.map((t) => [t.target, t]));
    expect(by.cache!.ok).toBe(true);
    expect(by.cache!.nodes[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(by.other!.nodes[0]!.error).toMatchObject({ kind: 'connection', code: 'ECONNREFUSED' });
    expect(by.extra!.required).toBe(false);
    expect(r.stdout).not.toContain(PASSWORD);
  });

  it('a hung server is reported down within the policy timeouts, not waited on', async () => {
    await redis().hang();
    const started = Date.now();
    const r = await run(['check', '--config', files().up, '--json']);
    const took = Date.now() - started;
    await redis().resume();
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { targets: TargetCheck[] };
    expect(doc.targets[0]!.nodes[0]!.error?.kind).toBe('timeout');
    // connectTimeout 800 ms + probe 400 ms, with room for a busy machine; never the hang itself.
    expect(took).toBeLessThan(5000);
  });

  it('names an unknown target, with exit 1', async () => {
    const r = await run(['check', '--config', files().up, 'cahce']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets.cahce: No target "cahce" in the file (expected one of cache)');
  });
});

describe('reconnect check: a multi-node target', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }));

  it('probes every node; one dead node shows down while the target counts as up', async () => {
    const [a, b, c] = cluster().urls;
    const file = config(
      'es.yaml',
      `  search: { driver: elasticsearch, ${fast}, options: { nodes: ['${a}', '${b}', '${c}'] } }\n`,
    );
    await cluster().nodes[1]!.kill();
    const r = await run(['check', '--config', file]);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('search'));
    expect(rows).toHaveLength(3);
    expect(rows.filter((l) => /\sup\s/.test(l))).toHaveLength(2);
    expect(rows.find((l) => l.includes(b!))).toMatch(/\sdown\s.*connection/);
  });
});
