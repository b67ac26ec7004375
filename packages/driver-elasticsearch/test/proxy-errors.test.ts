import { Client, errors } from '@elastic/elasticsearch';
import { isOutcomeUnknownError, resolvePolicy, type Operation, type Target } from '@reconnect/core';
import { startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classifyElasticsearchError,
  elasticsearchRequests,
  isAlreadyApplied,
  type ElasticsearchClient,
  type ElasticsearchRequests,
} from '../src/index.js';
import { esTarget, preset, stopTargets } from './helpers.js';

// Issue 29, point 3: Elasticsearch behind a load balancer. A node whose proxy answers 502/503/504 by itself (no
// Elasticsearch body, no x-elastic-product header: its upstream is gone) must count toward marking the node dead, as
// a refused connection does, so that writes go to the other nodes. The testkit's proxyError fault is that proxy.

const statuses = [503, 502, 504] as const;
const expected = {
  502: {
    kind: 'connection',
    code: 502,
    statusCode: 502,
    message:
      'A proxy in front of the node answered 502 (it could not reach its Elasticsearch); the request may have reached it',
  },
  503: {
    kind: 'connection',
    code: 503,
    statusCode: 503,
    message:
      'A proxy in front of the node answered 503 (it could not reach its Elasticsearch); the request may have reached it',
  },
  504: {
    kind: 'timeout',
    code: 504,
    statusCode: 504,
    message:
      'A proxy in front of the node answered 504 (its Elasticsearch did not answer in time); the request may have run',
  },
} as const;

/** One attempt of one operation, in the order attempts started. */
interface AttemptRecord {
  op: number;
  node: string | undefined;
  ok?: boolean;
}

/**
 * `elasticsearchRequests` over `target`, recording which node each attempt of operation `op` went to: the target
 * seen through a view whose `execute` wraps the operation (the requests, their idempotency and retries unchanged).
 */
function traced(
  target: Target<ElasticsearchClient>,
  op: number,
  attempts: AttemptRecord[],
): ElasticsearchRequests {
  const view = Object.create(target) as Target<ElasticsearchClient>;
  view.execute = <T>(
    operation: Operation<ElasticsearchClient, T>,
    options?: Parameters<typeof target.execute>[1],
  ) =>
    target.execute<T>(async (client, ctx) => {
      const attempt: AttemptRecord = { op, node: ctx.node?.id };
      attempts.push(attempt);
      try {
        const value = await operation(client, ctx);
        attempt.ok = true;
        return value;
      } catch (error) {
        attempt.ok = false;
        throw error;
      }
    }, options);
  return elasticsearchRequests(view);
}

/**
 * Starts `op(i)` at `perSecond` on average until stopped: every 5 ms as many as the elapsed time calls for, so a
 * late timer (the cluster's coordinator shares this process) does not lower the rate. Bounded by `stop()`.
 */
function steadyStream(perSecond: number, op: (i: number) => Promise<unknown>): { stop(): Promise<void> } {
  const start = Date.now();
  const pending = new Set<Promise<unknown>>();
  let started = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - start) * perSecond) / 1000);
    for (; started < due; started++) {
      const p = op(started).catch(() => undefined);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
  }, 5);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
  };
}

describe("issue 29: a node's proxy answering 502/503/504 itself (Elasticsearch behind a load balancer)", () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(async () => {
    await stopTargets();
    await cluster().heal();
  });

  it('the fault is a proxy\'s answer, classified by status: 502/503 a lost connection, 504 a timeout; "sent" unknown', async () => {
    const node = cluster().nodes[0]!;
    const raw = new Client({ node: node.url, maxRetries: 0 });
    try {
      for (const status of statuses) {
        const rule = node.faults.proxyError({ status, requests: 1 });
        const error = await raw.index({ index: 'proxy-raw', document: { status } }).catch((e: unknown) => e);
        expect(rule.hits).toBe(1);
        expect(error).toBeInstanceOf(errors.ResponseError);
        const meta = (error as errors.ResponseError).meta;
        // What nginx answers for a gone upstream: its own page, none of Elasticsearch's headers.
        expect(meta.statusCode).toBe(status);
        expect(meta.headers?.['x-elastic-product']).toBeUndefined();
        expect(meta.headers?.['content-type']).toBe('text/html');
        expect(String(meta.body)).toMatch(new RegExp(`<title>${status} `));
        expect(classifyElasticsearchError(error)).toEqual(expected[status]);
      }
      // Not forwarded (apply: false): nothing was written.
      expect(cluster().documents('proxy-raw')).toEqual([]);
    } finally {
      await raw.close();
    }
  });

  it("a proxy's 504 (or 502) after Elasticsearch ran the write: 'sent' must stay unknown — a POST _doc is not replayed, a create is already applied", async () => {
    // Why proxyAnswer() never says sent: false: with the write already run behind the proxy, a replay would be a
    // second document. One node (so the create's retry meets the same proxy, its rule used up), whose proxy
    // answers the first POST and the first create after running them.
    const c = cluster();
    const node = c.nodes[0]!;
    const t = esTarget([node.url], preset('elasticsearch'));
    await t.start();
    const es = elasticsearchRequests(t);
    // A target that has served requests (the retry budget's floor follows successes).
    for (let i = 0; i < 5; i++) await es.count({ index: '*' });
    for (const status of [504, 502] as const) {
      const index = `proxy-applied-${status}`;
      node.faults.proxyError({
        status,
        apply: true,
        requests: 1,
        match: { method: 'POST', path: `/${index}/_doc` },
      });
      node.faults.proxyError({ status, apply: true, requests: 1, match: { path: `/${index}/_create/` } });
      const post = await es.index({ index, document: { op: 'post' } }).catch((e: unknown) => e);
      expect(isOutcomeUnknownError(post)).toBe(true);
      expect(classifyElasticsearchError((post as Error).cause)).toEqual(expected[status]);
      const created = await es.create({ index, id: 'c-1', document: { op: 'create' } });
      expect(isAlreadyApplied(created)).toBe(true);
      // Each landed exactly once: the POST on its only attempt, the create on its first (its retry got 409).
      expect(
        c
          .documents(index)
          .map((d) => (d.source as { op: string }).op)
          .sort(),
      ).toEqual(['create', 'post']);
      expect(c.duplicateWrites().filter((d) => d.entries.some((e) => e.index === index))).toEqual([]);
    }
  });

  for (const status of statuses) {
    it(`preset:elasticsearch, ~200 writes/s, one node of three answering proxy ${status}s for 3 s: the node is marked dead within its failure threshold, writes go elsewhere, no write ends unknown that could have, no duplicate, no acknowledged write lost`, async () => {
      const c = cluster();
      const faulty = c.nodes[1]!;
      const index = `proxy-${status}`;
      const t = esTarget(c.urls, preset('elasticsearch'));
      const threshold = resolvePolicy(preset('elasticsearch')).pool.nodeFailureThreshold;
      await t.start();

      const attempts: AttemptRecord[] = [];
      // When the pool marked the faulty node dead: how many attempts had started, and how many of the faulty
      // node's had failed or were still waiting for their answer, at that moment.
      let death: { attemptsStarted: number; faultyFailed: number; faultyInFlight: number } | undefined;
      t.on('nodeDead', (e) => {
        if (e.node.id !== faulty.url || death !== undefined) return;
        const onFaulty = attempts.filter((a) => a.node === faulty.url);
        death = {
          attemptsStarted: attempts.length,
          faultyFailed: onFaulty.filter((a) => a.ok === false).length,
          faultyInFlight: onFaulty.filter((a) => a.ok === undefined).length,
        };
      });

      // Even operations: _create with a client id (conditional: retried, 409 after a lost answer is "applied");
      // odd ones: POST _doc, the cluster making the id (never replayed after an answer that may have landed).
      const ops: {
        kind: 'create' | 'auto';
        op: string;
        startedAt: number;
        value?: unknown;
        error?: unknown;
      }[] = [];
      const stream = steadyStream(200, (i) => {
        const es = traced(t, i, attempts);
        const kind = i % 2 === 0 ? 'create' : 'auto';
        const record: (typeof ops)[number] = { kind, op: `${index}-${i}`, startedAt: Date.now() };
        ops[i] = record;
        const document = { op: record.op };
        const sent =
          kind === 'create' ? es.create({ index, id: record.op, document }) : es.index({ index, document });
        return sent.then(
          (value) => (record.value = value),
          (error: unknown) => {
            record.error = error;
            throw error;
          },
        );
      });
      await new Promise((r) => setTimeout(r, 300));
      const faultAt = Date.now();
      const faultAttempt = attempts.length;
      const rule = faulty.faults.proxyError({ status, forMs: 3000 });
      await new Promise((r) => setTimeout(r, 3200));
      await stream.stop();

      const during = ops.filter((o) => o.startedAt >= faultAt && o.startedAt < faultAt + 3000);
      const failed = ops.filter((o) => o.error !== undefined);
      const unknown = ops.filter((o) => isOutcomeUnknownError(o.error));
      const routed = (from: number, to: number) =>
        attempts.slice(from, to).filter((a) => a.node === faulty.url).length;
      console.log(
        `proxy ${status}: ${ops.length} writes (${during.length} started in the 3 s: ${(during.length / 3).toFixed(0)}/s), ` +
          `${failed.length} failed, ${unknown.length} of them outcome unknown; ${routed(faultAttempt, attempts.length)} of ` +
          `${attempts.length - faultAttempt} attempts went to the node after the fault began, the proxy answered ${rule.hits}; ` +
          (death === undefined
            ? 'the node was never marked dead'
            : `marked dead at its failure ${death.faultyFailed} (${death.faultyInFlight} more in flight), ` +
              `${routed(faultAttempt, death.attemptsStarted)} attempts routed to it before, ${routed(death.attemptsStarted, attempts.length)} after`),
      );
      expect(during.length).toBeGreaterThanOrEqual(540); // ~200 writes/s during the fault (the timer may lag)
      expect(rule.hits).toBeGreaterThan(0);

      // Marked dead within a few failures: exactly when its failures reached the pool's threshold.
      expect(death).toBeDefined();
      const { attemptsStarted, faultyFailed, faultyInFlight } = death!;
      expect(faultyFailed).toBe(threshold);
      // The proxy answered those failures and what was already on its way to it, nothing more.
      expect(rule.hits).toBe(faultyFailed + faultyInFlight);
      // Writes routed away: no attempt that started after that went to the node.
      expect(attempts.slice(attemptsStarted).filter((a) => a.node === faulty.url)).toEqual([]);

      // 0 unknown that could have been routed elsewhere. A write ends unknown only when its one attempt went to
      // the faulty node before the pool knew it was failing (the proxy may have forwarded it: "sent" is unknown),
      // so each unknown write must be an auto-id POST whose only attempt started before the node was marked dead,
      // on that node, answered by the proxy; every write issued after that succeeded.
      const routedBeforeDeath = new Set(
        attempts
          .slice(0, attemptsStarted)
          .filter((a) => a.node === faulty.url)
          .map((a) => a.op),
      );
      for (const o of unknown) {
        const i = ops.indexOf(o);
        expect({ kind: o.kind, attempts: attempts.filter((a) => a.op === i).map((a) => a.node) }).toEqual({
          kind: 'auto',
          attempts: [faulty.url],
        });
        expect(routedBeforeDeath.has(i)).toBe(true);
        expect(classifyElasticsearchError((o.error as Error).cause)).toEqual(expected[status]);
      }
      // Every write whose first attempt started after that succeeded.
      const firstAttempt = new Map<number, number>();
      attempts.forEach((a, n) => firstAttempt.set(a.op, firstAttempt.get(a.op) ?? n));
      expect(
        ops.filter((o, i) => (firstAttempt.get(i) ?? -1) >= attemptsStarted && o.error !== undefined),
      ).toEqual([]);
      // Writes with a client id never fail: retried on another node.
      expect(failed.filter((o) => o.kind === 'create').map((o) => String(o.error))).toEqual([]);
      // Nothing else failed but those unknown writes.
      expect(failed.length).toBe(unknown.length);

      // 0 duplicates, 0 acknowledged writes lost, and the unknown writes were indeed never applied (this proxy
      // had no upstream): the documents are exactly the acknowledged writes, each once.
      expect(c.duplicateWrites().filter((d) => d.entries.some((e) => e.index === index))).toEqual([]);
      const stored = c.documents(index).map((d) => (d.source as { op: string }).op);
      const acknowledged = ops.filter((o) => o.error === undefined).map((o) => o.op);
      expect(stored.length).toBe(new Set(stored).size);
      expect([...stored].sort()).toEqual([...acknowledged].sort());
      expect(ops.filter((o) => isAlreadyApplied(o.value))).toEqual([]);
    });
  }
});
