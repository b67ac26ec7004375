import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startElasticsearchCluster, type ElasticsearchCluster } from '../elasticsearch/cluster.js';
import { faultNamed } from './catalogue.js';

// The catalogue's Elasticsearch faults on a real test cluster, checked with plain HTTP (no client that could retry
// or route around them): each takes effect while active, and heal() leaves the cluster as it found it.

const json = { 'content-type': 'application/json' };
const ndjson = { 'content-type': 'application/x-ndjson' };

async function call(url: string, method: string, body?: string, headers = json) {
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return {
    status: res.status,
    type: (JSON.parse(text || '{}') as { error?: { type?: string; durability?: string } }).error,
  };
}

describe('Elasticsearch faults of the catalogue', () => {
  let cluster: ElasticsearchCluster;
  beforeAll(async () => {
    cluster = await startElasticsearchCluster({ nodes: 3, refreshIntervalMs: 0 });
  });
  afterEach(() => cluster.heal());
  afterAll(() => cluster.stop());
  const env = () => ({ store: 'elasticsearch' as const, server: cluster, durationMs: 1000 });
  const doc = (n: number) => `${cluster.nodes[n]!.url}/f/_doc`;

  it('es-circuit-transient: every request on every node is 429 TRANSIENT; served again after heal', async () => {
    const fault = await faultNamed('es-circuit-transient').start(env());
    for (const n of [0, 1, 2]) {
      const r = await call(`${cluster.nodes[n]!.url}/`, 'GET');
      expect(r.status).toBe(429);
      expect(r.type).toMatchObject({ type: 'circuit_breaking_exception', durability: 'TRANSIENT' });
    }
    expect(fault.acted?.()).toBe(3);
    await fault.heal();
    expect((await call(`${cluster.nodes[0]!.url}/`, 'GET')).status).toBe(200);
  });

  it('es-circuit-permanent and es-cluster-block refuse writes unapplied and serve reads', async () => {
    for (const [name, status, type] of [
      ['es-circuit-permanent', 429, 'circuit_breaking_exception'],
      ['es-cluster-block', 403, 'cluster_block_exception'],
    ] as const) {
      const fault = await faultNamed(name).start(env());
      expect(await call(doc(1), 'POST', '{"a":1}')).toMatchObject({ status, type: { type } });
      expect((await call(`${cluster.nodes[2]!.url}/f/_create/x`, 'PUT', '{"a":1}')).status).toBe(status);
      expect((await call(`${cluster.nodes[0]!.url}/_cluster/health`, 'GET')).status).toBe(200);
      expect(cluster.documents('f')).toHaveLength(0);
      expect(fault.acted?.()).toBe(2);
      await fault.heal();
      expect((await call(doc(1), 'POST', '{"a":1}')).status).toBe(201);
      await call(`${cluster.nodes[0]!.url}/f`, 'DELETE');
    }
  });

  it('es-bulk-node-leaves: a bulk lands in part and its answer is cut; node-1 leaves 1 s in and heal brings it back', async () => {
    const fault = await faultNamed('es-bulk-node-leaves').start(env());
    const body = ['{"index":{"_index":"b"}}', '{"p":0}', '{"index":{"_index":"b"}}', '{"p":1}', ''].join(
      '\n',
    );
    await expect(call(`${cluster.nodes[1]!.url}/_bulk`, 'POST', body, ndjson)).rejects.toThrow();
    expect(cluster.documents('b').map((d) => d.source)).toEqual([{ p: 1 }]); // the first item refused, the second landed
    expect(fault.acted?.()).toBe(1);
    await new Promise((r) => setTimeout(r, 1300));
    expect(cluster.nodes[0]!.status).toBe('killed');
    await fault.heal();
    expect(cluster.nodes[0]!.status).toBe('running');
    expect((await call(`${cluster.nodes[1]!.url}/_bulk`, 'POST', body, ndjson)).status).toBe(200);
  });

  it('es-sniff-unreachable: _nodes publishes addresses nothing listens on and node-1 is down; heal restores both', async () => {
    const published = async () => {
      const res = await fetch(`${cluster.nodes[1]!.url}/_nodes/http`);
      const body = (await res.json()) as { nodes: Record<string, { http: { publish_address: string } }> };
      return Object.values(body.nodes).map((n) => n.http.publish_address);
    };
    const before = await published();
    const fault = await faultNamed('es-sniff-unreachable').start(env());
    const during = await published();
    expect(during).toHaveLength(2); // node-1 left
    for (const address of during) {
      expect(before).not.toContain(address);
      await expect(fetch(`http://${address}/`)).rejects.toThrow();
    }
    await fault.heal();
    expect((await published()).sort()).toEqual(before.sort());
  });
});
