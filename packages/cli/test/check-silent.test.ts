import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startElasticsearchCluster,
  startFaultProxy,
  startMariaDB,
  startRedis,
  useServer,
  type FaultProxy,
} from '@reconnect/testkit';
import { run } from './helpers.js';

// Issue #22, point 4: one silent server (it accepts the connection and never answers) reads the same on every
// store — `timeout CONNECT_TIMEOUT: connect did not finish within <reconnect.connectTimeout>` — and no sooner than
// connectTimeout. Before: MySQL said "No pooled connection became free within 2000 ms" at 2 s (nothing was
// pooled), Redis "Command timed out" at 4 s, Elasticsearch CONNECT_TIMEOUT at 5 s.

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-silent-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('reconnect check against a silent server, on every store', () => {
  const redis = useServer(() => startRedis());
  const mariadb = useServer(() => startMariaDB());
  const es = useServer(() => startElasticsearchCluster({ nodes: 1 }));
  const proxies: FaultProxy[] = [];
  let file = '';

  beforeAll(async () => {
    const silent = async (target: { host: string; port: number }) => {
      const proxy = await startFaultProxy({ target });
      proxy.blackhole();
      proxies.push(proxy);
      return proxy.port;
    };
    const r = await silent(redis().options);
    const m = await silent(mariadb().options);
    const e = await silent({ host: '127.0.0.1', port: es().nodes[0]!.port });
    // attemptTimeout (the shorter limit the drivers used to apply while connecting) well under connectTimeout.
    const policy =
      'policy: { retry: { attemptTimeout: 400ms }, reconnect: { connectTimeout: 1500ms }, healthCheck: { timeout: 300ms } }';
    file = path.join(tmp, 'silent.yaml');
    writeFileSync(
      file,
      'version: 1\ntargets:\n' +
        `  cache: { driver: redis, ${policy}, options: { url: 'redis://127.0.0.1:${r}' } }\n` +
        `  db: { driver: mysql, ${policy}, options: { host: 127.0.0.1, port: ${m}, user: root } }\n` +
        `  search: { driver: elasticsearch, ${policy}, options: { node: 'http://127.0.0.1:${e}' } }\n`,
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('each row: timeout CONNECT_TIMEOUT, connect did not finish within 1500 ms, after about 1.5 s', async () => {
    const r = await run(['check', '--config', file, '--json']);
    expect(r.code).toBe(1);
    const checks = (
      JSON.parse(r.stdout) as {
        targets: {
          target: string;
          nodes: { latencyMs: number; error: { kind: string; code: string; message: string } | null }[];
        }[];
      }
    ).targets;
    expect(checks.map((c) => c.target).sort()).toEqual(['cache', 'db', 'search']);
    for (const c of checks) {
      const node = c.nodes[0]!;
      expect(node.error, c.target).toEqual({
        kind: 'timeout',
        code: 'CONNECT_TIMEOUT',
        message: 'connect did not finish within 1500 ms',
      });
      expect(node.latencyMs, c.target).toBeGreaterThanOrEqual(1450);
      expect(node.latencyMs, c.target).toBeLessThan(4000);
    }
  });
});
