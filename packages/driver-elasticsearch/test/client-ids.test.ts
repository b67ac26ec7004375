import { isOutcomeUnknownError, type PolicyInput } from '@reconnect/core';
import { startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { elasticsearchRequests, isAlreadyApplied, type WriteResult } from '../src/index.js';
import { esTarget, preset, stopTargets, until } from './helpers.js';

// Issue #27: with `clientIds: true`, writes whose id the cluster would make (index without id, POST _doc, bulk index
// without _id) get an id made once per call and create semantics, so a replay after a lost answer is refused with 409
// and reported as applied: every such write ends in exactly one document, none `unknown`. Without it, nothing changes.

/** preset:elasticsearch with short timings (health every 250 ms, as in acceptance.test.ts). */
function policy(extra: PolicyInput['retry'] = {}): PolicyInput {
  const base = preset('elasticsearch');
  return {
    ...base,
    retry: {
      ...base.retry,
      backoff: { type: 'exponential', base: '20ms', factor: 2, max: '200ms', jitter: 'none' },
      attemptTimeout: '500ms',
      deadline: '4s',
      budget: { enabled: false },
      ...extra,
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
    pool: { ...base.pool, nodeFailureThreshold: 1, deadTimeout: '1s' },
  };
}

describe('clientIds: auto-id writes that are never unknown', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(async () => {
    await stopTargets();
    await cluster().heal();
  });

  const docs = (index: string) => cluster().documents(index);
  const writes = (index: string) =>
    cluster()
      .writeLog()
      .filter((e) => e.index === index);

  /** On every node, the next `perNode` requests matching `path` apply and lose their answer (reset mid-response). */
  function loseAnswers(path: RegExp | string, perNode = 1) {
    return cluster().nodes.map((n) => n.faults.resetMidResponse({ requests: perNode, match: { path } }));
  }
  const hits = (rules: { hits: number }[]) => rules.reduce((sum, r) => sum + r.hits, 0);

  it('without the setting nothing changes: a POST _doc whose answer is lost is not replayed and ends unknown', async () => {
    const t = esTarget(cluster().urls, policy());
    await t.start();
    const es = elasticsearchRequests(t);
    const rules = loseAnswers('/plain-ids/_doc');
    const error = await es.index({ index: 'plain-ids', document: { n: 1 } }).catch((e: unknown) => e);
    expect(isOutcomeUnknownError(error), String(error)).toBe(true);
    expect(hits(rules)).toBe(1);
    expect(writes('plain-ids')).toMatchObject([{ action: 'index', autoId: true }]);
    expect(
      cluster()
        .requests()
        .filter((r) => r.url.startsWith('/plain-ids')),
    ).toHaveLength(1);
  });

  /** A target on the first node only (so a replay goes where the answer was lost), with `clientIds: true`. */
  async function oneNode(clientIds = true) {
    const t = esTarget([cluster().nodes[0]!.url], policy(), clientIds ? { clientIds: true } : {});
    await t.start();
    return elasticsearchRequests(t);
  }
  /** The next request matching `path` on the first node applies and loses its answer (reset mid-response). */
  const loseNext = (path: RegExp | string) =>
    cluster().nodes[0]!.faults.resetMidResponse({ requests: 1, match: { path } });

  it('index() without an id: a write whose answer is lost is replayed with the same id and resolves as applied; one document each', async () => {
    const es = await oneNode();
    const results: WriteResult[] = [];
    const lost: { hits: number }[] = [];
    for (let n = 0; n < 6; n++) {
      // Every other write loses its first answer (client.index with an id and op_type=create: PUT _doc/{id}).
      if (n % 2 === 1) lost.push(loseNext(/^\/cid-index\/_doc\//));
      results.push(await es.index({ index: 'cid-index', document: { n } }));
    }
    expect(lost.map((r) => r.hits)).toEqual([1, 1, 1]);
    expect(results.map(isAlreadyApplied)).toEqual([false, true, false, true, false, true]);
    const ids = results.map((r) => r._id);
    for (const [n, r] of results.entries())
      expect(r).toEqual(
        n % 2 === 1
          ? {
              alreadyApplied: true,
              _index: 'cid-index',
              _id: ids[n],
              result: 'created',
              reason: 'version_conflict_engine_exception',
            }
          : expect.objectContaining({ _index: 'cid-index', _id: ids[n], result: 'created' }),
      );
    expect(new Set(ids).size).toBe(6);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Exactly one document per write, under the id the caller was given, written as a create with that id.
    expect(docs('cid-index').map((d) => [d.id, d.source])).toEqual(ids.map((id, n) => [id, { n }]));
    expect(writes('cid-index').map((w) => [w.action, w.autoId])).toEqual(Array(6).fill(['create', false]));
    // The replays sent the first attempt's id: two requests for each lost write, one for the others.
    const sent = cluster()
      .requests()
      .filter((r) => r.url.startsWith('/cid-index/'));
    expect(sent.map((r) => r.url.split('?')[0])).toEqual(
      ids.flatMap((id, n) => Array<string>(n % 2 === 1 ? 2 : 1).fill(`/cid-index/_doc/${id}`)),
    );
    expect(sent.map((r) => r.outcome)).toEqual([201, 'reset', 409, 201, 'reset', 409, 201, 'reset', 409]);
  });

  it('request() POST /{index}/_doc likewise, sent as PUT /{index}/_create/{id}', async () => {
    const es = await oneNode();
    const lost = loseNext(/^\/cid-raw\/_create\//);
    const first = await es.request({ method: 'POST', path: '/cid-raw/_doc', body: { n: 0 } });
    const second = await es.request({ method: 'POST', path: '/cid-raw/_doc?refresh=true', body: { n: 1 } });
    expect(lost.hits).toBe(1);
    expect(first).toEqual({
      alreadyApplied: true,
      _index: 'cid-raw',
      _id: expect.any(String) as unknown,
      result: 'created',
      reason: 'version_conflict_engine_exception',
    });
    expect(second).toMatchObject({ result: 'created' });
    expect(docs('cid-raw').map((d) => [d.id, d.source])).toEqual([
      [(first as { _id: string })._id, { n: 0 }],
      [(second as { _id: string })._id, { n: 1 }],
    ]);
    expect(
      cluster()
        .requests()
        .filter((r) => r.url.startsWith('/cid-raw/'))
        .map((r) => [r.method, r.url.replace(/[0-9a-f-]{36}/, '{id}'), r.outcome]),
    ).toEqual([
      ['PUT', '/cid-raw/_create/{id}', 'reset'],
      ['PUT', '/cid-raw/_create/{id}', 409],
      ['PUT', '/cid-raw/_create/{id}?refresh=true', 201],
    ]);
  });

  it('bulk: index actions without _id get one and become create; after a lost answer each item resolves on its own', async () => {
    const es = await oneNode();
    await es.create({ index: 'cid-bulk', id: 'taken', document: { n: 'first' } });
    const lost = loseNext('/_bulk');
    const result = await es.bulk([
      { index: { _index: 'cid-bulk' } },
      { n: 1 },
      { index: { _index: 'cid-bulk' } },
      { n: 2 },
      { delete: { _index: 'cid-bulk', _id: 'nothing-here' } },
    ]);
    expect(lost.hits).toBe(1);
    expect(result.rounds).toBe(2);
    expect(result.errors).toBe(false);
    expect(result.items.map((i) => [i.action, i.outcome, i.status, i.attempts])).toEqual([
      ['index', 'already_applied', 409, 2],
      ['index', 'already_applied', 409, 2],
      ['delete', 'applied', 404, 2],
    ]);
    expect(docs('cid-bulk').map((d) => [d.id, d.source])).toEqual([
      ['taken', { n: 'first' }],
      [result.items[0]!.id, { n: 1 }],
      [result.items[1]!.id, { n: 2 }],
    ]);
    expect(writes('cid-bulk').map((w) => w.action)).toEqual(['create', 'create', 'create']);
    // Other item errors stay the caller's: a create of a taken id fails (no answer was lost: a real conflict).
    const second = await es.bulk([
      { index: { _index: 'cid-bulk' } },
      { n: 3 },
      { create: { _index: 'cid-bulk', _id: 'taken' } },
      { n: 'again' },
    ]);
    expect(second.items.map((i) => [i.action, i.outcome, i.status])).toEqual([
      ['index', 'applied', 201],
      ['create', 'failed', 409],
    ]);
    expect(docs('cid-bulk')).toHaveLength(4);
  });

  it('without the setting a bulk holding an index without _id is still not replayed after a lost answer', async () => {
    const es = await oneNode(false);
    const lost = loseNext('/_bulk');
    const result = await es.bulk([{ index: { _index: 'plain-bulk' } }, { n: 1 }]);
    expect(lost.hits).toBe(1);
    expect(result.rounds).toBe(1);
    expect(result.items.map((i) => [i.action, i.outcome])).toEqual([['index', 'unknown']]);
    expect(writes('plain-bulk').map((w) => [w.action, w.autoId])).toEqual([['index', true]]);
  });

  it('the race: the first attempt is still pending on a hung node when the replay runs — exactly one effect', async () => {
    const c = cluster();
    const hung = c.nodes[0]!;
    // Timeouts retried (idempotent requests only): the attempt stuck on the hung node ends at 300 ms, the retry goes
    // to another node.
    const t = esTarget(
      c.urls,
      policy({ attemptTimeout: '300ms', retryOn: { errors: ['connection', 'timeout', 'throttled'] } }),
      { clientIds: true },
    );
    await t.start();
    const es = elasticsearchRequests(t);
    // Every node connected and serving first: start() returns once one is, and an attempt that waits for a node's
    // on-demand connect is not what this test is about.
    const served = () =>
      new Set(
        c
          .requests()
          .filter((r) => r.url.startsWith('/cid-race-warm/'))
          .map((r) => r.nodeName),
      );
    for (let n = 0; n < 12 && served().size < 3; n++)
      await es.index({ index: 'cid-race-warm', document: { n } });
    expect(served().size).toBe(3);
    await hung.hang();
    // Round-robin: of six writes at once, the ones sent to the hung node wait there.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, n) => es.index({ index: 'cid-race', document: { n } })),
    );
    const onHung = () =>
      c.requests().filter((r) => r.nodeName === hung.name && r.url.startsWith('/cid-race/'));
    expect(onHung()).toEqual([]);
    // Every write resolved — created by a replay on another node, or (a replay whose own answer came late) reported
    // as already applied — while the first attempts sent to the hung node were still waiting there.
    for (const r of results)
      expect(isAlreadyApplied(r) || r.result === 'created', JSON.stringify(r)).toBe(true);
    expect(docs('cid-race')).toHaveLength(6);
    await hung.resume();
    // The late first attempts now reach the cluster, and are refused: the document exists.
    // Resumed, it forwards what it holds in one go: wait (bounded) until its count has stayed the same for 200 ms.
    let seen = -1;
    let since = Date.now();
    await until(() => {
      const now = onHung().length;
      if (now !== seen) [seen, since] = [now, Date.now()];
      return now > 0 && Date.now() - since >= 200;
    }, 5000);
    expect(onHung().length).toBeGreaterThan(0);
    expect(onHung().map((r) => r.outcome)).toEqual(Array(onHung().length).fill(409));
    expect(docs('cid-race').map((d) => d.source)).toEqual(
      expect.arrayContaining(Array.from({ length: 6 }, (_, n) => ({ n }))),
    );
    expect(docs('cid-race')).toHaveLength(6);
    expect(writes('cid-race')).toHaveLength(6);
  });
});
