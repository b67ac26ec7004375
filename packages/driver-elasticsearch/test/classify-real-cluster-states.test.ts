import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startElasticsearchCluster, type ElasticsearchCluster } from '@reconnect/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { elasticsearchDriver, elasticsearchOptionsSchema, type ElasticsearchClient } from '../src/index.js';
import { connectContext } from './helpers.js';

// Rows of the classification table that classify-real.test.ts does not produce (issue #24's audit: every rule
// exercised by a real server): Elasticsearch's own 503s of a cluster without a master or without a data node, the
// 408 of a health wait that timed out, the client's request timeout on a slow node, and a 2xx from a server that is
// not Elasticsearch. Real node processes of the test cluster (and a plain HTTP server), the driver's own client.

const fail = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('expected an error'),
    (e: unknown) => e,
  );

describe('cluster states and slow or foreign servers, classified', () => {
  // node-1 the only master (no data), node-2 and node-3 data nodes (not master-eligible).
  let cluster: ElasticsearchCluster;
  const clients: ElasticsearchClient[] = [];
  beforeAll(async () => {
    cluster = await startElasticsearchCluster({
      nodes: [{ roles: ['master'] }, { roles: ['data'] }, { roles: ['data'] }],
    });
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => elasticsearchDriver.close(c)));
    await cluster.heal();
  });
  afterAll(() => cluster.stop());

  async function connect(url: string, extra: Record<string, unknown> = {}): Promise<ElasticsearchClient> {
    const client = await elasticsearchDriver.connect(
      elasticsearchOptionsSchema.parse({ node: url, ...extra }),
      connectContext(url, { retry: { attemptTimeout: '2s' } }),
    );
    clients.push(client);
    return client;
  }

  it('503 master_not_discovered_exception (the only master gone): transient, not sent', async () => {
    const client = await connect(cluster.nodes[1]!.url);
    await cluster.nodes[0]!.kill();
    const error = await fail(client.cluster.health({ master_timeout: '200ms' }));
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'transient',
      code: 'master_not_discovered_exception',
      statusCode: 503,
      sent: false,
    });
  });

  it('503 no_shard_available_action_exception (every data node gone): transient, not sent', async () => {
    const client = await connect(cluster.nodes[0]!.url);
    await client.index({ index: 'states', id: '1', document: { a: 1 }, refresh: true });
    await cluster.nodes[1]!.kill();
    await cluster.nodes[2]!.kill();
    const error = await fail(client.get({ index: 'states', id: '1' }));
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'transient',
      code: 'no_shard_available_action_exception',
      statusCode: 503,
      sent: false,
    });
  });

  it('408 (a health wait for a status not reached in time): timeout', async () => {
    const client = await connect(cluster.nodes[0]!.url);
    // Two replicas on two data nodes cannot all be assigned: the index stays yellow.
    await client.indices.create({ index: 'yellow', settings: { number_of_replicas: 2 } });
    const error = await fail(
      client.cluster.health({ index: 'yellow', wait_for_status: 'green', timeout: '200ms' }),
    );
    expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'timeout', code: 408, statusCode: 408 });
  });

  it("the client's request timeout on a node that answers too late: timeout REQUEST_TIMEOUT", async () => {
    const client = await connect(cluster.nodes[1]!.url);
    cluster.nodes[1]!.faults.latency(1500, { match: { path: '/slow' } });
    // The transport's own per-request timeout (a caller's `requestTimeout`), not the policy's abort signal.
    const error = await fail(client.search({ index: 'slow' }, { requestTimeout: 200 }));
    expect(elasticsearchDriver.classify(error)).toEqual({ kind: 'timeout', code: 'REQUEST_TIMEOUT' });
  });
});

describe('a server that is not Elasticsearch', () => {
  let server: Server;
  beforeAll(async () => {
    // Answers 200 with a JSON body, without x-elastic-product: a proxy's status page, another product.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a 2xx without x-elastic-product: ProductNotSupportedError, fatal, saying why', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = await elasticsearchDriver
      .connect(
        elasticsearchOptionsSchema.parse({ node: url }),
        connectContext(url, { retry: { attemptTimeout: '2s' } }),
      )
      .catch((e: unknown) => e);
    const error = client instanceof Error ? client : await fail((client as ElasticsearchClient).info());
    if (!(client instanceof Error)) await elasticsearchDriver.close(client as ElasticsearchClient);
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'fatal',
      code: 'PRODUCT_NOT_SUPPORTED',
      message: 'The server did not identify itself as Elasticsearch (no x-elastic-product header)',
    });
  });
});
