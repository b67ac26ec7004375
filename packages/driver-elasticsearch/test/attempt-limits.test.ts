import { isAttemptEndedError, type PolicyInput, type Target } from '@reconnect/core';
import { sendAfterAttemptEnded, startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { bindClientToAttempt } from '../src/attempt-client.js';
import {
  createElasticsearchClient,
  elasticsearchDriver,
  elasticsearchOptionsSchema,
  type ElasticsearchClient,
} from '../src/index.js';
import { connectContext, esTarget, stopTargets, until } from './helpers.js';

// The client an operation receives is bound to its attempt (the driver's bindAttempt): the requests it sends follow
// the call's own attemptTimeout, deadline and signal — also when the operation does not pass `ctx.signal` — not the
// policy's attemptTimeout fixed in the client, and none is sent after the attempt ended.

/** When the client's own promise settled, measured from the start of the call. */
interface Settled {
  afterMs: number;
  error?: unknown;
}

/** Runs `request` as an operation that never passes its signal, recording when the request itself settled. */
function timed<T>(
  t: Target<ElasticsearchClient>,
  request: (es: ElasticsearchClient) => Promise<T>,
  options: Parameters<Target['execute']>[1],
): { settled: () => Settled | undefined; result: Promise<unknown> } {
  let settled: Settled | undefined;
  const started = Date.now();
  const result = t
    .execute(
      (es) =>
        request(es).then(
          (value) => {
            settled = { afterMs: Date.now() - started };
            return value;
          },
          (error: unknown) => {
            settled = { afterMs: Date.now() - started, error };
            throw error;
          },
        ),
      options,
    )
    .catch((e: unknown) => e);
  return { settled: () => settled, result };
}

describe('requests follow their attempt (the testkit cluster, one node)', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 1 }), { heal: false });
  afterEach(async () => {
    await stopTargets();
    await cluster().heal();
  });

  async function started(retry: PolicyInput['retry']): Promise<Target<ElasticsearchClient>> {
    const t = esTarget(cluster().urls, {
      retry: { maxRetries: 0, ...retry },
      healthCheck: { enabled: false },
    });
    await t.start();
    return t;
  }

  it('a per-call attemptTimeout longer than the policy’s lets a slow search finish', async () => {
    const t = await started({ attemptTimeout: '300ms' });
    await t.client.index({ index: 'attempt-long', id: '1', document: { n: 1 }, refresh: true });
    // Longer than undici's own timer would take to fire for 300 ms (its coarse timers fire up to ~1 s late).
    cluster().nodes[0]!.faults.latency(1800, { match: { path: '/attempt-long/_search' } });
    const long = { attemptTimeout: '5s', idempotent: true };
    const found = await t.execute((es) => es.search({ index: 'attempt-long' }), long);
    expect(found.hits.hits.map((h) => h._id)).toEqual(['1']);
    // A namespaced API goes through the attempt's transport too (GET /{index}, held as long).
    cluster().nodes[0]!.faults.latency(1800, { match: { path: '/attempt-long', method: 'GET' } });
    expect(await t.execute((es) => es.indices.exists({ index: 'attempt-long' }), long)).toBe(true);
    // Without a per-call limit the policy's still applies.
    const cut = timed(t, (es) => es.search({ index: 'attempt-long' }), { idempotent: true });
    await cut.result;
    await until(() => cut.settled() !== undefined, 2000);
    expect(elasticsearchDriver.classify(cut.settled()?.error).kind).toBe('timeout');
    expect(cut.settled()!.afterMs).toBeLessThan(1000);
  });

  it('a per-call attemptTimeout shorter than the policy’s cuts the request at it, not at the policy’s', async () => {
    const t = await started({ attemptTimeout: '5s' });
    cluster().nodes[0]!.faults.latency(2500, { match: { path: '/attempt-short' } });
    const search = timed(t, (es) => es.search({ index: 'attempt-short' }), { attemptTimeout: '300ms' });
    const namespaced = timed(t, (es) => es.indices.exists({ index: 'attempt-short' }), {
      attemptTimeout: '300ms',
    });
    await Promise.all([search.result, namespaced.result]);
    // Under the policy's 5 s both would have been answered after 2.5 s.
    await until(() => search.settled() !== undefined && namespaced.settled() !== undefined, 4000);
    for (const s of [search.settled()!, namespaced.settled()!]) {
      expect(s.afterMs).toBeLessThan(1500);
      expect(elasticsearchDriver.classify(s.error).kind).toBe('timeout');
    }
  });

  it('the caller’s abort cuts the request', async () => {
    const t = await started({ attemptTimeout: '5s' });
    cluster().nodes[0]!.faults.neverAnswer({ match: { path: '/attempt-abort' } });
    const controller = new AbortController();
    const search = timed(t, (es) => es.search({ index: 'attempt-abort' }), { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await search.result;
    // Under the policy's 5 s the request would have waited for its answer until then.
    await until(() => search.settled() !== undefined, 2000);
    expect(search.settled()!.afterMs).toBeLessThan(1200);
  });

  it('the deadline cuts the request', async () => {
    const t = await started({ attemptTimeout: '5s' });
    cluster().nodes[0]!.faults.neverAnswer({ match: { path: '/attempt-deadline' } });
    const search = timed(t, (es) => es.search({ index: 'attempt-deadline' }), { deadline: '300ms' });
    await search.result;
    await until(() => search.settled() !== undefined, 2000);
    expect(search.settled()!.afterMs).toBeLessThan(1300);
  });

  it('a request an abandoned operation sends after its attempt ended is refused unsent', async () => {
    const t = await started({ attemptTimeout: '200ms' });
    // The operation ignores its signal: the attempt ends at 200 ms, the write comes at 400.
    const { late, sent } = await sendAfterAttemptEnded(t, (es) =>
      es.index({ index: 'attempt-late', id: '1', document: { late: true } }),
    );
    expect(sent).toBe(false);
    expect(isAttemptEndedError(late), String(late)).toBe(true);
    expect(late).toMatchObject({
      code: 'ERR_ATTEMPT_ENDED',
      kind: 'timeout',
      outcome: 'not_sent',
      target: 'search',
    });
    expect(elasticsearchDriver.classify(late)).toEqual({
      kind: 'timeout',
      code: 'ERR_ATTEMPT_ENDED',
      sent: false,
    });
    expect(
      cluster()
        .requests()
        .filter((r) => r.url.startsWith('/attempt-late')),
    ).toEqual([]);
    expect(cluster().documents('attempt-late')).toEqual([]);
  });

  it('a view keeps no state of its own: members are the client’s, namespaces hold the view’s transport', () => {
    const url = cluster().url;
    const { policy, node, target } = connectContext(url);
    const client = createElasticsearchClient(elasticsearchOptionsSchema.parse({ node: url }), {
      policy,
      node: node!,
      target,
    });
    const attempt = {
      attempt: 1,
      signal: new AbortController().signal,
      aborted: false,
      reason: undefined,
      node: undefined,
      timeoutMs: 1000,
      onAbort: () => undefined,
      offAbort: () => undefined,
    };
    const view = bindClientToAttempt(client, attempt);
    expect(view).not.toBe(client);
    expect(Object.keys(view)).toEqual(['transport']);
    expect(view.transport).not.toBe(client.transport);
    expect(view.connectionPool).toBe(client.connectionPool);
    expect(view.helpers).toBe(client.helpers);
    expect(view.indices).not.toBe(client.indices);
    expect(view.indices).toBe(view.indices);
    expect((view.indices as unknown as { transport: unknown }).transport).toBe(view.transport);
    expect((client.indices as unknown as { transport: unknown }).transport).toBe(client.transport);
    const other = bindClientToAttempt(client, attempt);
    expect(other.transport).not.toBe(view.transport);
    expect(Object.getPrototypeOf(other)).toBe(Object.getPrototypeOf(view));
    return client.close();
  });
});
