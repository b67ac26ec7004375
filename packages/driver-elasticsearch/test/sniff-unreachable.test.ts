import type { PolicyInput, Target } from '@reconnect/core';
import { faultNamed, startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ElasticsearchClient } from '../src/index.js';
import { esTarget, opStream, preset, stopTargets, until } from './helpers.js';

// The fault catalogue's `es-sniff-unreachable` (issue #24) with discovery on — the store preset does not sniff, so
// the fault matrix cannot show it: sniffing reports an address nothing listens on for every node, and node-1 is
// killed. A pool that took what sniffing said for its nodes would have no reachable node left; this one keeps the
// nodes it reaches, never sends to an address sniffing made up, and serves reads throughout.

/** preset:elasticsearch with discovery at start, every 300 ms and on faults; fast health and short waits. */
function sniffing(): PolicyInput {
  const base = preset('elasticsearch');
  return {
    ...base,
    retry: {
      ...base.retry,
      backoff: { type: 'exponential', base: '20ms', factor: 2, max: '200ms', jitter: 'none' },
      attemptTimeout: '500ms',
      deadline: '3s',
      budget: { enabled: false },
    },
    healthCheck: {
      ...base.healthCheck,
      interval: '250ms',
      timeout: '200ms',
      jitter: 0,
      failureThreshold: 1,
      query: 'GET /_cluster/health?local=true',
    },
    circuitBreaker: { enabled: false },
    pool: {
      ...base.pool,
      nodeFailureThreshold: 1,
      deadTimeout: '1s',
      discovery: { onStart: true, interval: '300ms', onFault: true },
    },
  };
}

/** A read that reports which node served it. */
const info = (t: Target<ElasticsearchClient>) =>
  t.execute((es, ctx) => es.info({}, { signal: ctx.signal }).then(() => ctx.node?.id), {
    idempotent: true,
    name: 'info',
  });

describe('es-sniff-unreachable with discovery on', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(() => stopTargets());

  it('keeps serving from the reachable nodes, never sends to a sniffed address nothing listens on, and takes node-1 back after heal', async () => {
    const c = cluster();
    const urls = c.nodes.map((n) => n.url);
    const t = esTarget(urls, sniffing());
    await t.start();
    await until(() => t.health().nodes.length === 3, 3000);
    const fault = await faultNamed('es-sniff-unreachable').start({
      store: 'elasticsearch',
      server: c,
      durationMs: 2000,
    });
    const bogus = c.nodes.map((n) => `http://${n.publishAddress}`);
    const reads = opStream(25, () => info(t));
    // Several discovery rounds (every 300 ms, and on the fault of node-1) see only the made-up addresses.
    await new Promise((r) => setTimeout(r, 2000));
    await reads.stop();
    const during = reads.results;
    // Discovery did run and met the made-up addresses of the two running nodes (node-1 left _nodes).
    const unreachable = (t.health().unreachable ?? []).map((u) => u.id);
    const nodesDuring = t.health().nodes.map((n) => n.id);
    await fault.heal();
    expect(unreachable).toEqual(expect.arrayContaining(bogus.slice(1)));
    for (const address of bogus) expect(nodesDuring).not.toContain(address);
    // Every read during the fault succeeded (after the one that met node-1's death, retried elsewhere).
    const failed = during.filter((r) => !r.ok);
    expect(failed, JSON.stringify(failed.slice(0, 3))).toHaveLength(0);
    const servedBy = new Set(during.map((r) => r.value));
    for (const address of bogus) expect(servedBy).not.toContain(address);
    expect(servedBy).not.toContain(urls[0]); // node-1 was down
    // After heal node-1 is served again.
    await until(async () => (await info(t)) === urls[0], 5000);
  });
});
