import { afterEach, describe, expect, it } from 'vitest';
import { startElasticsearchCluster, useServer } from '../src/index.js';
import { closeClients, esClient, failure, rawHttp } from './elasticsearch/clients.js';

// `security`: a cluster that refuses requests without the right credentials, as Elasticsearch with security on.

describe('Elasticsearch test cluster: security', () => {
  const cluster = useServer(() =>
    startElasticsearchCluster({
      nodes: 2,
      security: { users: [{ username: 'elastic', password: 'changeme' }], apiKeys: ['a2V5OnNlY3JldA=='] },
    }),
  );
  afterEach(closeClients);

  it('basic auth and API keys pass; missing or wrong credentials get 401 security_exception with WWW-Authenticate', async () => {
    const url = cluster().url;
    expect(
      (await esClient({ node: url, auth: { username: 'elastic', password: 'changeme' } }).info()).name,
    ).toBe('node-1');
    expect((await esClient({ node: url, auth: { apiKey: 'a2V5OnNlY3JldA==' } }).info()).name).toBe('node-1');
    const wrong = await failure(
      esClient({ node: url, auth: { username: 'elastic', password: 'nope' } }).info(),
    );
    expect(wrong.statusCode).toBe(401);
    expect(wrong.type).toBe('security_exception');
    expect(wrong.body?.error?.reason).toMatch(/unable to authenticate user/);
    const missing = await rawHttp(cluster().port, 'GET', '/');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/Basic realm="security"/);
    expect(JSON.parse(missing.body).error.reason).toMatch(/missing authentication credentials/);
    // Refused requests are recorded, and nothing is written.
    expect(
      cluster()
        .requests()
        .some((r) => r.outcome === 401),
    ).toBe(true);
    const write = await failure(esClient({ node: url }).index({ index: 'x', document: { a: 1 } }));
    expect(write.statusCode).toBe(401);
    expect(cluster().writeLog()).toHaveLength(0);
  });

  it('a restarted node still checks credentials', async () => {
    const node = cluster().nodes[1]!;
    await node.kill();
    await node.restart();
    expect((await rawHttp(node.port, 'GET', '/')).status).toBe(401);
  });
});
