import { afterEach, describe, expect, it } from 'vitest';
import { startElasticsearchCluster, useServer } from '../src/index.js';
import { closeClients, esClient, failure, rawHttp } from './elasticsearch/clients.js';

// The REST subset, through the real client: documents, versions, search, bulk, health, nodes.

describe('Elasticsearch test cluster: the REST subset', () => {
  const cluster = useServer(
    () =>
      startElasticsearchCluster({
        nodes: [
          { name: 'master-1', roles: ['master'] },
          { name: 'data-1', roles: ['data', 'ingest'] },
          { name: 'data-2', roles: ['data', 'ingest', 'master'] },
        ],
        refreshIntervalMs: 0, // only explicit refreshes, so "not yet searchable" is deterministic
      }),
    { heal: false },
  );
  afterEach(async () => {
    await closeClients();
    await cluster().heal();
  });
  const on = (name: string, extra: object = {}) =>
    esClient({ node: cluster().node(name).url, maxRetries: 0, ...extra });

  it('a master-only node is possible; _nodes/http and _nodes/_all/http list roles and publish addresses', async () => {
    const c = cluster();
    const all = await on('data-1').nodes.info({ node_id: '_all', metric: 'http' });
    const http = await on('master-1').nodes.info({ metric: 'http' });
    expect(Object.keys(all.nodes).sort()).toEqual(Object.keys(http.nodes).sort());
    const master = all.nodes[c.node('master-1').id]!;
    expect(master.roles).toEqual(['master']);
    expect(master.http!.publish_address).toBe(`127.0.0.1:${c.node('master-1').port}`);
    const local = await on('data-2').nodes.info({ node_id: '_local', metric: 'http' });
    expect(Object.values(local.nodes).map((n) => n.name)).toEqual(['data-2']);
    const health = await on('master-1').cluster.health();
    expect(health).toMatchObject({
      number_of_nodes: 3,
      number_of_data_nodes: 2,
      cluster_name: 'testkit-cluster',
    });
  });

  it('index, create, get, exists, delete, with versions, seq_no and primary_term', async () => {
    const a = on('data-1');
    const b = on('master-1');
    const first = await a.index({ index: 'docs', id: '1', document: { n: 1 } });
    expect(first).toMatchObject({ result: 'created', _version: 1, _seq_no: 0, _primary_term: 1 });
    const second = await a.index({ index: 'docs', id: '1', document: { n: 2 } });
    expect(second).toMatchObject({ result: 'updated', _version: 2, _seq_no: 1 });
    const got = await b.get({ index: 'docs', id: '1' });
    expect(got).toMatchObject({ found: true, _version: 2, _seq_no: 1, _primary_term: 1, _source: { n: 2 } });
    const conflict = await failure(b.create({ index: 'docs', id: '1', document: { n: 3 } }));
    expect(conflict.statusCode).toBe(409);
    expect(conflict.type).toBe('version_conflict_engine_exception');
    expect(conflict.body?.error?.reason).toBe(
      '[1]: version conflict, document already exists (current version [2])',
    );
    expect(await b.exists({ index: 'docs', id: '1' })).toBe(true);
    expect(await b.exists({ index: 'docs', id: 'nope' })).toBe(false);
    expect((await b.delete({ index: 'docs', id: '1' })).result).toBe('deleted');
    expect((await failure(b.get({ index: 'docs', id: '1' }))).statusCode).toBe(404);
    expect((await failure(b.delete({ index: 'docs', id: '1' }))).body).toMatchObject({ result: 'not_found' });
    const missing = await failure(b.get({ index: 'no-such-index', id: '1' }));
    expect(missing.type).toBe('index_not_found_exception');
    // A delete leaves a tombstone: the next write continues the version.
    expect((await a.index({ index: 'docs', id: '1', document: { n: 4 } }))._version).toBe(4);
  });

  it('if_seq_no / if_primary_term: a stale pair is a 409 conflict', async () => {
    const a = on('data-2');
    const w = await a.index({ index: 'cas', id: 'k', document: { n: 1 } });
    const cas = { if_seq_no: w._seq_no!, if_primary_term: w._primary_term! };
    const ok = await a.index({
      index: 'cas',
      id: 'k',
      document: { n: 2 },
      ...cas,
    });
    expect(ok._version).toBe(2);
    const stale = await failure(
      a.index({
        index: 'cas',
        id: 'k',
        document: { n: 3 },
        ...cas,
      }),
    );
    expect(stale.statusCode).toBe(409);
    expect(stale.body?.error?.reason).toBe(
      `[k]: version conflict, required seqNo [${w._seq_no}], primary term [1]. current document has seqNo [${ok._seq_no}] and primary term [1]`,
    );
  });

  it('search sees refreshed documents only; match_all, term, bool, sort, from/size, count', async () => {
    const a = on('data-1');
    await a.index({ index: 'books', id: 'b1', document: { genre: 'sf', year: 1965 } });
    expect((await a.search({ index: 'books' })).hits.total).toEqual({ value: 0, relation: 'eq' });
    expect((await a.get({ index: 'books', id: 'b1' })).found).toBe(true); // GET is real time
    await a.index({ index: 'books', id: 'b2', document: { genre: 'sf', year: 1951 } });
    await a.index({ index: 'books', id: 'b3', document: { genre: 'crime', year: 1934 } });
    await a.indices.refresh({ index: 'books' });
    expect(
      (await a.search({ index: 'books', query: { match_all: {} } })).hits.hits.map((h) => h._id),
    ).toEqual(['b1', 'b2', 'b3']);
    const sf = await a.search({ index: 'books', query: { term: { genre: 'sf' } }, sort: [{ year: 'asc' }] });
    expect(sf.hits.hits.map((h) => h._id)).toEqual(['b2', 'b1']);
    const bool = await a.search({
      index: 'books',
      query: { bool: { filter: [{ term: { genre: 'sf' } }], must_not: [{ term: { year: 1951 } }] } },
    });
    expect(bool.hits.hits.map((h) => h._id)).toEqual(['b1']);
    expect((await a.search({ index: 'books', from: 1, size: 1 })).hits.hits.map((h) => h._id)).toEqual([
      'b2',
    ]);
    expect((await a.count({ index: 'books', query: { term: { genre: 'sf' } } })).count).toBe(2);
    expect((await a.count({ index: 'books' })).count).toBe(3);
    const unknown = await failure(a.search({ index: 'books', query: { fuzzy: { genre: 'sf' } } }));
    expect(unknown.type).toBe('parsing_exception');
    expect((await failure(a.search({ index: 'nope' }))).type).toBe('index_not_found_exception');
  });

  it('bulk: per-item status and errors: true on partial failure', async () => {
    const a = on('data-1');
    await a.index({ index: 'bulk-api', id: 'x', document: { n: 0 } });
    const result = await a.bulk({
      operations: [
        { index: { _index: 'bulk-api', _id: 'y' } },
        { n: 1 },
        { create: { _index: 'bulk-api', _id: 'x' } },
        { n: 2 },
        { delete: { _index: 'bulk-api', _id: 'x' } },
        { index: { _index: 'bulk-api' } },
        { n: 3 },
      ],
    });
    expect(result.errors).toBe(true);
    expect(result.items.map((i) => Object.values(i)[0]!.status)).toEqual([201, 409, 200, 201]);
    expect(result.items[1]!.create!.error!.type).toBe('version_conflict_engine_exception');
    const onlyMissingDelete = await a.bulk({
      operations: [{ delete: { _index: 'bulk-api', _id: 'never' } }],
    });
    expect(onlyMissingDelete.errors).toBe(false);
    expect(onlyMissingDelete.items[0]!.delete!.status).toBe(404);
  });

  it('cluster health follows the nodes: green, yellow, red; no master: 503 unless local=true', async () => {
    const c = cluster();
    const m = on('master-1');
    await m.indices.create({ index: 'health', settings: { number_of_replicas: 1 } });
    expect((await m.cluster.health()).status).toBe('green');
    await c.node('data-2').kill();
    expect(await m.cluster.health()).toMatchObject({
      status: 'yellow',
      number_of_nodes: 2,
      number_of_data_nodes: 1,
    });
    const waited = await failure(m.cluster.health({ wait_for_status: 'green', timeout: '200ms' }));
    expect(waited.statusCode).toBe(408);
    await c.node('data-1').kill();
    expect((await m.cluster.health()).status).toBe('red');
    const write = await failure(m.index({ index: 'health', document: { n: 1 } }));
    expect(write).toMatchObject({ statusCode: 503, type: 'unavailable_shards_exception' });
    await c.node('data-1').restart();
    await c.node('master-1').kill(); // data-2 (master-eligible) is down too: no master left
    const d1 = on('data-1');
    const started = performance.now();
    const noMaster = await failure(d1.cluster.health({ master_timeout: '200ms' }));
    expect(noMaster).toMatchObject({ statusCode: 503, type: 'master_not_discovered_exception' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect((await d1.cluster.health({ local: true })).number_of_nodes).toBe(1);
    const blocked = await failure(d1.index({ index: 'health', document: { n: 1 } }));
    expect(blocked).toMatchObject({ statusCode: 503, type: 'cluster_block_exception' });
    expect(
      await d1
        .get({ index: 'health', id: 'x' })
        .catch((e: { meta: { statusCode: number } }) => e.meta.statusCode),
    ).toBe(404);
  });

  it('the write log records each applied write with the request that caused it', async () => {
    const c = cluster();
    const a = on('data-2');
    await a.index({ index: 'audit', id: 'w1', document: { op: 'a' }, refresh: true }, { opaqueId: 'req-a' });
    const entry = c.writeLog().find((e) => e.index === 'audit')!;
    expect(entry).toMatchObject({
      action: 'index',
      id: 'w1',
      autoId: false,
      result: 'created',
      version: 1,
      source: { op: 'a' },
      request: { nodeName: 'data-2', method: 'PUT', url: '/audit/_doc/w1?refresh=true', opaqueId: 'req-a' },
    });
    await a.bulk({
      operations: [{ index: { _index: 'audit' } }, { op: 'b' }, { index: { _index: 'audit' } }, { op: 'c' }],
    });
    const items = c.writeLog().filter((e) => e.index === 'audit' && e.request.bulkItem !== undefined);
    expect(items.map((e) => [e.request.bulkItem, e.autoId, e.request.url])).toEqual([
      [0, true, '/_bulk'],
      [1, true, '/_bulk'],
    ]);
    expect(items[0]!.request.requestId).toBe(items[1]!.request.requestId);
  });

  it('unknown routes answer like Elasticsearch: 400 no handler found', async () => {
    const r = await rawHttp(cluster().port, 'GET', '/_no_such_api');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toEqual({
      error: 'no handler found for uri [/_no_such_api] and method [GET]',
      status: 400,
    });
    expect((await rawHttp(cluster().port, 'GET', '/_nodes/stats')).status).toBe(400); // not nodes info
    expect((await rawHttp(cluster().port, 'DELETE', '/')).status).toBe(405);
  });
});

describe('Elasticsearch test cluster: host/ip:port publish addresses', () => {
  const cluster = useServer(() =>
    startElasticsearchCluster({ nodes: 2, publishAddressForm: 'host/ip:port' }),
  );
  afterEach(closeClients);

  it('are reported as localhost/127.0.0.1:port, and the client sniffs them to http://localhost:port', async () => {
    const c = cluster();
    const client = esClient({ node: c.nodes[0]!.url });
    const info = await client.nodes.info({ node_id: '_all', metric: 'http' });
    expect(info.nodes[c.nodes[1]!.id]!.http!.publish_address).toBe(`localhost/127.0.0.1:${c.nodes[1]!.port}`);
    const sniffed = new Promise<string[]>((resolve, reject) =>
      client.diagnostic.on('sniff', (error, result) => {
        if (error !== null) reject(error);
        else resolve(result!.meta.sniff!.hosts.map((h: { url: URL }) => h.url.href));
      }),
    );
    client.transport.sniff({ reason: 'test', requestId: 1, context: null });
    expect((await sniffed).sort()).toEqual(c.nodes.map((n) => `http://localhost:${n.port}/`).sort());
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add((await client.info()).name);
    expect([...names].sort()).toEqual(['node-1', 'node-2']);
  });
});
