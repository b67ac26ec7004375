import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { createManager, type Logger } from '@reconnect/core';
import { startElasticsearchCluster, startMariaDB, startRedis, useServer } from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

// A password holding every character that means something in a URL (# / ? @ : %) and a space, interpolated into
// each store's URL as `${VAR}` (issue #22: `getaddrinfo ENOTFOUND ss` printed a piece of it as the host). The
// servers really require that password, so `check` being up proves it arrived intact; and no piece of it may show
// in anything the CLI or a manager's logger prints.

const SECRET = 'q7Z@kX9#wV4/jY2?pN8:hM3%tB6 rC5';
const FRAGMENTS = SECRET.split(/[^A-Za-z0-9]+/);
const env = { REDIS_PW: SECRET, DB_PW: SECRET, ES_PW: SECRET };

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-url-secrets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectNoFragment(label: string, ...texts: string[]): void {
  const all = texts.join('\n');
  for (const f of FRAGMENTS) expect(all, `${label} shows "${f}", a piece of the password`).not.toContain(f);
}

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

const fast = 'policy: { reconnect: { connectTimeout: 2s }, healthCheck: { timeout: 2s } }';

describe('a password with URL-special characters, interpolated into URLs', () => {
  const redis = useServer(() => startRedis());
  const mariadb = useServer(() => startMariaDB());
  const es = useServer(() =>
    startElasticsearchCluster({ nodes: 1, security: { users: [{ username: 'elastic', password: SECRET }] } }),
  );

  beforeAll(async () => {
    // Set after start: the testkit's readiness PING sends AUTH inline, where a space would split the password.
    const admin = new Redis({
      host: '127.0.0.1',
      port: redis().port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    await admin.connect();
    await admin.config('SET', 'requirepass', SECRET);
    admin.disconnect();
    const root = await mysql.createConnection({ ...mariadb().options });
    for (const host of ['%', 'localhost', '127.0.0.1']) {
      await root.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', ['app', host, SECRET]);
      await root.query('GRANT ALL ON *.* TO ?@?', ['app', host]);
    }
    await root.end();
  }, 60_000);

  const config = (redisPort = redis().port): string =>
    `version: 1\ntargets:\n` +
    `  cache: { driver: redis, ${fast}, options: { url: 'redis://default:\${REDIS_PW}@127.0.0.1:${redisPort}' } }\n` +
    `  db: { driver: mysql, ${fast}, options: { uri: 'mysql://app:\${DB_PW}@127.0.0.1:${mariadb().port}/test' } }\n` +
    `  search: { driver: elasticsearch, ${fast}, options: { node: 'http://elastic:\${ES_PW}@127.0.0.1:${es().nodes[0]!.port}' } }\n`;

  it('validate, explain, check, diff and watch work, the password reaches every server, and no piece of it is printed', async () => {
    const file = write('ok.yaml', config());
    const outputs: string[] = [];
    const cli = async (argv: string[], code: number): Promise<string> => {
      const r = await run(argv, { env });
      outputs.push(r.stdout, r.stderr);
      expect(r.code, `${argv.join(' ')}:\n${r.stdout}${r.stderr}`).toBe(code);
      return r.stdout;
    };
    const validated = await cli(['validate', '--config', file], 0);
    expect(validated).toContain(`redis://default:***@127.0.0.1:${redis().port}`);
    await cli(['validate', '--config', file, '--json'], 0);
    for (const t of ['cache', 'db', 'search']) await cli(['explain', t, '--config', file], 0);
    // Up on all three: each server requires the password, so it arrived whole.
    const checked = await cli(['check', '--config', file], 0);
    expect(checked).toContain('✓ 3 of 3 targets up');
    await cli(['check', '--config', file, '--json'], 0);
    const moved = write('moved.yaml', config(1));
    const diff = await cli(['diff', file, moved], 1);
    expect(diff).toContain(`redis://default:***@127.0.0.1:1`);
    await cli(['watch', '--config', file, '--for', '1500ms'], 0);
    expectNoFragment('the CLI', ...outputs);
  }, 60_000);

  it("a manager's log, reload event and errors show no piece of it, through a reload to a dead server", async () => {
    const file = write('manager.yaml', config());
    const lines: string[] = [];
    const record =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void => {
        lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
      };
    const logger: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const manager = await createManager({ config: file, env, logger, logLevel: 'debug' });
    const events: string[] = [];
    manager.on('reload', (e) =>
      events.push(JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? v.message : v))),
    );
    try {
      const started = await manager.startAll();
      expect(Object.values(started).every((r) => r.ok)).toBe(true);
      await manager.target('cache').execute((c) => (c as Redis).ping(), { idempotent: true });
      write('manager.yaml', config(1));
      const reloaded = await manager.reload();
      events.push(JSON.stringify(reloaded.summary), String(reloaded.notApplied.map((n) => String(n.error))));
    } finally {
      await manager.stopAll();
    }
    expect(lines.join('\n')).toContain('cache');
    expectNoFragment("the manager's log", ...lines);
    expectNoFragment('the reload event', ...events);
  }, 60_000);

  it('a whole URL from one variable with the password unencoded is refused by validate, check and createManager, unquoted', async () => {
    const file = write(
      'whole.yaml',
      `version: 1\ntargets:\n  cache: { driver: redis, options: { url: '\${REDIS_URL}' } }\n`,
    );
    const urlEnv = { REDIS_URL: `redis://default:${SECRET}@127.0.0.1:${redis().port}` };
    const outputs: string[] = [];
    for (const argv of [
      ['validate', '--config', file],
      ['validate', '--config', file, '--json'],
      ['check', '--config', file],
      ['explain', 'cache', '--config', file],
    ]) {
      const r = await run(argv, { env: urlEnv });
      outputs.push(r.stdout, r.stderr);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stdout + r.stderr).toContain('url_credentials');
    }
    const refused = await createManager({ config: file, env: urlEnv }).then(
      () => 'created',
      (e: unknown) => (e instanceof Error ? `${e.message} ${JSON.stringify(e)}` : String(e)),
    );
    expect(refused).toContain('url_credentials');
    expectNoFragment('the refusal', ...outputs, refused);
  });
});
