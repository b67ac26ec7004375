import { describe, expect, it } from 'vitest';
import { describeRedisOptions, parseNode, policyOwnedKeys, redisOptionsSchema } from './options.js';

const parse = (input: unknown) => redisOptionsSchema.safeParse(input);

describe('redisOptionsSchema', () => {
  it('accepts what ioredis users write: url, host/port, sentinels + name, cluster', () => {
    expect(parse({ url: 'redis://user:pw@127.0.0.1:6380/2' }).success).toBe(true);
    expect(parse({ url: 'rediss://cache.internal:6380' }).success).toBe(true);
    expect(
      parse({ host: '127.0.0.1', port: 6379, password: 'pw', username: 'u', db: 1, tls: true }).success,
    ).toBe(true);
    expect(
      parse({ sentinels: ['127.0.0.1:26379', { host: '127.0.0.1', port: 26380 }], name: 'mymaster' }).success,
    ).toBe(true);
    expect(
      parse({ cluster: { nodes: ['127.0.0.1:7000', 'redis://127.0.0.1:7001'], scaleReads: 'slave' } })
        .success,
    ).toBe(true);
    expect(parse({}).success).toBe(true); // ioredis's own default: 127.0.0.1:6379
  });

  it('takes idempotencyKeyTtl as a duration of at least 1 s, saying why otherwise', () => {
    expect(redisOptionsSchema.parse({ idempotencyKeyTtl: '10m' }).idempotencyKeyTtl).toBe(600_000);
    expect(redisOptionsSchema.parse({ idempotencyKeyTtl: 1000 }).idempotencyKeyTtl).toBe(1000);
    const short = parse({ idempotencyKeyTtl: '999ms' });
    expect(short.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'idempotencyKeyTtl',
        'The TTL of idempotency keys must be at least 1s (got 999 ms): a guard must outlive the retries of its write',
      ],
    ]);
    expect(parse({ idempotencyKeyTtl: 'soon' }).error?.issues[0]?.path).toEqual(['idempotencyKeyTtl']);
  });

  it('rejects a URL of another scheme', () => {
    const r = parse({ url: 'http://127.0.0.1:6379' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/redis:\/\//);
  });

  it('rejects mixing topologies and a Sentinel without its master name', () => {
    expect(parse({ url: 'redis://a', cluster: { nodes: ['a:1'] } }).success).toBe(false);
    expect(parse({ host: 'a', sentinels: ['b:2'], name: 'm' }).success).toBe(false);
    const noName = parse({ sentinels: ['b:2'] });
    expect(noName.error?.issues.map((i) => i.path.join('.'))).toContain('name');
    expect(parse({ url: 'redis://a', host: 'b' }).success).toBe(false);
  });

  it('rejects url together with host, port, username, password or db, naming the keys', () => {
    for (const key of ['host', 'port', 'username', 'password', 'db'] as const) {
      const value = key === 'port' ? 6380 : key === 'db' ? 2 : 'x';
      const r = parse({ url: 'redis://127.0.0.1:6379', [key]: value });
      expect(r.success, key).toBe(false);
      const issue = r.error?.issues.find((i) => i.path[0] === key);
      expect(issue?.message, key).toBe(
        `Give either url or ${key}, not both: the URL carries host, port, username, password and db (got url and ${key})`,
      );
    }
    const both = parse({ url: 'redis://127.0.0.1:6379', port: 6380, password: 'hunter2' });
    expect(both.error?.issues.map((i) => i.path.join('.'))).toEqual(['port', 'password']);
    expect(JSON.stringify(both.error?.issues)).not.toContain('hunter2');
    expect(parse({ url: 'redis://127.0.0.1:6379/1', tls: false }).success).toBe(true);
  });

  it('refuses the options the policy owns, saying which policy field to use', () => {
    for (const key of policyOwnedKeys) {
      const r = parse({ [key]: key === 'enableOfflineQueue' ? true : 1 });
      expect(r.success, key).toBe(false);
      expect(r.error?.issues[0]?.message).toMatch(/Set by the target's policy/);
    }
    expect(parse({ retryStrategy: 1 }).error?.issues[0]?.message).toMatch(/reconnect\.backoff/);
    expect(parse({ commandTimeout: 5 }).error?.issues[0]?.message).toMatch(/attemptTimeout/);
  });

  it('takes waitForReplicas as replicas ≥ 1 and a timeout > 0, saying where and what otherwise', () => {
    expect(
      redisOptionsSchema.parse({ waitForReplicas: { replicas: 1, timeout: '500ms' } }).waitForReplicas,
    ).toEqual({ replicas: 1, timeout: 500 });
    expect(
      redisOptionsSchema.parse({ waitForReplicas: { replicas: 2, timeout: 1500 } }).waitForReplicas,
    ).toEqual({
      replicas: 2,
      timeout: 1500,
    });
    const issues = (input: unknown) =>
      parse({ waitForReplicas: input }).error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(issues({ replicas: 0, timeout: '1s' })).toEqual([
      ['waitForReplicas.replicas', 'replicas must be at least 1: WAIT 0 confirms nothing'],
    ]);
    expect(issues({ replicas: 1.5, timeout: '1s' })).toEqual([
      ['waitForReplicas.replicas', 'replicas must be a whole number of replicas, at least 1 (e.g. 1)'],
    ]);
    expect(issues({ replicas: '1', timeout: '1s' })).toEqual([
      ['waitForReplicas.replicas', 'replicas must be a whole number of replicas, at least 1 (e.g. 1)'],
    ]);
    expect(issues({ replicas: 1, timeout: 0 })).toEqual([
      [
        'waitForReplicas.timeout',
        "waitForReplicas.timeout must be more than 0 (got 0 ms): WAIT with 0 waits for ever; give e.g. '500ms'",
      ],
    ]);
    expect(issues({ replicas: 1, timeout: 'soon' })?.[0]).toEqual([
      'waitForReplicas.timeout',
      'Invalid duration',
    ]);
    expect(issues({ replicas: 1 })?.[0]?.[0]).toBe('waitForReplicas.timeout');
    expect(issues({ replicas: 1, timeout: '1s', numreplicas: 1 })?.[0]?.[0]).toBe('waitForReplicas');
    // Beside options it cannot work with.
    const beside = (extra: object) =>
      parse({ waitForReplicas: { replicas: 1, timeout: '1s' }, ...extra }).error?.issues.map((i) => [
        i.path.join('.'),
        i.message,
      ]);
    expect(beside({ enableAutoPipelining: true })).toEqual([
      [
        'waitForReplicas',
        'waitForReplicas cannot be used with enableAutoPipelining: auto-pipelining mixes the commands of concurrent operations in one pipeline, so no operation can hold its reply until its own writes are confirmed',
      ],
    ]);
    expect(beside({ sentinels: ['127.0.0.1:26379'], name: 'm', role: 'slave' })?.[0]?.[1]).toMatch(
      /needs the master/,
    );
    expect(beside({ enableAutoPipelining: false })).toBeUndefined();
  });

  it('rejects unknown keys (typos do not pass silently)', () => {
    expect(parse({ hots: 'x' }).success).toBe(false);
  });
});

describe('describeRedisOptions', () => {
  const d = (input: unknown) => describeRedisOptions(redisOptionsSchema.parse(input));

  it('never contains credentials', () => {
    const text = d({ url: 'redis://admin:s3cr3t@10.0.0.5:6380/3' });
    expect(text).toBe('10.0.0.5:6380/3');
    expect(text).not.toContain('s3cr3t');
    expect(d({ host: 'h', port: 1, password: 's3cr3t' })).toBe('h:1');
  });

  it('says TLS, Sentinel and Cluster', () => {
    expect(d({ url: 'rediss://cache:6380' })).toBe('rediss://cache:6380');
    expect(d({ sentinels: ['127.0.0.1:26379', '127.0.0.1'], name: 'mymaster', sentinelPassword: 'x' })).toBe(
      'sentinel mymaster @ 127.0.0.1:26379,127.0.0.1:26379',
    );
    expect(d({ cluster: { nodes: ['redis://:pw@127.0.0.1:7000', { host: 'b', port: 7001 }] } })).toBe(
      'cluster 127.0.0.1:7000,b:7001',
    );
  });
});

describe('parseNode', () => {
  it('reads host:port, URLs and objects, with a default port', () => {
    expect(parseNode('a:1', 9)).toEqual({ host: 'a', port: 1 });
    expect(parseNode('a', 9)).toEqual({ host: 'a', port: 9 });
    expect(parseNode('redis://u:p@a:2', 9)).toEqual({ host: 'a', port: 2 });
    expect(parseNode({ host: 'b', port: 3 }, 9)).toEqual({ host: 'b', port: 3 });
  });
});
