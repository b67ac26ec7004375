import { Client } from '@elastic/elasticsearch';
import type { PolicyInput } from '@reconnect/core';
import { startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { elasticsearchRequests } from '../src/index.js';
import { esTarget, preset, stopTargets } from './helpers.js';

// The promise measure.test.ts prints figures for (opt-in, RECONNECT_MEASURE=1), asserted in the normal suite in a
// short form: POST _doc requests whose answers are lost (reset mid-response, after the document was written) never
// leave a duplicate document, with preset:elasticsearch and with the fast-failover-timed variant the measurement
// uses, through index() and through request() (the idempotency table's verdict on the path); the raw client at its
// defaults, under the same fault, does leave one, so the fault is real.
const posts = 6;

/** preset:elasticsearch with preset:fast-failover's timings (not its breaker), timeouts retried for reads. */
function tuned(): PolicyInput {
  const es = preset('elasticsearch');
  const ff = preset('fast-failover');
  return {
    ...es,
    retry: {
      ...es.retry,
      ...ff.retry,
      retryOn: { errors: ['connection', 'timeout', 'throttled'], statusCodes: [502, 503, 504] },
    },
    healthCheck: { ...ff.healthCheck, query: 'GET /_cluster/health?local=true' },
    reconnect: ff.reconnect,
    pool: { ...es.pool, ...ff.pool },
  };
}

describe('POST _doc with lost answers: no duplicate documents', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  afterEach(async () => {
    await stopTargets();
    for (const n of cluster().nodes) n.faults.clear();
  });

  /** Sends `posts` POST _doc to `index` one after the other, the first on each node losing its answer. */
  async function postWithLostAnswers(index: string, post: (op: string) => Promise<unknown>) {
    const c = cluster();
    const rules = c.nodes.map((n) =>
      n.faults.resetMidResponse({ requests: 1, match: { method: 'POST', path: `/${index}/_doc` } }),
    );
    for (let i = 0; i < posts; i++) await post(`${index}-${i}`).catch(() => undefined);
    const lost = rules.reduce((sum, rule) => sum + rule.hits, 0);
    const written = c.writeLog().filter((e) => e.index === index);
    const duplicated = c
      .duplicateWrites()
      .filter((d) => d.entries.some((e) => written.includes(e)))
      .reduce((sum, d) => sum + d.entries.length - 1, 0);
    return { lost, written: written.length, duplicated };
  }

  it('the raw client at its defaults replays them: the fault duplicates documents', async () => {
    const raw = new Client({ nodes: cluster().urls });
    try {
      const r = await postWithLostAnswers('lost-raw', (op) =>
        raw.index({ index: 'lost-raw', document: { op } }),
      );
      expect(r.lost).toBeGreaterThan(0);
      expect(r.duplicated).toBeGreaterThan(0);
    } finally {
      await raw.close();
    }
  });

  for (const [name, index, policy] of [
    ['preset:elasticsearch', 'lost-preset', preset('elasticsearch')],
    ['preset:elasticsearch with fast-failover timings', 'lost-tuned', tuned()],
  ] as const) {
    it(`the driver with ${name} sends each once: one document per request`, async () => {
      const t = esTarget(cluster().urls, policy);
      await t.start();
      const es = elasticsearchRequests(t);
      const r = await postWithLostAnswers(index, (op) => es.index({ index, document: { op } }));
      expect(r.lost).toBeGreaterThan(0);
      expect(r.duplicated).toBe(0);
      expect(r.written).toBe(posts);
    });
  }

  it('the same through request(): a POST _doc is judged unsafe by its path alone (the idempotency table)', async () => {
    const t = esTarget(cluster().urls, preset('elasticsearch'));
    await t.start();
    const es = elasticsearchRequests(t);
    const r = await postWithLostAnswers('lost-raw-path', (op) =>
      es.request({ method: 'POST', path: '/lost-raw-path/_doc', body: { op } }),
    );
    expect(r.lost).toBeGreaterThan(0);
    expect(r.duplicated).toBe(0);
    expect(r.written).toBe(posts);
  });
});
