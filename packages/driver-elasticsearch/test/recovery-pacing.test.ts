import type { PolicyInput } from '@reconnect/core';
import { startElasticsearchCluster, startFaultProxy, useServer, type FaultProxy } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ElasticsearchClient } from '../src/index.js';
import { esTarget, preset, stopTargets, until } from './helpers.js';

// Issue 26, against the testkit's cluster with the real client and the driver's defaults (no pacing option given):
// a healthy node's client opens a burst's sockets at once; a node's client that lost its node (stopped, then
// restarted) paces its new sockets (recoveryConnectRate 5: up to two at once, each other one 200–300 ms after the
// one before, while requests wait in undici's pool queue for the first free socket) until it has connected without
// a failure for recoverySettle (5 s). A fault proxy in front of the node counts every TCP connection it opens.

const healthPath = { path: '/_cluster/health' };
const health = (c: ElasticsearchClient) => c.cluster.health();

/** preset:elasticsearch with fast health checks (two failed probes, ~1 s, and the node is down). */
function policy(): PolicyInput {
  return {
    ...preset('elasticsearch'),
    healthCheck: { enabled: true, interval: '500ms', timeout: '400ms', failureThreshold: 2, jitter: '0%' },
    reconnect: { backoff: { type: 'fixed', base: '200ms', jitter: 'none' } },
  };
}

describe('a node client paces its new sockets while its node recovers, by default (issue 26)', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 1 }));
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await stopTargets();
    await proxy?.close();
    proxy = undefined;
  });

  /** A started target whose one node is reached through a fault proxy, with the driver's default options. */
  async function throughProxy(extra: Record<string, unknown> = {}) {
    const node = cluster().nodes[0]!;
    const p = await startFaultProxy({ target: { host: '127.0.0.1', port: node.port } });
    proxy = p;
    const t = esTarget([`http://127.0.0.1:${p.port}`], policy(), extra);
    await t.start();
    return { t, p };
  }

  /** Sends `n` requests at once, each held 300 ms by the node, so that each needs a socket of its own. */
  async function burst(t: Awaited<ReturnType<typeof throughProxy>>['t'], n: number) {
    cluster().nodes[0]!.faults.latency(300, { requests: n, match: healthPath });
    await Promise.all(Array.from({ length: n }, () => t.execute(health, { idempotent: true })));
  }

  /** When the connections the proxy accepted from `since` on were opened, in order. */
  const openedSince = (p: FaultProxy, since: number) =>
    p
      .stats()
      .connections.map((c) => c.openedAt)
      .filter((at) => at >= since)
      .sort((a, b) => a - b);

  /**
   * A burst of 8 (each held 300 ms) not paced: at least 6 new sockets (the client had one or two), the first 6 within
   * one paced gap (a health probe that comes while all are busy may open one more later).
   */
  async function expectUnpacedBurst(t: Awaited<ReturnType<typeof throughProxy>>['t'], p: FaultProxy) {
    const started = Date.now();
    await burst(t, 8);
    const opened = openedSince(p, started);
    expect(opened.length).toBeGreaterThanOrEqual(6);
    expect(opened[5]! - started).toBeLessThan(190);
  }

  it('a healthy node: a burst of 8 opens its sockets at once', async () => {
    const { t, p } = await throughProxy();
    await expectUnpacedBurst(t, p);
  });

  /**
   * A burst of 8 (each held 300 ms) on a recovering client. Unpaced, it opens 6–8 new sockets at once. Paced, the
   * client (one or two sockets from its reconnect) grows by one socket every 200–300 ms while requests wait, and the
   * waiting requests go to the first socket that frees up: a few new sockets, each a paced gap after the one before,
   * and the burst answered by then (no request waits for a socket of its own: 8 × 300 ms over ≥ 3 sockets).
   */
  async function expectPacedBurst(t: Awaited<ReturnType<typeof throughProxy>>['t'], p: FaultProxy) {
    const started = Date.now();
    await burst(t, 8);
    const took = Date.now() - started;
    const opened = openedSince(p, started);
    expect(opened.length).toBeGreaterThanOrEqual(2);
    expect(opened.length).toBeLessThanOrEqual(4);
    const gaps = opened.slice(1).map((at, i) => at - opened[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1500);
  }

  /** Stops the node, waits for the target to see it down, restarts it and waits for the target to reconnect. */
  async function outage(t: Awaited<ReturnType<typeof throughProxy>>['t']) {
    const node = cluster().nodes[0]!;
    await node.kill();
    await until(() => t.state !== 'connected', 5000);
    await node.restart();
    await until(() => t.state === 'connected', 10_000);
  }

  it('after the node was stopped and restarted: a burst of 8 grows the client by one socket a turn (≥ 200 ms apart), each request served by the first socket free', async () => {
    const { t, p } = await throughProxy();
    await outage(t);
    await expectPacedBurst(t, p);
  });

  it('a client kept through the outage (no health checks): after the restart, a burst of 8 is paced the same way', async () => {
    const node = cluster().nodes[0]!;
    const p = await startFaultProxy({ target: { host: '127.0.0.1', port: node.port } });
    proxy = p;
    const t = esTarget([`http://127.0.0.1:${p.port}`], { ...policy(), healthCheck: { enabled: false } });
    await t.start();
    // Warm: the client's pool holds 8 undici clients with a socket each.
    await burst(t, 8);
    await node.kill();
    await node.restart();
    await until(() => p.stats().active === 0, 5000);
    expect(t.state).toBe('connected');
    // Its 8 undici clients lost their sockets to the node's side closing them: recovering. Each would reconnect at
    // once for a request of the burst (or hold that request for its paced connect); they are dropped, and the
    // requests wait for the first socket free while the pool grows a turn at a time.
    await expectPacedBurst(t, p);
  });

  it('recoverySettle after the node came back, a burst is not paced any more; recoveryConnectRate 0 never paces', async () => {
    const settled = await throughProxy({ recoverySettle: '1s' });
    await outage(settled.t);
    await new Promise((r) => setTimeout(r, 1200));
    await expectUnpacedBurst(settled.t, settled.p);
    await stopTargets();
    await settled.p.close();

    const off = await throughProxy({ recoveryConnectRate: 0 });
    await outage(off.t);
    await expectUnpacedBurst(off.t, off.p);
  });
});
