import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startElasticsearchCluster, type ElasticsearchCluster } from '../src/index.js';
import { closeClients, compatibleWith8, esClient, failure, rawHttp } from './elasticsearch/clients.js';

// REST API compatibility headers, as a 9.4 client sends them: `compatible-with=9` by default, and
// `compatible-with=8` when configured for an 8.x server (elasticsearch-js #2909).

const ops = async (client: ReturnType<typeof esClient>) => {
  await client.index({ index: 'compat', id: '1', document: { v: 1 }, refresh: true });
  const bulk = await client.bulk({
    operations: [{ index: { _index: 'compat', _id: '2' } }, { v: 2 }],
    refresh: true,
  });
  const search = await client.search({ index: 'compat', query: { term: { v: 2 } } });
  return { ping: await client.ping(), bulkErrors: bulk.errors, hits: search.hits.hits.map((h) => h._id) };
};

describe('Elasticsearch test cluster: compatibility headers', () => {
  let v9: ElasticsearchCluster;
  let v8: ElasticsearchCluster;
  beforeAll(async () => {
    [v9, v8] = await Promise.all([
      startElasticsearchCluster({ nodes: 1, version: '9.1.2' }),
      startElasticsearchCluster({ nodes: 1, version: '8.19.3' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([v9?.stop(), v8?.stop()]);
  });
  afterEach(closeClients);

  it('a 9.x server serves the 9.4 client as it comes (compatible-with=9)', async () => {
    const client = esClient({ node: v9.url });
    expect(await ops(client)).toEqual({ ping: true, bulkErrors: false, hits: ['2'] });
    const { headers } = await client.info({}, { meta: true });
    expect(headers['content-type']).toBe('application/vnd.elasticsearch+json;compatible-with=9');
    expect((await client.info()).version.number).toBe('9.1.2');
  });

  it('a 9.x server also serves the client configured for 8.x (compatible-with=8)', async () => {
    const client = esClient({ node: v9.url, headers: compatibleWith8 });
    expect(await ops(client)).toEqual({ ping: true, bulkErrors: false, hits: ['2'] });
    const { headers } = await client.info({}, { meta: true });
    expect(headers['content-type']).toBe('application/vnd.elasticsearch+json;compatible-with=8');
  });

  it('gzip-compressed request bodies (the client compression option) are read', async () => {
    const client = esClient({ node: v9.url, compression: true });
    await client.index({ index: 'gzip', id: 'z', document: { text: 'x'.repeat(2000) } });
    expect((await client.get<{ text: string }>({ index: 'gzip', id: 'z' }))._source!.text).toHaveLength(2000);
    expect(v9.writeLog().find((e) => e.index === 'gzip')?.source).toEqual({ text: 'x'.repeat(2000) });
  });

  it('an 8.x server serves the client configured for 8.x', async () => {
    const client = esClient({ node: v8.url, headers: compatibleWith8 });
    expect(await ops(client)).toEqual({ ping: true, bulkErrors: false, hits: ['2'] });
    expect((await client.info()).version.number).toBe('8.19.3');
  });

  it('an 8.x server rejects the unconfigured 9.x client with 400 media_type_header_exception', async () => {
    const client = esClient({ node: v8.url, maxRetries: 0 });
    const f = await failure(client.search({ index: 'compat', query: { match_all: {} } }));
    expect(f.statusCode).toBe(400);
    expect(f.type).toBe('media_type_header_exception');
    expect(f.body?.error?.reason).toBe('Invalid media-type value on headers [Accept, Content-Type]');
    expect(f.body?.error?.caused_by?.reason).toMatch(
      /^Accept version must be either version 8 or 7, but found 9\./,
    );
    expect(f.headers['x-elastic-product']).toBe('Elasticsearch');
    // The ping is a HEAD: the same 400, without a body.
    expect((await failure(client.ping())).statusCode).toBe(400);
  });

  it('Accept and Content-Type must agree when there is a body; plain application/json always works', async () => {
    const mismatch = await rawHttp(v9.port, 'POST', '/compat/_search', {
      headers: {
        accept: 'application/vnd.elasticsearch+json; compatible-with=8',
        'content-type': 'application/vnd.elasticsearch+json; compatible-with=9',
      },
      body: '{}',
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toContain('the compatible versions must match');
    const oneSided = await rawHttp(v9.port, 'POST', '/compat/_search', {
      headers: {
        accept: 'application/vnd.elasticsearch+json; compatible-with=9',
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(oneSided.status).toBe(400);
    for (const cluster of [v8, v9]) {
      const plain = await rawHttp(cluster.port, 'POST', '/compat/_search', {
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: '{"query":{"match_all":{}}}',
      });
      expect(plain.status).toBe(200);
      expect(plain.headers['content-type']).toBe('application/json');
    }
    const text = await rawHttp(v9.port, 'POST', '/compat/_search', {
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(406);
  });
});
