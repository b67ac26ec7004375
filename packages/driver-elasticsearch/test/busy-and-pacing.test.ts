import type { PolicyInput } from '@reconnect/core';
import { startElasticsearchCluster, startFaultProxy, useServer, type FaultProxy } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ElasticsearchClient } from '../src/index.js';
import { esTarget, preset, stopTargets } from './helpers.js';

// Issue 26, against the testkit's cluster with the real client: a node that answers 429 to the connect or to the
// health probe is busy, not down (the node answered); and a node's client paces its new sockets (connectRate: the
// first at once when it has none, each other one 1–1.5 × 1000 / connectRate ms after the one before), counted by a
// fault proxy in front of the node, which sees every TCP connection the client opens.

const root = { method: 'GET', path: /^\/$/ };
const healthPath = { path: '/_cluster/health' };

/** preset:elasticsearch with fast health checks (two failed probes, ~1 s, and a node is down). */
function policy(overrides: PolicyInput = {}): PolicyInput {
  const base = preset('elasticsearch');
  return {
    ...base,
    healthCheck: { enabled: true, interval: '500ms', timeout: '400ms', failureThreshold: 2, jitter: '0%' },
    ...overrides,
  };
}

const health = (c: ElasticsearchClient) => c.cluster.health();

describe('a node answering 429 is busy, not down (issue 26)', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 2 }), { heal: false });
  afterEach(async () => {
    await stopTargets();
    cluster().nodes.forEach((n) => n.faults.clear());
  });

  it('429 on the connect: the target starts connected at once, no reconnect; operations are served', async () => {
    const c = cluster();
    const rule = c.nodes[0]!.faults.tooManyRequests({ requests: 1, match: root });
    const t = esTarget([c.nodes[0]!.url], policy());
    const reconnects: unknown[] = [];
    t.on('reconnectFailed', (e) => reconnects.push(e));
    const started = Date.now();
    await t.start();
    expect(rule.hits).toBe(1);
    expect(t.state).toBe('connected');
    // Not backed off as a failed connect (preset:elasticsearch's reconnect waits ≥ 1 s after a failure).
    expect(Date.now() - started).toBeLessThan(1000);
    expect(reconnects).toEqual([]);
    await expect(t.execute(health, { idempotent: true })).resolves.toMatchObject({ status: 'green' });
  });

  it('429 on every connect of one node of two for 3 s: that node is used all the same', async () => {
    const c = cluster();
    const rule = c.nodes[0]!.faults.tooManyRequests({ forMs: 3000, match: root });
    const t = esTarget(
      c.nodes.map((n) => n.url),
      policy(),
    );
    await t.start();
    const started = Date.now();
    for (let i = 0; i < 6; i++) await t.execute(health, { idempotent: true });
    // Round robin over both nodes: the busy one answered its connect, so it is connected and serves its share (a
    // connect failure would have left it without a client, every operation going to the other node).
    expect(rule.hits).toBeGreaterThanOrEqual(1);
    const served = c
      .requests()
      .filter((r) => r.at >= started && r.url.startsWith('/_cluster/health') && r.outcome === 200);
    expect(served.filter((r) => r.nodeName === c.nodes[0]!.name).length).toBeGreaterThanOrEqual(2);
    // …while its connects were still answered 429.
    expect(rule.active).toBe(true);
    expect(t.health().nodes.map((n) => n.alive)).toEqual([true, true]);
  });

  it('429 on every health probe for 3 s: the target stays connected and its node up, reported busy', async () => {
    const c = cluster();
    const t = esTarget([c.nodes[0]!.url], policy());
    await t.start();
    const losses: unknown[] = [];
    t.on('disconnect', (e) => losses.push(e));
    const rule = c.nodes[0]!.faults.tooManyRequests({ forMs: 3000, match: healthPath });
    // More probes answered 429 than failureThreshold (2): as failures, they would have declared the node down.
    for (let i = 0; i < 150 && rule.hits < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(rule.hits).toBeGreaterThanOrEqual(3);
    expect(t.health().serverStatus).toBe('busy');
    expect(losses).toEqual([]);
    expect(t.state).toBe('connected');
    // An operation not matched by the rule is served meanwhile.
    await expect(t.execute((es) => es.info(), { idempotent: true })).resolves.toMatchObject({
      cluster_name: expect.any(String),
    });
  });
});

describe('a node client paces its new sockets (issue 26)', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 1 }), { heal: false });
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await stopTargets();
    await proxy?.close();
    proxy = undefined;
  });

  /** A started target whose one node is reached through a fault proxy (health checks off: only our requests). */
  async function throughProxy(connectRate: number) {
    const node = cluster().nodes[0]!;
    const p = await startFaultProxy({ target: { host: '127.0.0.1', port: node.port } });
    proxy = p;
    const t = esTarget([`http://127.0.0.1:${p.port}`], policy({ healthCheck: { enabled: false } }), {
      connectRate,
    });
    await t.start();
    return { t, p };
  }

  /** Sends `n` requests at once, each held 300 ms by the node, so that each needs a socket of its own. */
  async function burst(t: Awaited<ReturnType<typeof throughProxy>>['t'], n: number) {
    cluster().nodes[0]!.faults.latency(300, { requests: n, match: healthPath });
    await Promise.all(Array.from({ length: n }, () => t.execute(health, { idempotent: true })));
  }

  it('connectRate 4: a burst of 5 on a client with one socket: from its third socket on, at least 250 ms apart', async () => {
    const { t, p } = await throughProxy(4);
    p.resetStats();
    const started = Date.now();
    await burst(t, 5);
    const opened = p
      .stats()
      .connections.map((c) => c.openedAt)
      .filter((at) => at >= started);
    // At least 4 new sockets (5 requests held 300 ms each; the connect's socket is one); from the client's third
    // socket on (the first two are not held back), each a paced gap (250–375 ms) after the one before.
    expect(opened.length).toBeGreaterThanOrEqual(4);
    const gaps = opened.slice(2).map((at, i) => at - opened[i + 1]!);
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(240);
  });

  it('connectRate 0: the same burst opens its 4 sockets at once', async () => {
    const { t, p } = await throughProxy(0);
    p.resetStats();
    const started = Date.now();
    await burst(t, 5);
    const opened = p
      .stats()
      .connections.map((c) => c.openedAt)
      .filter((at) => at >= started);
    expect(opened.length).toBeGreaterThanOrEqual(4);
    // Less than one paced gap (250 ms) from the first to the last.
    expect(Math.max(...opened) - Math.min(...opened)).toBeLessThan(240);
    expect(Math.min(...opened) - started).toBeLessThan(240);
  });

  it('a client whose sockets were all cut connects its next one at once', async () => {
    const { t, p } = await throughProxy(0.5);
    // One socket open, so the next would wait 2–3 s; the node's connections are then cut (a restart, a proxy).
    p.reset();
    for (let i = 0; i < 50 && p.stats().active > 0; i++) await new Promise((r) => setTimeout(r, 10));
    p.resetStats();
    const started = Date.now();
    await t.execute(health, { idempotent: true });
    const opened = p
      .stats()
      .connections.map((c) => c.openedAt)
      .filter((at) => at >= started);
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened[0]! - started).toBeLessThan(500);
  });
});
