import type { PolicyInput } from '@reconnect/core';
import { startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { elasticsearchRequests } from '../src/index.js';
import { esTarget, preset, stopTargets } from './helpers.js';

// Issue 26, "server pushback is obeyed", against the testkit's cluster with the real client: no attempt before a
// Retry-After expires (429 and 503), and a PERMANENT circuit breaker is not retried while a TRANSIENT one is.
// One node per target, so that every attempt goes to the node with the fault and the cluster's log shows them all.

/** preset:elasticsearch with a 20 ms backoff, so that any longer wait is the server's Retry-After. */
function policy(): PolicyInput {
  const base = preset('elasticsearch');
  return {
    ...base,
    retry: {
      ...base.retry,
      backoff: { type: 'fixed', base: '20ms', max: '20ms', jitter: 'none' },
      attemptTimeout: '2s',
      deadline: '6s',
      budget: { enabled: false },
    },
    healthCheck: { enabled: false },
  };
}

describe('server pushback (issue 26)', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(async () => {
    await stopTargets();
    await cluster().heal();
  });

  /** The requests the cluster received for `index`, in order. */
  const seen = (index: string) =>
    cluster()
      .requests()
      .filter((r) => r.url.startsWith(`/${index}/`));

  it('429 with Retry-After: 1 — the second attempt starts at least 1 s after the first', async () => {
    const c = cluster();
    const t = esTarget([c.nodes[0]!.url], policy());
    await t.start();
    c.nodes[0]!.faults.tooManyRequests({
      retryAfterSeconds: 1,
      requests: 1,
      match: { path: '/pushback-429' },
    });
    const answer = await elasticsearchRequests(t).index({
      index: 'pushback-429',
      id: 'a',
      document: { a: 1 },
    });
    expect(answer).toMatchObject({ result: 'created' });
    const [first, second] = seen('pushback-429');
    expect([first?.outcome, second?.outcome]).toEqual([429, 201]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
  });

  it('503 with Retry-After: 1 — the second attempt starts at least 1 s after the first', async () => {
    const c = cluster();
    const t = esTarget([c.nodes[0]!.url], policy());
    await t.start();
    c.nodes[0]!.faults.respond(
      {
        status: 503,
        type: 'unavailable_shards_exception',
        reason: '[pushback-503][0] primary shard is not active',
        retryAfterSeconds: 1,
      },
      { requests: 1, match: { path: '/pushback-503' } },
    );
    const answer = await elasticsearchRequests(t).index({
      index: 'pushback-503',
      id: 'a',
      document: { a: 1 },
    });
    expect(answer).toMatchObject({ result: 'created' });
    const [first, second] = seen('pushback-503');
    expect([first?.outcome, second?.outcome]).toEqual([503, 201]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
  });

  it('circuit_breaking_exception PERMANENT is not retried (one request, the error unchanged); TRANSIENT is', async () => {
    const c = cluster();
    const t = esTarget([c.nodes[0]!.url], policy());
    await t.start();
    const es = elasticsearchRequests(t);
    c.nodes[0]!.faults.circuitBreaking({ durability: 'PERMANENT', match: { path: '/breaker-permanent' } });
    const error = await es
      .index({ index: 'breaker-permanent', id: 'a', document: { a: 1 } })
      .catch((e: unknown) => e);
    // Not retryable on the first attempt: the client's own ResponseError reaches the caller unchanged.
    expect(error).toMatchObject({ name: 'ResponseError', meta: { statusCode: 429 } });
    expect(seen('breaker-permanent').map((r) => r.outcome)).toEqual([429]);

    c.nodes[0]!.faults.circuitBreaking({
      durability: 'TRANSIENT',
      requests: 1,
      match: { path: '/breaker-transient' },
    });
    await es.index({ index: 'breaker-transient', id: 'a', document: { a: 1 } });
    expect(seen('breaker-transient').map((r) => r.outcome)).toEqual([429, 201]);
  });
});
