import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigError } from '@reconnect/core';
import { isConfigError, loadConfig, resolveConfig, resolvePolicyWithProvenance } from '@reconnect/core';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'valid');
const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-loader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmp, 'case-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isConfigError(e)) throw new Error(`expected a ConfigError, got ${String(e)}`);
  return e;
}

describe('loadConfig: finding the file', () => {
  it.each([
    ['reconnect.config.yaml', 'version: 1\ntargets: { cache: { driver: redis } }\n'],
    ['reconnect.config.yml', 'version: 1\ntargets: { cache: { driver: redis } }\n'],
    ['reconnect.config.json', '{"version":1,"targets":{"cache":{"driver":"redis"}}}'],
    ['reconnect.config.mjs', 'export default { version: 1, targets: { cache: { driver: "redis" } } };'],
    ['reconnect.config.cjs', 'module.exports = { version: 1, targets: { cache: { driver: "redis" } } };'],
    ['.reconnectrc', 'version: 1\ntargets: { cache: { driver: redis } }\n'],
    ['.reconnectrc.json', '{"version":1,"targets":{"cache":{"driver":"redis"}}}'],
    ['.reconnectrc.yaml', 'version: 1\ntargets: { cache: { driver: redis } }\n'],
    ['package.json', '{"name":"app","reconnect":{"version":1,"targets":{"cache":{"driver":"redis"}}}}'],
  ])('finds %s in cwd', async (name, content) => {
    const dir = dirWith({ [name]: content });
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.file).toBe(path.join(dir, name));
    expect(Object.keys(config.targets)).toEqual(['cache']);
    expect(config.targets['cache']?.policy.retry.maxRetries).toBe(3);
  });

  it('prefers reconnect.config.yaml over .reconnectrc and skips a package.json without the key', async () => {
    const dir = dirWith({
      'package.json': '{"name":"app"}',
      'reconnect.config.yaml': 'version: 1\ntargets: { a: { driver: redis } }\n',
      '.reconnectrc': 'version: 1\ntargets: { b: { driver: redis } }\n',
    });
    expect(Object.keys((await loadConfig({ cwd: dir })).targets)).toEqual(['a']);
  });

  it('loads a TypeScript config with defineConfig, keeping retryIf and delay functions', async () => {
    const config = await loadConfig({ config: path.join(fixtures, 'code.config.ts') });
    const retry = config.targets['cache']?.policy.retry;
    expect(retry?.delay?.(2)).toBe(200);
    expect(typeof retry?.retryIf).toBe('function');
    expect(config.targets['cache']?.provenance['retry.delay']).toBe('target');
    expect(config.targets['cache']?.policy.healthCheck.query).toBe('PING');
  });

  it('reports "no configuration found" as a ConfigError listing where it looked', async () => {
    const e = await rejection(loadConfig({ cwd: dirWith({}) }));
    expect(e.issues[0]?.kind).toBe('config_not_found');
    expect(e.issues[0]?.expected).toContain('reconnect.config.yaml');
  });

  it('reports a missing explicit file with its path', async () => {
    const e = await rejection(loadConfig({ config: 'nope.yaml', cwd: tmp }));
    expect(e.issues).toEqual([
      expect.objectContaining({ kind: 'file_not_found', file: path.join(tmp, 'nope.yaml') }),
    ]);
  });

  it('reports a module that throws as load_error without its stack', async () => {
    const dir = dirWith({ 'reconnect.config.mjs': 'throw new Error("boom");' });
    const e = await rejection(loadConfig({ cwd: dir }));
    expect(e.issues[0]?.kind).toBe('load_error');
    expect(e.issues[0]?.message).toContain('boom');
  });
});

describe('loadConfig / resolveConfig: merging', () => {
  const env = { MYSQL_URL: 'mysql://app:pw@db:3306/app' };

  it('accepts an object built in code, without any file', async () => {
    const config = await loadConfig({
      config: { version: 1, targets: { cache: { driver: 'redis', policy: 'preset:redis' } } },
    });
    expect(config.file).toBeUndefined();
    expect(config.targets['cache']?.policy.reconnect.maxRetries).toBe(5);
  });

  it('merges default ← defaults ← extends chain ← target ← target pool, with provenance for every leaf', async () => {
    const config = await loadConfig({ config: path.join(fixtures, 'full.yaml'), env });
    const db = config.targets['main_db']!;
    expect(db.layers).toEqual(['default', 'defaults', 'preset:mysql', 'policies.patient']);
    expect(db.policy.retry.maxRetries).toBe(5);
    expect(db.provenance['retry.maxRetries']).toBe('policies.patient');
    expect(db.policy.healthCheck.query).toBe('SELECT 1');
    expect(db.provenance['healthCheck.query']).toBe('preset:mysql');
    expect(db.provenance['retry.attemptTimeout']).toBe('defaults');
    expect(db.provenance['healthCheck.jitter']).toBe('default');
    expect(db.options).toEqual({ uri: 'mysql://app:pw@db:3306/app' });

    const search = config.targets['search']!;
    expect(search.required).toBe(false);
    expect(search.policy.retry.retryOn.statusCodes).toEqual([429, 502, 503, 504]);
    expect(search.provenance['retry.retryOn.statusCodes']).toBe('target');
    expect(search.policy.pool.deadTimeoutMax).toBe(30 * 60_000);
    expect(search.provenance['pool.deadTimeoutMax']).toBe('target');
    expect(search.policy.pool.nodeFailureThreshold).toBe(3);
    expect(search.provenance['pool.nodeFailureThreshold']).toBe('preset:elasticsearch');
    expect(search.policy.pool.discovery).toEqual({ onStart: true, interval: 300_000, onFault: true });

    // Every leaf of every resolved policy has a provenance entry.
    for (const t of Object.values(config.targets)) {
      const leaves: string[] = [];
      const walk = (v: unknown, p: string): void => {
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          for (const [k, c] of Object.entries(v)) walk(c, p === '' ? k : `${p}.${k}`);
        } else leaves.push(p);
      };
      walk(t.policy, '');
      for (const leaf of leaves) expect(t.provenance[leaf], `${t.name}: ${leaf}`).toBeDefined();
    }
  });

  it('uses ${VAR:-default} when the variable is unset', async () => {
    const config = await loadConfig({ config: path.join(fixtures, 'full.yaml'), env: {} });
    expect(config.targets['main_db']?.options).toEqual({ uri: 'mysql://root@127.0.0.1:3306/test' });
  });

  it('resolves unlimited reconnects to Infinity', () => {
    const config = resolveConfig({ version: 1, targets: { a: { driver: 'redis' } } });
    expect(config.targets['a']?.policy.reconnect.maxRetries).toBe(Number.POSITIVE_INFINITY);
  });

  it('collects problems from several targets into one error', () => {
    let error: unknown;
    try {
      resolveConfig({
        version: 1,
        targets: {
          a: { driver: 'redis', policy: { retry: { backoff: { base: '5s', max: '1s' } } } },
          b: { driver: 'redis', policy: { healthCheck: { interval: '1s', timeout: '1s' } } },
        },
      });
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as ConfigError).issues.map((i) => i.path.join('.'))).toEqual([
      'targets.a.policy.retry.backoff.max',
      'targets.b.policy.healthCheck.timeout',
    ]);
  });
});

describe('loadConfig: hostile documents', () => {
  it('a deeply nested JSON file is a ConfigError, not a stack overflow', async () => {
    const depth = 20_000;
    const file = path.join(tmp, 'deep.json');
    writeFileSync(
      file,
      `{"version":1,"targets":{"a":{"driver":"redis","options":${'['.repeat(depth)}${']'.repeat(depth)}}}}`,
    );
    const e = await rejection(loadConfig({ config: file }));
    expect(e.issues.map((i) => i.kind)).toContain('too_deep');
  });

  it('a YAML alias bomb is refused as too large', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const file = path.join(tmp, 'bomb.yaml');
    writeFileSync(file, `${lines.join('\n')}\nversion: 1\ntargets: { a: { driver: redis } }\n`);
    const e = await rejection(loadConfig({ config: file }));
    expect(e.issues.map((i) => i.kind)).toEqual(['too_large']);
  });
});

describe('a loader crash is never passed off as a validation finding', () => {
  it('an array carrying an own `constructor` key is processed, not crashed on', async () => {
    const codes: unknown[] = ['ER_LOCK_DEADLOCK'];
    Object.defineProperty(codes, 'constructor', { value: '10s', enumerable: true });
    const config = {
      version: 1,
      targets: { db: { driver: 'mysql', policy: { retry: { retryOn: { codes } } } } },
    };
    const error = await loadConfig({ config: config as never, env: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const kinds = isConfigError(error) ? error.issues.map((i) => i.kind) : [];
    expect(kinds).not.toContain('internal');
  });
});

describe('${VAR} standing for a number or a boolean', () => {
  const config = {
    version: 1,
    defaults: { retry: { maxRetries: '${N:-3}', budget: { enabled: '${BUDGET}' } } },
    policies: { p: { healthCheck: { failureThreshold: '${FT}', jitter: '${J:-0.25}' } } },
    targets: {
      a: {
        driver: 'redis',
        policy: { extends: 'p', reconnect: { maxRetries: '${RM:-7}' } },
        pool: { nodeFailureThreshold: '${NFT:-2}' },
        required: '${REQ:-false}',
        options: { password: '${PW}', port: '${PORT:-6379}', tls: '${TLS:-true}' },
      },
    },
  };

  it('becomes that number or boolean in the policy parts of the file', () => {
    const t = resolveConfig(config, { env: { BUDGET: 'false', FT: '4', PW: '1234' } }).targets['a'];
    expect(t?.policy.retry.maxRetries).toBe(3);
    expect(t?.policy.retry.budget.enabled).toBe(false);
    expect(t?.policy.healthCheck.failureThreshold).toBe(4);
    expect(t?.policy.healthCheck.jitter).toBe(0.25);
    expect(t?.policy.reconnect.maxRetries).toBe(7);
    expect(t?.policy.pool.nodeFailureThreshold).toBe(2);
    expect(t?.required).toBe(false);
  });

  it('stays a string in driver options (a password of digits is a string)', () => {
    const t = resolveConfig(config, { env: { BUDGET: 'true', FT: '4', PW: '1234' } }).targets['a'];
    expect(t?.options).toEqual({ password: '1234', port: '6379', tls: 'true' });
  });

  it('only a whole reference is converted; text around it keeps it a string', () => {
    let error: unknown;
    try {
      resolveConfig(
        { version: 1, targets: { a: { driver: 'redis', policy: { retry: { maxRetries: 'x${N:-3}' } } } } },
        { env: {} },
      );
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error) ? error.issues.map((i) => i.path.join('.')) : []).toEqual([
      'targets.a.policy.retry.maxRetries',
    ]);
  });

  it('works in a policy given in code too', () => {
    const p = resolvePolicyWithProvenance({ retry: { maxRetries: '${N}' } } as never, { env: { N: '0' } });
    expect(p.policy.retry.maxRetries).toBe(0);
  });
});
