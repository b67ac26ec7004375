import {
  isOutcomeUnknownError,
  resolvePolicy,
  worstCaseDetectionMs,
  type PolicyInput,
  type Target,
} from '@reconnect/core';
import { freePort, startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { elasticsearchRequests, isAlreadyApplied, type ElasticsearchClient } from '../src/index.js';
import { esTarget, opStream, preset, stopTargets, until } from './helpers.js';
import { whenAccepting, whenAnswering } from './net.js';

// Issue 12's acceptance, against the testkit's 3-node Elasticsearch-protocol cluster with the real client.
// The policies are preset:elasticsearch with the timings shortened (a 60 s dead time does not fit a test run);
// each test names what it changes.

const fastHealth = { interval: '250ms', timeout: '200ms', jitter: 0, failureThreshold: 1 } as const;

/** preset:elasticsearch, health every 250 ms, short backoffs; `extra` on top. */
function policy(extra: PolicyInput = {}): PolicyInput {
  const base = preset('elasticsearch');
  return {
    ...base,
    ...extra,
    retry: {
      ...base.retry,
      backoff: { type: 'exponential', base: '20ms', factor: 2, max: '200ms', jitter: 'none' },
      attemptTimeout: '500ms',
      deadline: '3s',
      budget: { enabled: false },
      ...extra.retry,
    },
    healthCheck: {
      ...base.healthCheck,
      ...fastHealth,
      query: 'GET /_cluster/health?local=true',
      ...extra.healthCheck,
    },
    reconnect: {
      ...base.reconnect,
      backoff: { type: 'exponential', base: '50ms', max: '400ms', jitter: 'none' },
      ...extra.reconnect,
    },
    circuitBreaker: { enabled: false },
    pool: { ...base.pool, nodeFailureThreshold: 1, deadTimeout: '1s', ...extra.pool },
  };
}

/** An operation that reports which node served it. */
const info = (t: Target<ElasticsearchClient>) =>
  t.execute((es, ctx) => es.info({}, { signal: ctx.signal }).then(() => ctx.node?.id), {
    idempotent: true,
    name: 'info',
  });

describe('acceptance (issue 12): a 3-node cluster kept reachable and safe by policy', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(async () => {
    await stopTargets();
    await cluster().heal();
  });

  it("health() reports the cluster's status as each node's probe saw it", async () => {
    const t = esTarget(cluster().urls, policy({ healthCheck: { interval: '300ms', timeout: '200ms' } }));
    await t.start();
    await until(() => t.health().nodes.every((n) => n.status !== undefined), 3000);
    const h = t.health();
    expect(['green', 'yellow']).toContain(h.serverStatus);
    expect(h.nodes.map((n) => n.status)).toEqual([h.serverStatus, h.serverStatus, h.serverStatus]);
  });

  it('one node hung: requests keep succeeding on the others, none past its deadline; the node is dead within worstCaseDetectionMs', async () => {
    // Reads time out on the hung node and go elsewhere: timeouts are retried for reads (the preset does not).
    const p = policy({ retry: { retryOn: { errors: ['connection', 'timeout', 'throttled'] } } });
    const t = esTarget(cluster().urls, p);
    await t.start();
    const resolved = resolvePolicy(p);
    const hung = cluster().nodes[1]!;
    let deadAt: number | undefined;
    t.on('nodeDead', (e) => {
      if (e.node.id === hung.url && deadAt === undefined) deadAt = Date.now();
    });
    const ops = opStream(20, () => info(t));
    await new Promise((r) => setTimeout(r, 200));
    await hung.hang();
    const hungAt = Date.now();
    await until(() => deadAt !== undefined, 3000);
    await new Promise((r) => setTimeout(r, 1500));
    await ops.stop();
    await hung.resume();
    const during = ops.results.filter((r) => r.startedAt >= hungAt);
    const failed = during.filter((r) => !r.ok);
    const longest = Math.max(...during.map((r) => r.settledAt - r.startedAt));
    const detection = deadAt! - hungAt;
    const bound = worstCaseDetectionMs(resolved.healthCheck);
    console.log(
      `one node hung: ${during.length} requests, ${failed.length} failed, longest ${longest} ms (deadline ${resolved.retry.deadline}); node dead after ${detection} ms (worst case ${bound})`,
    );
    expect(during.length).toBeGreaterThan(30);
    expect(failed.map((r) => String(r.error))).toEqual([]);
    expect(longest).toBeLessThanOrEqual(resolved.retry.deadline);
    expect(detection).toBeLessThanOrEqual(bound + 200);
    // Once dead, the hung node gets no more requests: every later one is served by the others.
    const late = during.filter((r) => r.startedAt > deadAt! + 50);
    expect(late.length).toBeGreaterThan(10);
    expect(late.every((r) => r.value !== hung.url)).toBe(true);
    expect(t.isConnected()).toBe(true);
  });

  for (const variant of ['health check on', 'health check off'] as const) {
    it(`one node killed and restarted (${variant}): traffic returns to it as the policy says`, async () => {
      // With health checks the node's next successful probe brings it back; without them it waits out its
      // dead time (1 s) and a resurrection ping on the first call after it decides.
      const checks = variant === 'health check on';
      const p = policy({
        pool: { deadTimeout: '1s', resurrect: 'ping' },
        ...(checks ? {} : { healthCheck: { enabled: false } }),
      });
      const t = esTarget(cluster().urls, p);
      await t.start();
      const node = cluster().nodes[2]!;
      let deadAt: number | undefined;
      let resurrectedAt: number | undefined;
      t.on('nodeDead', (e) => {
        if (e.node.id === node.url && deadAt === undefined) deadAt = Date.now();
      });
      t.on('nodeResurrected', (e) => {
        if (e.node.id === node.url) resurrectedAt = Date.now();
      });
      const ops = opStream(20, () => info(t));
      await new Promise((r) => setTimeout(r, 200));
      await node.kill();
      await until(() => deadAt !== undefined, 3000);
      await node.restart();
      const restartedAt = Date.now();
      await until(
        () => ops.results.some((r) => r.ok && r.value === node.url && r.startedAt > restartedAt),
        5000,
      );
      await ops.stop();
      const back = Math.min(
        ...ops.results
          .filter((r) => r.ok && r.value === node.url && r.startedAt > deadAt!)
          .map((r) => r.startedAt),
      );
      console.log(
        `node killed (${variant}): dead at +0, restarted at +${restartedAt - deadAt!} ms, resurrected at +${resurrectedAt! - deadAt!} ms, first request served by it at +${back - deadAt!} ms (dead time 1000 ms, health interval 250 ms)`,
      );
      if (checks) {
        // The first probe after the restart: within one interval + timeout (+ slack for the event loop).
        expect(resurrectedAt! - restartedAt).toBeLessThanOrEqual(250 + 200 + 200);
      } else {
        // Not before its dead time, and by the first call after it (a call every 20 ms, then the ping).
        expect(resurrectedAt! - deadAt!).toBeGreaterThanOrEqual(950);
        expect(resurrectedAt! - deadAt!).toBeLessThanOrEqual(1000 + 300);
      }
      expect(back).toBeGreaterThanOrEqual(resurrectedAt! - 5);
      // Requests during the outage kept succeeding elsewhere (connection errors are retried on another node).
      expect(ops.results.filter((r) => !r.ok).map((r) => String(r.error))).toEqual([]);
    });
  }

  it('all nodes down, then back: the first success comes within 300 ms of the first node accepting connections', async () => {
    // Waiting calls bring a reconnect attempt forward at most once per minProbeGap: 50 ms (fast-failover's),
    // so the wait for the next attempt is not most of the 300 ms.
    const p = policy({ retry: { deadline: '10s' }, reconnect: { minProbeGap: '50ms' } });
    const t = esTarget(cluster().urls, p);
    await t.start();
    let allDead = 0;
    let disconnects = 0;
    t.on('allNodesDead', () => allDead++);
    t.on('disconnect', () => disconnects++);
    const ops = opStream(20, () => info(t));
    await new Promise((r) => setTimeout(r, 200));
    await cluster().kill();
    await until(() => !t.isConnected(), 3000);
    await new Promise((r) => setTimeout(r, 2000));
    const accepting = cluster().nodes.map((n) => whenAccepting(n.port));
    const answering = cluster().nodes.map((n) => whenAnswering(n.port));
    await cluster().restart();
    const firstAccepted = Math.min(...(await Promise.all(accepting.map((a) => a.at))));
    const firstAnswered = Math.min(...(await Promise.all(answering.map((a) => a.at))));
    await until(() => ops.firstSuccessAfter(firstAccepted) !== undefined, 5000);
    await ops.stop();
    const recovery = ops.firstSuccessAfter(firstAccepted)! - firstAccepted;
    console.log(
      `all nodes down 2 s: first success ${recovery} ms after the first node accepted connections (it answered its first request ${firstAnswered - firstAccepted} ms after accepting)`,
    );
    expect(recovery).toBeLessThanOrEqual(300);
    expect(t.isConnected()).toBe(true);
    // Said once for the outage, not on every call (olivere/elastic logs "all nodes dead" on every call): the
    // target goes down once; the pool's all-dead offer, if calls met it before, is said at most once.
    expect(disconnects).toBe(1);
    expect(allDead).toBeLessThanOrEqual(1);
  });

  it('discovery with an unreachable publish address: no request is ever sent to it, and it is reported', async () => {
    const c = cluster();
    const unreachable = await freePort();
    c.nodes[2]!.setPublishAddress(`127.0.0.1:${unreachable}`);
    const t = esTarget(
      [c.nodes[0]!.url],
      policy({ pool: { discovery: { onStart: true, interval: false, onFault: false } } }),
    );
    await t.start();
    await until(() => (t.health().unreachable ?? []).length > 0 && t.health().nodes.length === 2, 3000);
    const bogus = `http://127.0.0.1:${unreachable}`;
    expect(
      t
        .health()
        .nodes.map((n) => n.id)
        .sort(),
    ).toEqual([c.nodes[0]!.url, c.nodes[1]!.url].sort());
    expect(t.health().unreachable).toEqual([
      {
        id: bogus,
        error: expect.objectContaining({ message: expect.stringMatching(/ECONNREFUSED/) }),
        at: expect.any(Number),
      },
    ]);
    const served = await Promise.all(Array.from({ length: 30 }, () => info(t)));
    expect(new Set(served)).toEqual(new Set([c.nodes[0]!.url, c.nodes[1]!.url]));
    expect(served).not.toContain(bogus);
  });

  it('a discovered node that leaves the cluster leaves the pool at once, and its in-flight request still ends normally', async () => {
    const c = cluster();
    const leaving = c.nodes[2]!;
    const t = esTarget(
      [c.nodes[0]!.url],
      policy({
        retry: { attemptTimeout: '3s', deadline: '5s' },
        pool: { discovery: { onStart: true, interval: '300ms', onFault: false } },
      }),
    );
    await t.start();
    await until(() => t.health().nodes.length === 3, 3000);
    // Three searches at once, one per node (round-robin); the one on the node about to leave answers 1 s later.
    const setup = elasticsearchRequests(t);
    await setup.request({ method: 'PUT', path: '/slow-leave' });
    leaving.faults.latency(1000, { requests: 1, match: { path: '/slow-leave/_search' } });
    const searches = Promise.all(
      [0, 1, 2].map(() =>
        t.execute(
          (es, ctx) =>
            es
              .search({ index: 'slow-leave' }, { signal: ctx.signal })
              .then((r) => ({ node: ctx.node?.id, hits: r.hits.hits.length })),
          { idempotent: true, name: 'slow' },
        ),
      ),
    );
    await until(
      () => c.requests().some((r) => r.nodeName === leaving.name && r.url.startsWith('/slow-leave/_search')),
      3000,
    );
    // The node's address leaves _nodes (it now publishes another, unreachable one).
    const gone = await freePort();
    leaving.setPublishAddress(`127.0.0.1:${gone}`);
    const changedAt = Date.now();
    await until(() => !t.health().nodes.some((n) => n.id === leaving.url), 3000);
    const removedAt = Date.now();
    const results = await searches;
    const settledAt = Date.now();
    console.log(
      `node left the cluster: out of the pool ${removedAt - changedAt} ms after its address changed; its in-flight search settled ${settledAt - removedAt} ms later:`,
      results,
    );
    // The in-flight search on the leaving node was answered (not cut by closing its client), on that node.
    expect(results.map((r) => r.node).sort()).toEqual(c.urls.slice().sort());
    expect(settledAt).toBeGreaterThan(removedAt);
    const served = await Promise.all(Array.from({ length: 12 }, () => info(t)));
    expect(served).not.toContain(leaving.url);
    const later = c
      .requests()
      .filter(
        (r) => r.nodeName === leaving.name && r.at > removedAt + 50 && !r.url.startsWith('/slow-leave'),
      );
    expect(later).toEqual([]);
  });

  it('a POST _doc whose answer is lost (reset mid-response) is not replayed: one document, outcome unknown', async () => {
    const c = cluster();
    const t = esTarget(c.urls, policy());
    await t.start();
    const es = elasticsearchRequests(t);
    for (const n of c.nodes)
      n.faults.resetMidResponse({ requests: 1, match: { method: 'POST', path: '/orders/_doc' } });
    const error = await es.index({ index: 'orders', document: { op: 'post-1' } }).catch((e: unknown) => e);
    expect(isOutcomeUnknownError(error), String(error)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const writes = c.writeLog().filter((e) => e.index === 'orders');
    expect(writes).toHaveLength(1);
    expect(c.documents('orders')).toHaveLength(1);
    expect(c.duplicateWrites()).toEqual([]);
  });

  it('a create retried after the same fault ends in one document and a success (already applied)', async () => {
    const c = cluster();
    const t = esTarget(c.urls, policy());
    await t.start();
    const es = elasticsearchRequests(t);
    for (const n of c.nodes)
      n.faults.resetMidResponse({ requests: 1, match: { path: '/orders/_create/o-2' } });
    const result = await es.create({ index: 'orders', id: 'o-2', document: { op: 'create-2' } });
    expect(isAlreadyApplied(result)).toBe(true);
    expect(result).toMatchObject({ _index: 'orders', _id: 'o-2', result: 'created' });
    const writes = c.writeLog().filter((e) => e.id === 'o-2');
    expect(writes).toHaveLength(1);
    expect(c.documents('orders').filter((d) => d.id === 'o-2')).toHaveLength(1);
    // A create whose first attempt is refused (the document already exists) is still a conflict.
    const again = await es
      .create({ index: 'orders', id: 'o-2', document: { op: 'create-3' } })
      .catch((e: unknown) => e);
    expect((again as { meta?: { statusCode?: number } }).meta?.statusCode).toBe(409);
  });

  it('a bulk with per-item 429s ends with every item applied exactly once; succeeded items are never resent', async () => {
    const c = cluster();
    const t = esTarget(c.urls, policy());
    await t.start();
    const es = elasticsearchRequests(t);
    // Every node rejects the first 2 items of its next bulk: the rejected items go round three nodes.
    for (const n of c.nodes) n.faults.rejectBulkItems(2, { requests: 1 });
    const operations = [1, 2, 3, 4, 5, 6].flatMap(
      (n): object[] =>
        n % 2 === 0
          ? [{ create: { _index: 'bulk-429', _id: `c${n}` } }, { op: `bulk-${n}` }]
          : [{ index: { _index: 'bulk-429' } }, { op: `bulk-${n}` }], // no _id: a replay would duplicate
    );
    const before = c.requests().length;
    const result = await es.bulk(operations);
    expect(result.errors).toBe(false);
    expect(result.items.map((i) => i.outcome)).toEqual(Array(6).fill('applied'));
    expect(result.rounds).toBe(4);
    expect(result.items.map((i) => i.attempts)).toEqual([4, 4, 1, 1, 1, 1]);
    const docs = c.documents('bulk-429').map((d) => (d.source as { op: string }).op);
    expect(docs.sort()).toEqual(['bulk-1', 'bulk-2', 'bulk-3', 'bulk-4', 'bulk-5', 'bulk-6']);
    expect(c.duplicateWrites()).toEqual([]);
    const bulks = c
      .requests()
      .slice(before)
      .filter((r) => r.url.startsWith('/_bulk'));
    expect(bulks.map((r) => r.outcome)).toEqual([200, 200, 200, 200]);
  });

  it('429 is retried after its Retry-After; a 503 is retried on another node', async () => {
    const c = cluster();
    const t = esTarget(c.urls, policy({ retry: { deadline: '5s' } }));
    await t.start();
    const es = elasticsearchRequests(t);
    for (const n of c.nodes)
      n.faults.tooManyRequests({ retryAfterSeconds: 1, requests: 1, match: { path: '/throttled' } });
    const started = Date.now();
    const answer = await es.index({ index: 'throttled', id: 't1', document: { a: 1 } });
    const took = Date.now() - started;
    expect(answer).toMatchObject({ result: 'created' });
    expect(took).toBeGreaterThanOrEqual(950);
    for (const n of c.nodes) n.faults.unavailable({ requests: 1, match: { path: '/unavailable' } });
    const before = c.requests().length;
    await es.index({ index: 'unavailable', id: 'u1', document: { a: 1 } });
    const seen = c
      .requests()
      .slice(before)
      .filter((r) => r.url.startsWith('/unavailable'));
    // Every node answers its first such request with 503: each retry goes to another node until one succeeds.
    expect(seen.at(-1)!.outcome).toBe(201);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.slice(0, -1).every((r) => r.outcome === 503)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.nodeName).not.toBe(seen[i - 1]!.nodeName);
  });

  it('timeouts are retried only when the policy says so', async () => {
    const c = cluster();
    const count = () => c.requests().filter((r) => r.url.startsWith('/never/_search')).length;
    for (const n of c.nodes) n.faults.neverAnswer({ match: { path: '/never/_search' } });
    // preset:elasticsearch: retryOn.errors [connection, throttled] — a timed-out search is not retried.
    const plain = esTarget(c.urls, policy({ retry: { attemptTimeout: '300ms' } }));
    await plain.start();
    const error = await elasticsearchRequests(plain)
      .search({ index: 'never' })
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ERR_ATTEMPT_TIMEOUT');
    expect(count()).toBe(1);
    // With timeout listed, it is retried (on the other nodes) until maxRetries.
    const retrying = esTarget(
      c.urls,
      policy({ retry: { attemptTimeout: '300ms', retryOn: { errors: ['connection', 'timeout'] } } }),
    );
    await retrying.start();
    await elasticsearchRequests(retrying)
      .search({ index: 'never' })
      .catch(() => undefined);
    expect(count()).toBe(1 + 4);
  });

  it("the caller's AbortSignal and deadline reach the request on a hung node", async () => {
    const node = cluster().nodes[0]!;
    const t = esTarget([node.url], policy({ retry: { attemptTimeout: '10s', deadline: '10s' } }));
    await t.start();
    const es = elasticsearchRequests(t);
    node.faults.neverAnswer({ match: { path: '/slow/_search' } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('caller gave up')), 200);
    const started = Date.now();
    const aborted = await es
      .search({ index: 'slow' }, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(700);
    expect(aborted).toBeInstanceOf(Error);
    const started2 = Date.now();
    const late = await es.search({ index: 'slow' }, { deadline: 300 }).catch((e: unknown) => e);
    expect(Date.now() - started2).toBeLessThan(800);
    expect((late as { code?: string }).code).toMatch(
      /ERR_DEADLINE_EXCEEDED|ERR_RETRIES_EXHAUSTED|ERR_ATTEMPT_TIMEOUT/,
    );
  });
});
