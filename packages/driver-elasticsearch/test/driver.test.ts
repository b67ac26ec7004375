import { freePort, startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { elasticsearchDriver, lastClusterHealth, stateOf } from '../src/driver-internals.js';
import { connectContext, until } from './helpers.js';

/** The cause chain of an error, outermost first. */
function causes(error: unknown): { code?: unknown }[] {
  const chain: { code?: unknown }[] = [];
  for (let c = (error as { cause?: unknown }).cause; typeof c === 'object' && c !== null;) {
    chain.push(c);
    c = (c as { cause?: unknown }).cause;
  }
  return chain;
}

const fast = { retry: { attemptTimeout: '500ms' }, reconnect: { connectTimeout: '500ms' } } as const;

describe('elasticsearchDriver on the testkit cluster (real @elastic/elasticsearch client)', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(() => cluster().heal());

  it('connects one client per node with maxRetries 0, no sniffing and requestTimeout = attemptTimeout', async () => {
    const node = cluster().nodes[1]!;
    const client = await elasticsearchDriver.connect(
      elasticsearchDriver.options.parse({ node: cluster().urls }),
      connectContext(node.url, fast),
    );
    try {
      expect(stateOf(client)?.node.id).toBe(node.url);
      const transport = client.transport as unknown as Record<symbol, unknown>;
      const sym = (name: string) =>
        Object.getOwnPropertySymbols(transport).find((s) => s.description === name)!;
      expect(transport[sym('max retries')]).toBe(0);
      expect(transport[sym('request timeout')]).toBe(500);
      expect(transport[sym('sniff enabled')]).toBe(false);
      expect(transport[sym('sniff on connection fault')]).toBe(false);
      expect(client.connectionPool.size).toBe(1);
      await elasticsearchDriver.probe(client, { signal: new AbortController().signal });
      expect(lastClusterHealth(client)?.status).toBe('green');
      const before = cluster().requests().length;
      await elasticsearchDriver.probe(client, { signal: new AbortController().signal });
      const probe = cluster().requests().slice(before)[0]!;
      expect(probe).toMatchObject({ method: 'GET', url: '/_cluster/health?local=true', nodeName: 'node-2' });
    } finally {
      await elasticsearchDriver.close(client);
    }
  });

  it('a refused port fails connect with ConnectionError classified connection / ECONNREFUSED / not sent', async () => {
    const port = await freePort();
    const error = await elasticsearchDriver
      .connect(
        elasticsearchDriver.options.parse({ node: `http://127.0.0.1:${port}` }),
        connectContext(`http://127.0.0.1:${port}`, fast),
      )
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('ConnectionError');
    expect(elasticsearchDriver.classify(error)).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
    // Read from the socket error's code, which the driver's connection keeps as the cause (not the message).
    expect(causes(error).map((c) => c.code)).toContain('ECONNREFUSED');
  });

  it('failures keep undici’s error as their cause: a reset mid-answer is lost in flight, a too large answer fatal', async () => {
    const node = cluster().nodes[0]!;
    const client = await elasticsearchDriver.connect(
      elasticsearchDriver.options.parse({ node: node.url }),
      connectContext(node.url, fast),
    );
    try {
      node.faults.resetMidResponse({ match: { path: '/reset-here' }, requests: 1 });
      const reset = await client.search({ index: 'reset-here' }).catch((e: unknown) => e);
      expect((reset as Error).name).toBe('ConnectionError');
      expect(causes(reset).map((c) => c.code)).toContain('ECONNRESET');
      expect(elasticsearchDriver.classify(reset)).toEqual({ kind: 'connection', code: 'ECONNRESET' });
      const tooLarge = await client.info({}, { maxResponseSize: 10 }).catch((e: unknown) => e);
      expect((tooLarge as Error).name).toBe('RequestAbortedError');
      expect(causes(tooLarge).map((c) => c.code)).toContain('RESPONSE_TOO_LARGE');
      expect(elasticsearchDriver.classify(tooLarge)).toEqual({ kind: 'fatal', code: 'RESPONSE_TOO_LARGE' });
      // A request its signal cut is a RequestAbortedError caused by the signal's reason, whatever that is.
      node.faults.neverAnswer({ match: { path: '/never-here' }, requests: 1 });
      const reason = new Error('cut by the test');
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 50);
      const cut = await client
        .search({ index: 'never-here' }, { signal: controller.signal })
        .catch((e: unknown) => e);
      expect((cut as Error).name).toBe('RequestAbortedError');
      expect(causes(cut)).toContain(reason);
      expect(elasticsearchDriver.classify(cut)).toEqual({ kind: 'timeout', code: 'ABORTED' });
    } finally {
      await elasticsearchDriver.close(client);
    }
  });

  it('probe honours its signal on a hung node', async () => {
    const node = cluster().nodes[0]!;
    const client = await elasticsearchDriver.connect(
      elasticsearchDriver.options.parse({ node: node.url }),
      connectContext(node.url, { retry: { attemptTimeout: '10s' } }),
    );
    try {
      await node.hang();
      const started = Date.now();
      const error = await elasticsearchDriver
        .probe(client, { signal: AbortSignal.timeout(200) })
        .catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(elasticsearchDriver.classify(error).kind).toBe('timeout');
    } finally {
      await node.resume();
      await elasticsearchDriver.close(client);
    }
  });

  it('discover reads _nodes/_all/http: every node, roles and attributes, the publish address it reports', async () => {
    const c = cluster();
    const client = await elasticsearchDriver.connect(
      elasticsearchDriver.options.parse({ node: c.url }),
      connectContext(c.url, fast),
    );
    try {
      c.nodes[2]!.setPublishAddress(`localhost/127.0.0.1:${c.nodes[2]!.port}`);
      const found = await elasticsearchDriver.discover!(client, { signal: AbortSignal.timeout(2000) });
      expect(found.map((n) => n.id).sort()).toEqual(
        [c.nodes[0]!.url, c.nodes[1]!.url, `http://localhost:${c.nodes[2]!.port}`].sort(),
      );
      const third = found.find((n) => n.host === 'localhost')!;
      expect(third.roles).toEqual(['data', 'ingest', 'master']);
      expect(third.attributes).toMatchObject({ name: 'node-3', 'es.id': c.nodes[2]!.id });
    } finally {
      await elasticsearchDriver.close(client);
    }
    await until(() => true);
  });
});
