import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startElasticsearchCluster, useServer, type ElasticsearchCluster } from '../src/index.js';
import { isAlive } from '../src/cleanup/process-group.js';
import { waitFor } from '../src/util/wait.js';
import { closeClients, esClient, failure, rawHttp } from './elasticsearch/clients.js';
import { connectOutcome, rawConnect, record } from './helpers/raw.js';

// Every fault of the Elasticsearch test cluster, shown with the real @elastic/elasticsearch client.

describe('Elasticsearch test cluster: faults seen by the real client', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(async () => {
    await closeClients();
    await cluster().heal();
  });
  const one = (i: number, extra: object = {}) =>
    esClient({ node: cluster().nodes[i]!.url, maxRetries: 0, ...extra });

  it('three nodes are three real processes with their own id, name and roles', async () => {
    const c = cluster();
    expect(c.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(new Set(c.nodes.map((n) => n.pid)).size).toBe(3);
    expect(new Set(c.nodes.map((n) => n.id)).size).toBe(3);
    for (const n of c.nodes) expect(isAlive(n.pid!)).toBe(true);
    const infos = await Promise.all(c.nodes.map((_, i) => one(i).info()));
    expect(infos.map((i) => i.name)).toEqual(['node-1', 'node-2', 'node-3']);
    const nodes = (await one(0).nodes.info({ metric: 'http' })).nodes;
    expect(Object.keys(nodes).sort()).toEqual(c.nodes.map((n) => n.id).sort());
    expect(nodes[c.nodes[1]!.id]!.roles).toEqual(['data', 'ingest', 'master']);
  });

  it('a killed node refuses connections while the others answer; restart() serves on the same port', async () => {
    const node = cluster().nodes[1]!;
    await node.kill();
    expect(node.status).toBe('killed');
    expect(await connectOutcome(node.port)).toBe('ECONNREFUSED');
    const refused = await failure(one(1).ping());
    expect(refused.name).toBe('ConnectionError');
    expect(await one(0).ping()).toBe(true);
    expect(await one(2).ping()).toBe(true);
    await node.restart();
    expect(await one(1).ping()).toBe(true);
  });

  it('the store survives the crash of the node that took the write', async () => {
    await one(0).index({ index: 'survive', id: 'a', document: { n: 1 } });
    await cluster().nodes[0]!.kill();
    const doc = await one(1).get({ index: 'survive', id: 'a' });
    expect(doc._source).toEqual({ n: 1 });
    await cluster().nodes[0]!.restart();
    expect((await one(0).get({ index: 'survive', id: 'a' }))._source).toEqual({ n: 1 });
  });

  it('a hung node accepts TCP but never answers while the others do', async () => {
    const node = cluster().nodes[2]!;
    await node.hang();
    expect(node.status).toBe('hung');
    const socket = await rawConnect(node.port); // the kernel still accepts
    socket.destroy();
    const before = cluster().requests().length;
    const started = performance.now();
    const hung = await failure(one(2, { requestTimeout: 400 }).ping());
    expect(hung.name).toBe('TimeoutError');
    expect(performance.now() - started).toBeGreaterThanOrEqual(380);
    expect(await one(0).ping()).toBe(true);
    expect(await one(1).ping()).toBe(true);
    const seen = cluster().requests().slice(before);
    expect(seen.filter((r) => r.method === 'HEAD').map((r) => r.nodeName)).toEqual(['node-1', 'node-2']);
  });

  it('fault rules are set in the coordinator, so they work on a node that is SIGSTOPped', async () => {
    const node = cluster().nodes[2]!;
    await node.hang();
    // Set while the process is stopped. GET only: a ping the previous test left queued in the stopped
    // process reaches the coordinator on resume, like any request a hung node held.
    const rule = node.faults.unavailable({ requests: 1, match: { method: 'GET' } });
    await node.resume();
    const first = await failure(one(2).info());
    expect(first.statusCode).toBe(503);
    expect(first.type).toBe('unavailable_shards_exception');
    expect(rule.hits).toBe(1);
    expect(rule.active).toBe(false);
    expect((await one(2).info()).name).toBe('node-3');
  });

  it('503 for the next N requests: the client sees it, then the node answers again', async () => {
    cluster().nodes[0]!.faults.unavailable({ requests: 2 });
    for (let i = 0; i < 2; i++) {
      const f = await failure(one(0).info());
      expect(f.statusCode).toBe(503);
      expect(f.type).toBe('unavailable_shards_exception');
      expect(f.headers['x-elastic-product']).toBe('Elasticsearch');
    }
    expect((await one(0).info()).name).toBe('node-1');
  });

  it('503 on one node: the transport retries on another node and succeeds', async () => {
    const c = cluster();
    c.nodes[0]!.faults.unavailable();
    const client = esClient({ nodes: [c.nodes[0]!.url, c.nodes[1]!.url], maxRetries: 3 });
    const before = c.requests().length;
    for (let i = 0; i < 4; i++) expect(await client.info()).toHaveProperty('cluster_name', 'testkit-cluster');
    const seen = c.requests().slice(before);
    expect(seen.some((r) => r.nodeName === 'node-1' && r.outcome === 503)).toBe(true);
    expect(seen.filter((r) => r.nodeName === 'node-2' && r.outcome === 200).length).toBeGreaterThanOrEqual(4);
  });

  it('429 es_rejected_execution_exception carries Retry-After, and the transport does not retry it', async () => {
    const c = cluster();
    c.nodes[0]!.faults.tooManyRequests({ retryAfterSeconds: 7, requests: 1 });
    const before = c.requests().length;
    const f = await failure(
      esClient({ node: c.nodes[0]!.url, maxRetries: 3 }).index({ index: 'throttled', document: { a: 1 } }),
    );
    expect(f.statusCode).toBe(429);
    expect(f.type).toBe('es_rejected_execution_exception');
    expect(f.headers['retry-after']).toBe('7');
    expect(c.requests().length - before).toBe(1);
    expect(c.writeLog().filter((e) => e.index === 'throttled')).toHaveLength(0);
  });

  it('a fault for a duration ends by itself', async () => {
    const rule = cluster().nodes[0]!.faults.unavailable({ forMs: 300 });
    expect((await failure(one(0).ping())).statusCode).toBe(503);
    await waitFor('the rule to expire', () => !rule.active, { timeoutMs: 3000 });
    expect(await one(0).ping()).toBe(true);
  });

  it('faults can be limited to matching requests', async () => {
    cluster().nodes[0]!.faults.unavailable({ match: { method: 'POST', path: /\/_search$/ } });
    expect(await one(0).ping()).toBe(true);
    await one(0).index({ index: 'matched', id: '1', document: { a: 1 }, refresh: true });
    expect((await failure(one(0).search({ index: 'matched', query: { match_all: {} } }))).statusCode).toBe(
      503,
    );
  });

  it('added latency holds the answer; other nodes are not slowed', async () => {
    cluster().nodes[0]!.faults.latency(300);
    const started = performance.now();
    expect(await one(0).ping()).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const record = cluster().requests().at(-1)!;
    expect(record).toMatchObject({ nodeName: 'node-1', delayMs: 300, outcome: 200 });
  });

  it('bulk reports per-item 429s (errors: true); helpers.bulk retries them and every document lands once', async () => {
    const c = cluster();
    c.nodes[0]!.faults.rejectBulkItems(2, { requests: 1 });
    const result = await one(0).bulk({
      operations: [1, 2, 3, 4].flatMap((n) => [{ index: { _index: 'bulk', _id: `d${n}` } }, { n }]),
    });
    expect(result.errors).toBe(true);
    expect(result.items.map((i) => i.index!.status)).toEqual([429, 429, 201, 201]);
    expect(result.items[0]!.index!.error!.type).toBe('es_rejected_execution_exception');
    expect(c.documents('bulk').map((d) => d.id)).toEqual(['d3', 'd4']);

    c.nodes[0]!.faults.rejectBulkItems(1, { requests: 2 });
    const stats = await one(0).helpers.bulk({
      datasource: [5, 6, 7].map((n) => ({ n, key: `h${n}` })),
      onDocument: () => ({ create: { _index: 'bulk-helper' } }),
      retries: 3,
      wait: 10,
    });
    expect(stats.successful).toBe(3);
    expect(stats.failed).toBe(0);
    expect(
      c
        .documents('bulk-helper')
        .map((d) => (d.source as { key: string }).key)
        .sort(),
    ).toEqual(['h5', 'h6', 'h7']);
    expect(c.duplicateWrites()).toEqual([]);
  });

  it('sniffing returns the configured unreachable publish address, and the client then fails on it', async () => {
    const c = cluster();
    const unreachable = await freePort(); // nothing listens there once freePort() closed it
    c.nodes[1]!.setPublishAddress(`127.0.0.1:${unreachable}`);
    const info = await one(0).nodes.info({ node_id: '_all', metric: 'http' });
    expect(info.nodes[c.nodes[1]!.id]!.http!.publish_address).toBe(`127.0.0.1:${unreachable}`);

    const client = esClient({ node: c.nodes[0]!.url, maxRetries: 0 });
    const sniffed = new Promise<string[]>((resolve, reject) =>
      client.diagnostic.on('sniff', (error, result) => {
        if (error !== null) reject(error);
        else resolve(result!.meta.sniff!.hosts.map((h: { url: URL }) => h.url.href));
      }),
    );
    client.transport.sniff({ reason: 'test', requestId: 1, context: null });
    const hosts = await sniffed;
    expect(hosts).toContain(`http://127.0.0.1:${unreachable}/`);
    expect(hosts).toContain(`${c.nodes[0]!.url}/`);
    // Round robin over the sniffed pool reaches the unreachable address: a connection error.
    const outcomes = await Promise.all([0, 1, 2].map(() => failure(client.info())));
    expect(outcomes.map((o) => o.name)).toContain('ConnectionError');
  });

  it('publish addresses are loopback only', () => {
    const node = cluster().nodes[0]!;
    for (const bad of [
      '10.0.0.5:9200',
      '192.168.1.20:9200',
      '8.8.8.8:9200',
      'example.com/127.0.0.1:9200',
      'localhost/10.1.1.1:9200',
    ])
      expect(() => node.setPublishAddress(bad)).toThrow(RangeError);
    node.setPublishAddress('localhost/127.0.0.1:1');
    expect(node.publishAddress).toBe('localhost/127.0.0.1:1');
    node.setPublishAddress(undefined);
    expect(node.publishAddress).toBe(`127.0.0.1:${node.port}`);
  });

  it('a replayed POST _doc after a reset mid-response makes a second document, visible in the write log', async () => {
    const c = cluster();
    c.nodes[0]!.faults.resetMidResponse({ requests: 1, match: { method: 'POST', path: '/orders/_doc' } });
    const client = esClient({ nodes: [c.nodes[0]!.url, c.nodes[1]!.url], maxRetries: 3 });
    const answer = await client.index({ index: 'orders', document: { op: 'op-1' } });
    expect(answer.result).toBe('created');
    const writes = c.writeLog().filter((e) => e.index === 'orders');
    expect(writes).toHaveLength(2);
    expect(new Set(writes.map((w) => w.id)).size).toBe(2);
    expect(
      writes.every((w) => w.autoId && w.request.method === 'POST' && w.request.url === '/orders/_doc'),
    ).toBe(true);
    expect(writes[0]!.request.nodeName).toBe('node-1');
    expect(writes[1]!.request.requestId).toBeGreaterThan(writes[0]!.request.requestId);
    const dupes = c.duplicateWrites().filter((d) => d.index === 'orders');
    expect(dupes).toHaveLength(1);
    expect(dupes[0]!.ids).toHaveLength(2);
    expect(c.documents('orders')).toHaveLength(2);
    expect(c.requests().some((r) => r.nodeName === 'node-1' && r.outcome === 'reset')).toBe(true);
  });

  it('a replayed PUT _doc/{id} writes the same document twice: version 2, no second document', async () => {
    const c = cluster();
    c.nodes[0]!.faults.resetMidResponse({ requests: 1, match: { method: 'PUT' } });
    const client = esClient({ nodes: [c.nodes[0]!.url, c.nodes[1]!.url], maxRetries: 3 });
    const answer = await client.index({ index: 'idem', id: 'k1', document: { op: 'op-2' } });
    expect(answer._version).toBe(2);
    expect(c.documents('idem')).toHaveLength(1);
    const dupes = c.duplicateWrites().filter((d) => d.index === 'idem');
    expect(dupes[0]!.ids).toEqual(['k1']);
    expect(dupes[0]!.entries.map((e) => e.result)).toEqual(['created', 'updated']);
  });

  it('reset mid-response: a raw client gets the status line, part of the body, then an RST', async () => {
    const node = cluster().nodes[0]!;
    node.faults.resetMidResponse({ requests: 1, afterBytes: 20 });
    const socket = await rawConnect(node.port);
    const rec = record(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await rec.waitEnd(3000)).toBe('ECONNRESET');
    const text = rec.data().toString('utf8');
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBeLessThanOrEqual(20);
  });

  it('never answer: the process runs, the connection stays open, nothing comes back', async () => {
    const c = cluster();
    const node = c.nodes[0]!;
    node.faults.neverAnswer({ requests: 1 });
    const f = await failure(one(0, { requestTimeout: 400 }).info());
    expect(f.name).toBe('TimeoutError');
    expect(node.status).toBe('running');
    expect(isAlive(node.pid!)).toBe(true);
    expect(c.requests().at(-1)).toMatchObject({ nodeName: 'node-1', outcome: 'never-answered' });
    expect((await one(0).info()).name).toBe('node-1');
  });

  it('never answer with apply: the write lands, the acknowledgement never comes', async () => {
    const c = cluster();
    c.nodes[0]!.faults.neverAnswer({ requests: 1, apply: true });
    const f = await failure(
      one(0, { requestTimeout: 400 }).index({ index: 'lost-ack', document: { op: 'x' } }),
    );
    expect(f.name).toBe('TimeoutError');
    expect(c.documents('lost-ack')).toHaveLength(1);
  });

  it('x-elastic-product is on every response: HEAD, 404, fault 503', async () => {
    const port = cluster().nodes[0]!.port;
    const head = await rawHttp(port, 'HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.headers['x-elastic-product']).toBe('Elasticsearch');
    const missing = await rawHttp(port, 'GET', '/nope/_doc/1');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-elastic-product']).toBe('Elasticsearch');
    cluster().nodes[0]!.faults.unavailable({ requests: 1 });
    const fault = await rawHttp(port, 'GET', '/');
    expect(fault.status).toBe(503);
    expect(fault.headers['x-elastic-product']).toBe('Elasticsearch');
  });

  it('heal() clears faults, resumes and restarts', async () => {
    const c = cluster();
    c.nodes[0]!.faults.unavailable();
    await c.nodes[1]!.kill();
    await c.nodes[2]!.hang();
    expect(c.status).toBe('hung');
    await c.heal();
    expect(c.status).toBe('running');
    expect(c.nodes[0]!.faults.active()).toEqual([]);
    await sleep(0);
    expect(await Promise.all([0, 1, 2].map((i) => one(i).ping()))).toEqual([true, true, true]);
  });
});

export type { ElasticsearchCluster };
