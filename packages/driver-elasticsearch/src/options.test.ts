import { describe, expect, it } from 'vitest';
import {
  describeElasticsearchOptions,
  elasticsearchOptionsSchema,
  nodesOf,
  policyOwnedKeys,
} from './options.js';

const parse = (input: unknown) => elasticsearchOptionsSchema.safeParse(input);

describe('elasticsearchOptionsSchema', () => {
  it('refuses every option the policy owns, naming the policy key to use', () => {
    for (const key of policyOwnedKeys) {
      const r = parse({ node: 'http://127.0.0.1:9200', [key]: 1 });
      expect(r.success, key).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual([key]);
      expect(r.error?.issues[0]?.message).toMatch(/Set by the target's policy/);
    }
    const m = (key: string) => parse({ node: 'http://h:1', [key]: 1 }).error?.issues[0]?.message;
    expect(m('maxRetries')).toMatch(/retry\.maxRetries/);
    expect(m('requestTimeout')).toMatch(/retry\.attemptTimeout/);
    expect(m('sniffInterval')).toMatch(/pool\.discovery\.interval/);
    expect(m('resurrectStrategy')).toMatch(/pool\.resurrect/);
    expect(m('nodeSelector')).toMatch(/pool\.selector/);
    expect(m('ConnectionPool')).toMatch(/pool\./);
  });

  it('node / nodes: one of them; unknown keys and accept/content-type headers are refused', () => {
    expect(parse({}).success).toBe(false);
    expect(parse({ node: 'http://a:1', nodes: ['http://b:1'] }).success).toBe(false);
    expect(parse({ node: 'http://a:1', typo: 1 }).success).toBe(false);
    expect(parse({ node: 'ftp://a:1' }).success).toBe(false);
    expect(parse({ node: 'http://a:1', headers: { Accept: 'x' } }).error?.issues[0]?.message).toMatch(
      /compatibility/,
    );
    expect(parse({ node: 'http://a:1', compatibility: 7 }).success).toBe(false);
    expect(parse({ node: ['http://a:1', 'http://b:2'], compatibility: 8 }).success).toBe(true);
  });

  it('clientIds: true or false (default: absent, off); anything else is refused with what it means', () => {
    expect(parse({ node: 'http://a:1', clientIds: true }).data).toMatchObject({ clientIds: true });
    expect(parse({ node: 'http://a:1', clientIds: false }).data).toMatchObject({ clientIds: false });
    expect(parse({ node: 'http://a:1' }).data).not.toHaveProperty('clientIds');
    const wrong = parse({ node: 'http://a:1', clientIds: 'yes' }).error?.issues;
    expect(wrong?.map((i) => [i.path, i.message])).toEqual([
      [
        ['clientIds'],
        'clientIds is true (auto-id writes get a client-made id and create semantics) or false (the default)',
      ],
    ]);
  });

  it('recoveryConnectRate and recoverySettle: a rate ≥ 0 and a duration; anything else is refused with what it means', () => {
    expect(parse({ node: 'http://a:1', recoveryConnectRate: 0, recoverySettle: '2s' }).data).toMatchObject({
      recoveryConnectRate: 0,
      recoverySettle: 2000,
    });
    expect(parse({ node: 'http://a:1', recoverySettle: 1500 }).data).toMatchObject({ recoverySettle: 1500 });
    expect(parse({ node: 'http://a:1' }).data).not.toHaveProperty('recoveryConnectRate');
    const m = (input: Record<string, unknown>) =>
      parse({ node: 'http://a:1', ...input }).error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(m({ recoveryConnectRate: -1 })).toEqual([
      ['recoveryConnectRate', 'recoveryConnectRate cannot be negative (0 turns recovery pacing off)'],
    ]);
    expect(m({ recoveryConnectRate: 'fast' })?.[0]?.[1]).toMatch(
      /new sockets per second per node while it recovers/,
    );
    expect(m({ recoveryConnectRate: 20_000 })?.[0]?.[1]).toMatch(/use 0 to turn it off/);
    expect(m({ recoverySettle: 'soon' })?.[0]?.[0]).toBe('recoverySettle');
    expect(m({ recoverySettle: '1h' })?.[0]?.[1]).toMatch(/at most 10 minutes/);
  });

  it('credentials in a URL move to auth and never appear in a node address or describe()', () => {
    const o = elasticsearchOptionsSchema.parse({
      nodes: ['http://elastic:s3cr%40t@a:9200', 'http://elastic:s3cr%40t@b:9201'],
    });
    expect(o.auth).toEqual({ username: 'elastic', password: 's3cr@t' });
    const nodes = nodesOf(o);
    expect(nodes.map((n) => n.id)).toEqual(['http://a:9200', 'http://b:9201']);
    expect(JSON.stringify(nodes)).not.toContain('s3cr');
    expect(describeElasticsearchOptions(o)).toBe('http://a:9200,http://b:9201');
    expect(parse({ node: 'http://u:p@a:1', auth: { username: 'u', password: 'p' } }).success).toBe(false);
    expect(parse({ nodes: ['http://u:p@a:1', 'http://b:1'] }).success).toBe(false);
  });

  it('nodes keep roles and attributes; duplicates collapse; default ports by scheme', () => {
    const o = elasticsearchOptionsSchema.parse({
      nodes: [
        { url: 'https://es1.example', roles: ['data'], attributes: { zone: 'a' } },
        'https://es1.example:443/',
        'http://[::1]:9200',
      ],
    });
    expect(nodesOf(o)).toEqual([
      {
        id: 'https://es1.example:443',
        host: 'es1.example',
        port: 443,
        url: 'https://es1.example:443',
        roles: ['data'],
        attributes: { zone: 'a' },
      },
      { id: 'http://[::1]:9200', host: '::1', port: 9200, url: 'http://[::1]:9200' },
    ]);
    expect(
      describeElasticsearchOptions(
        elasticsearchOptionsSchema.parse({ node: 'http://a:1', compatibility: 8 }),
      ),
    ).toBe('http://a:1 (compatible-with=8)');
  });
});
