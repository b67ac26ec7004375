import { describe, expect, it } from 'vitest';
import {
  describeMySqlOptions,
  mysqlAddresses,
  mysqlOptionsSchema,
  parseMySqlNode,
  parseMySqlUri,
  policyOwnedKeys,
} from './options.js';
import { connectBackstopMs, defaultQueueLimit, mysql2PoolOptions, poolSettings } from './policy-mapping.js';
import { resolvePolicy } from '@reconnect/core';

const parse = (input: unknown) => mysqlOptionsSchema.safeParse(input);

describe('mysqlOptionsSchema', () => {
  it('accepts what mysql2 users write: uri, host/port/user/password/database, ssl, pool sizes, nodes, primary + replicas', () => {
    expect(parse({ uri: 'mysql://app:pw@127.0.0.1:3307/shop' }).success).toBe(true);
    expect(parse({ uri: 'mariadb://db.internal/shop?charset=utf8mb4' }).success).toBe(true);
    expect(
      parse({
        host: '127.0.0.1',
        port: 3306,
        user: 'app',
        password: 'pw',
        database: 'shop',
        ssl: { ca: 'x' },
      }).success,
    ).toBe(true);
    expect(
      parse({ ssl: 'Amazon RDS', connectionLimit: 20, queueLimit: 100, charset: 'utf8mb4', timezone: 'Z' })
        .success,
    ).toBe(true);
    expect(parse({ nodes: ['a:3306', { host: 'b', role: 'replica' }] }).success).toBe(true);
    expect(parse({ primary: 'a', replicas: ['b:3307', { host: 'c' }], user: 'app' }).success).toBe(true);
    expect(parse({}).success).toBe(true); // mysql2's own default: 127.0.0.1:3306
  });

  it('rejects a URI of another scheme', () => {
    const r = parse({ uri: 'postgres://127.0.0.1/db' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/mysql:\/\//);
  });

  it('rejects uri together with host, port, user, password or database: one located issue per key, no secret shown', () => {
    for (const key of ['host', 'port', 'user', 'password', 'database'] as const) {
      const value = key === 'port' ? 3307 : 'x';
      const r = parse({ uri: 'mysql://127.0.0.1/shop', [key]: value });
      expect(r.success, key).toBe(false);
      const issue = r.error?.issues.find((i) => i.path[0] === key);
      expect(issue?.message, key).toBe(
        `Give either uri or ${key}, not both: the URI carries host, port, user, password and database (got uri and ${key})`,
      );
    }
    const both = parse({ uri: 'mysql://u:s3cr3t@127.0.0.1/shop', port: 3307, password: 'hunter2' });
    expect(both.error?.issues.map((i) => i.path.join('.'))).toEqual(['port', 'password']);
    expect(JSON.stringify(both.error?.issues)).not.toContain('hunter2');
    expect(JSON.stringify(both.error?.issues)).not.toContain('s3cr3t');
  });

  it('rejects two ways of naming the servers at once, and replicas without a primary', () => {
    expect(parse({ uri: 'mysql://a/db', nodes: ['b'] }).error?.issues[0]?.path).toEqual(['nodes']);
    expect(parse({ host: 'a', primary: 'b' }).error?.issues[0]?.path).toEqual(['primary']);
    expect(parse({ nodes: ['a'], primary: 'b' }).error?.issues[0]?.path).toEqual(['primary']);
    expect(parse({ replicas: ['b'] }).error?.issues[0]?.path).toEqual(['primary']);
    expect(parse({ primary: { host: 'a', role: 'replica' } }).success).toBe(false);
    expect(
      parse({ primary: 'a', replicas: [{ host: 'b', role: 'primary' }] }).error?.issues[0]?.path,
    ).toEqual(['replicas', 0, 'role']);
  });

  it('maxLag: milliseconds or a duration, for replicas only, each refusal located and saying what to do', () => {
    expect(parse({ primary: 'a', replicas: ['b'], maxLag: '1s' }).success).toBe(true);
    expect(parse({ primary: 'a', replicas: ['b'], maxLag: 0 }).success).toBe(true);
    expect(parse({ primary: 'a', replicas: [{ host: 'b', maxLag: 500 }, 'c'], maxLag: '2s' }).success).toBe(
      true,
    );
    expect(
      parse({
        nodes: [
          { host: 'a', role: 'primary' },
          { host: 'b', role: 'replica', maxLag: '3s' },
        ],
      }).success,
    ).toBe(true);
    const issue = (input: object) => {
      const r = parse(input);
      return r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issue({ primary: 'a', replicas: ['b'], maxLag: -1 })).toEqual([
      'maxLag: maxLag cannot be negative',
    ]);
    expect(issue({ primary: 'a', replicas: ['b'], maxLag: 'soon' })?.[0]).toMatch(
      /^maxLag: maxLag must be milliseconds or a duration such as "1s"/,
    );
    expect(issue({ primary: 'a', replicas: ['b'], maxLag: 1e9 })?.[0]).toMatch(/^maxLag: maxLag above a day/);
    expect(issue({ host: 'a', maxLag: '1s' })).toEqual([
      'maxLag: maxLag applies to replicas, and this target names none: give primary + replicas, or nodes with role: replica',
    ]);
    expect(issue({ nodes: ['a', 'b'], maxLag: '1s' })?.[0]).toMatch(/^maxLag: maxLag applies to replicas/);
    expect(issue({ primary: { host: 'a', maxLag: '1s' }, replicas: ['b'] })).toEqual([
      'primary.maxLag: maxLag applies to replicas: the primary takes the writes and is never behind',
    ]);
    expect(
      issue({
        nodes: [
          { host: 'a', maxLag: 1000 },
          { host: 'b', role: 'replica' },
        ],
      }),
    ).toEqual(['nodes.0.maxLag: maxLag applies to replicas: give node 0 role: replica, or drop its maxLag']);
    // Kept out of mysql2's options (it warns about keys it does not know).
    const o = mysqlOptionsSchema.parse({ primary: 'a', replicas: ['b'], maxLag: '1s' });
    expect(mysql2PoolOptions(o, resolvePolicy({}))).not.toHaveProperty('maxLag');
    expect(
      mysqlAddresses(mysqlOptionsSchema.parse({ primary: 'a', replicas: [{ host: 'b', maxLag: '5s' }] }))[1],
    ).toEqual({ host: 'b', port: 3306, role: 'replica', maxLag: '5s' });
  });

  it('refuses the options the policy owns, also inside the URI, saying which policy field to use', () => {
    for (const key of policyOwnedKeys) {
      const r = parse({ [key]: 1000 });
      expect(r.success, key).toBe(false);
      expect(r.error?.issues[0]?.message).toMatch(/Set by the target's policy/);
    }
    expect(parse({ connectTimeout: 5 }).error?.issues[0]?.message).toMatch(/reconnect\.connectTimeout/);
    const inUri = parse({ uri: 'mysql://a/db?connectTimeout=100000' });
    expect(inUri.error?.issues[0]?.path).toEqual(['uri']);
    expect(inUri.error?.issues[0]?.message).toMatch(/reconnect\.connectTimeout/);
  });

  it('rejects unknown keys (typos do not pass silently) and maxIdle above connectionLimit', () => {
    expect(parse({ hots: 'x' }).success).toBe(false);
    expect(parse({ connectionLimit: 5, maxIdle: 6 }).error?.issues[0]?.path).toEqual(['maxIdle']);
  });
});

describe('addresses and descriptions', () => {
  const d = (input: unknown) => describeMySqlOptions(mysqlOptionsSchema.parse(input));

  it('describe() never contains credentials', () => {
    expect(d({ uri: 'mysql://admin:s3cr3t@10.0.0.5:3307/shop' })).toBe('10.0.0.5:3307/shop');
    expect(d({ host: 'h', port: 1, password: 's3cr3t', database: 'x' })).toBe('h:1/x');
    expect(d({ uri: 'mysql://a/db?ssl={"rejectUnauthorized":true}' })).toBe('tls a:3306/db');
    expect(d({ primary: 'p', replicas: ['r1:3307', 'r2'], database: 'shop', password: 's3cr3t' })).toBe(
      'primary p:3306, replicas r1:3307,r2:3306 /shop',
    );
    expect(d({ nodes: ['a', 'b'] })).toBe('nodes a:3306,b:3306');
  });

  it('parses host:port, [v6]:port, objects and URIs', () => {
    expect(parseMySqlNode('a:1')).toEqual({ host: 'a', port: 1 });
    expect(parseMySqlNode('a')).toEqual({ host: 'a', port: 3306 });
    expect(parseMySqlNode('[::1]:3307')).toEqual({ host: '::1', port: 3307 });
    expect(parseMySqlNode({ host: 'b', role: 'replica' })).toEqual({
      host: 'b',
      port: 3306,
      role: 'replica',
    });
    expect(parseMySqlUri('mysql://u%40x:p%3Aw@h:3307/d%20b?charset=utf8mb4&multipleStatements=true')).toEqual(
      {
        host: 'h',
        port: 3307,
        user: 'u@x',
        password: 'p:w',
        database: 'd b',
        params: { charset: 'utf8mb4', multipleStatements: true },
      },
    );
    expect(mysqlAddresses(mysqlOptionsSchema.parse({ primary: 'p', replicas: ['r'] }))).toEqual([
      { host: 'p', port: 3306, role: 'primary' },
      { host: 'r', port: 3306, role: 'replica' },
    ]);
  });
});

describe('what the driver does with the policy', () => {
  it('maps reconnect.connectTimeout, bounds the queue, turns keep-alive on; the node decides host and port', () => {
    const policy = resolvePolicy({ reconnect: { connectTimeout: '750ms' } });
    const o = mysql2PoolOptions(
      mysqlOptionsSchema.parse({ uri: 'mysql://u:pw@h:1/db?charset=utf8mb4' }),
      policy,
    );
    expect(o).toMatchObject({
      host: 'h',
      port: 1,
      user: 'u',
      password: 'pw',
      database: 'db',
      charset: 'utf8mb4',
      connectTimeout: 750 + connectBackstopMs, // a backstop behind the lifecycle's own connectTimeout
      queueLimit: defaultQueueLimit,
      enableKeepAlive: true,
      waitForConnections: true,
    });
    expect(o).not.toHaveProperty('uri');
    const replica = mysql2PoolOptions(
      mysqlOptionsSchema.parse({ primary: 'p', replicas: ['r'], queueLimit: 5, enableKeepAlive: false }),
      policy,
      { host: 'r', port: 3306 },
    );
    expect(replica).toMatchObject({ host: 'r', port: 3306, queueLimit: 5, enableKeepAlive: false });
    expect(replica).not.toHaveProperty('replicas');
  });

  it("turns mysql2's per-statement stack capture off unless asked for (trace: true)", () => {
    const policy = resolvePolicy({});
    expect(mysql2PoolOptions(mysqlOptionsSchema.parse({ host: 'h' }), policy)).toMatchObject({
      trace: false,
    });
    expect(mysql2PoolOptions(mysqlOptionsSchema.parse({ host: 'h', trace: true }), policy)).toMatchObject({
      trace: true,
    });
  });

  it('statement and acquire timeouts are retry.attemptTimeout; idle validation follows healthCheck.interval', () => {
    const policy = resolvePolicy({
      retry: { attemptTimeout: '2s' },
      healthCheck: { interval: '10s', timeout: '3s' },
      reconnect: { connectTimeout: '5s' },
    });
    expect(poolSettings(mysqlOptionsSchema.parse({}), policy)).toEqual({
      queryTimeoutMs: 2000,
      acquireTimeoutMs: 2000,
      validateAfterIdleMs: 10_000,
      validationTimeoutMs: 500,
      connectTimeoutMs: 5000,
      closeGraceMs: 2000,
      connectRate: 5,
    });
    expect(poolSettings(mysqlOptionsSchema.parse({ validateAfterIdle: 0 }), policy).validateAfterIdleMs).toBe(
      0,
    );
    expect(
      poolSettings(mysqlOptionsSchema.parse({}), resolvePolicy({ retry: { attemptTimeout: 0 } }))
        .queryTimeoutMs,
    ).toBe(0);
  });

  it('connectRate: the pool’s ceiling on new connections (default 5, 0 lifts it), never passed on to mysql2', () => {
    const policy = resolvePolicy({});
    expect(poolSettings(mysqlOptionsSchema.parse({ connectRate: 0 }), policy).connectRate).toBe(0);
    expect(poolSettings(mysqlOptionsSchema.parse({ connectRate: 2.5 }), policy).connectRate).toBe(2.5);
    expect(mysql2PoolOptions(mysqlOptionsSchema.parse({ connectRate: 3 }), policy)).not.toHaveProperty(
      'connectRate',
    );
    const issues = (input: unknown) => {
      const r = mysqlOptionsSchema.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ connectRate: -1 })).toEqual([
      'connectRate: connectRate cannot be negative (0 lifts the ceiling)',
    ]);
    expect(issues({ connectRate: 'fast' })).toEqual([
      'connectRate: connectRate must be a number: new connections per second per node (0 for no ceiling)',
    ]);
    expect(issues({ connectRate: 20_000 })).toEqual([
      'connectRate: connectRate above 10000 per second is no ceiling: use 0 to lift it',
    ]);
  });
});
