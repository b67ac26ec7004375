import { writeFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import type { PolicyInput, Target } from '@reconnect/core';
import { startElasticsearchCluster, useServer, type ElasticsearchCluster } from '@reconnect/testkit';
import { describe, expect, it } from 'vitest';
import { elasticsearchRequests, type ElasticsearchClient } from '../src/index.js';
import { esTarget, opStream, preset, stopTargets, until } from './helpers.js';
import { whenAccepting } from './net.js';

// Measures the raw @elastic/elasticsearch 9.4 client at its defaults (`new Client({ nodes })`: maxRetries 3, no
// request timeout, WeightedConnectionPool) and this driver under two policies, on the same 3-node testkit cluster
// in the same run, and prints the table the README quotes. Opt-in (RECONNECT_MEASURE=1): it takes ~90 s.
// The promise its assertions guard runs in the normal suite in a short form (lost-answers.test.ts): POST _doc
// requests whose answers are lost never leave a duplicate document with either policy, while the raw client's do.
const enabled = process.env['RECONNECT_MEASURE'] === '1';
const hangMs = 5000;
const crashMs = 3000;
const allDownMs = 3000;
const lostPosts = 20;
const index = 'measure';

interface Runner {
  /** A read (GET /measure/_count) — the request log tells which node served it. */
  read(): Promise<unknown>;
  /** POST /measure/_doc (the cluster makes the id). */
  post(op: string): Promise<unknown>;
  /** Whether the client now treats `url` as dead (undefined: it has no such notion). */
  isDead(url: string): boolean;
  close(): Promise<void>;
}

interface Row {
  client: string;
  scenario: string;
  requests: number;
  failed: number;
  duplicates: number | string;
  longestMs: number;
  detectedMs: number | undefined;
  recoveredMs: number | undefined;
  note: string;
}

const fmt = (n: number | undefined) => (n === undefined ? 'never' : `${n} ms`);

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

describe.skipIf(!enabled)('measured: raw @elastic/elasticsearch defaults vs the driver, same faults', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }), { heal: false });
  const rows: Row[] = [];

  // Requests of one client that reached `node` after `t` (the request log), counting reads only.
  const readsOn = (c: ElasticsearchCluster, node: string, t: number) =>
    c.requests().filter((r) => r.nodeName === node && r.at >= t && r.url.startsWith(`/${index}/_count`));

  async function scenarios(client: string, make: () => Promise<Runner>): Promise<void> {
    const c = cluster();
    const r = await make();
    try {
      // 1. One node hung for 5 s.
      {
        const node = c.nodes[1]!;
        const ops = opStream(20, () => r.read());
        await new Promise((res) => setTimeout(res, 200));
        const t0 = Date.now();
        await node.hang();
        let detected: number | undefined;
        const poll = setInterval(() => {
          if (detected === undefined && r.isDead(node.url)) detected = Date.now() - t0;
        }, 5);
        await new Promise((res) => setTimeout(res, hangMs));
        clearInterval(poll);
        const end = Date.now();
        await node.resume();
        const resumedAt = Date.now();
        await until(() => readsOn(c, node.name, resumedAt).length > 0, 15_000).catch(() => undefined);
        const back = readsOn(c, node.name, resumedAt)[0]?.at;
        await new Promise((res) => setTimeout(res, 200));
        await ops.stop();
        const during = ops.results.filter((x) => x.startedAt >= t0 && x.startedAt < end);
        const waiting = during.filter((x) => x.settledAt > end);
        rows.push({
          client,
          scenario: `one node hung ${hangMs / 1000} s`,
          requests: during.length,
          failed: during.filter((x) => !x.ok && x.settledAt <= end).length,
          duplicates: '—',
          longestMs: Math.max(...during.map((x) => Math.min(x.settledAt, end) - x.startedAt)),
          detectedMs: detected,
          recoveredMs: back === undefined ? undefined : back - resumedAt,
          note: waiting.length > 0 ? `${waiting.length} still waiting when the hang ended` : '',
        });
      }
      // 2. One node crashed for 3 s, then restarted.
      {
        const node = c.nodes[2]!;
        const ops = opStream(20, () => r.read());
        await new Promise((res) => setTimeout(res, 200));
        const t0 = Date.now();
        await node.kill();
        let detected: number | undefined;
        const poll = setInterval(() => {
          if (detected === undefined && r.isDead(node.url)) detected = Date.now() - t0;
        }, 5);
        await new Promise((res) => setTimeout(res, crashMs));
        const accepting = whenAccepting(node.port);
        await node.restart();
        const acceptedAt = await accepting.at;
        await until(() => readsOn(c, node.name, acceptedAt).length > 0, 15_000).catch(() => undefined);
        clearInterval(poll);
        const back = readsOn(c, node.name, acceptedAt)[0]?.at;
        await ops.stop();
        const during = ops.results.filter((x) => x.startedAt >= t0);
        rows.push({
          client,
          scenario: `one node crashed ${crashMs / 1000} s`,
          requests: during.length,
          failed: during.filter((x) => !x.ok).length,
          duplicates: '—',
          longestMs: Math.max(...during.map((x) => x.settledAt - x.startedAt)),
          detectedMs: detected,
          recoveredMs: back === undefined ? undefined : back - acceptedAt,
          note: 'recovered: first read served by the restarted node after it accepts',
        });
      }
      // 3. Every node down for 3 s, then back.
      {
        const ops = opStream(20, () => r.read());
        await new Promise((res) => setTimeout(res, 200));
        const t0 = Date.now();
        await c.kill();
        await new Promise((res) => setTimeout(res, allDownMs));
        const accepting = c.nodes.map((n) => whenAccepting(n.port));
        await c.restart();
        const firstAccepted = Math.min(...(await Promise.all(accepting.map((a) => a.at))));
        await until(() => ops.firstSuccessAfter(firstAccepted) !== undefined, 15_000).catch(() => undefined);
        await new Promise((res) => setTimeout(res, 200));
        await ops.stop();
        const first = ops.firstSuccessAfter(firstAccepted);
        const during = ops.results.filter((x) => x.startedAt >= t0);
        rows.push({
          client,
          scenario: `all nodes down ${allDownMs / 1000} s`,
          requests: during.length,
          failed: during.filter((x) => !x.ok).length,
          duplicates: '—',
          longestMs: Math.max(...during.map((x) => x.settledAt - x.startedAt)),
          detectedMs: undefined,
          recoveredMs: first === undefined ? undefined : first - firstAccepted,
          note: 'recovered: first success after the first node accepts',
        });
      }
      // 4. POST _doc whose answer is lost (reset mid-response), the first 2 on each node, 20 writes.
      {
        const tag = client.replace(/[^a-z0-9]+/gi, '-');
        const rules = c.nodes.map((n) =>
          n.faults.resetMidResponse({ requests: 2, match: { method: 'POST', path: `/${index}/_doc` } }),
        );
        const before = c.writeLog().length;
        const results: { ok: boolean; ms: number }[] = [];
        for (let i = 0; i < lostPosts; i++) {
          const started = Date.now();
          const ok = await r.post(`${tag}-${i}`).then(
            () => true,
            () => false,
          );
          results.push({ ok, ms: Date.now() - started });
        }
        const lost = rules.reduce((sum, rule) => sum + rule.hits, 0);
        for (const n of c.nodes) n.faults.clear();
        const written = c.writeLog().slice(before);
        const dupes = c
          .duplicateWrites()
          .filter((d) => d.entries.some((e) => written.includes(e)))
          .reduce((sum, d) => sum + d.entries.length - 1, 0);
        rows.push({
          client,
          scenario: `${lostPosts} POST _doc, ${lost} answers lost`,
          requests: lostPosts,
          failed: results.filter((x) => !x.ok).length,
          duplicates: dupes,
          longestMs: Math.max(...results.map((x) => x.ms)),
          detectedMs: undefined,
          recoveredMs: undefined,
          note: `${written.length} documents written for ${lostPosts} requests`,
        });
      }
    } finally {
      await r.close();
      await stopTargets();
      await c.heal();
    }
  }

  it('raw @elastic/elasticsearch 9.4 at its defaults', { timeout: 300_000 }, async () => {
    const setup = new Client({ node: cluster().url });
    await setup.indices.create({ index }).catch(() => undefined);
    await setup.close();
    await scenarios('raw client (defaults)', () => {
      const raw = new Client({ nodes: cluster().urls });
      return Promise.resolve({
        read: () => raw.count({ index }),
        post: (op) => raw.index({ index, document: { op } }),
        isDead: (url) =>
          raw.connectionPool.connections.find((x) => x.url.href.replace(/\/$/, '') === url)?.status ===
          'dead',
        close: () => raw.close(),
      });
    });
    // The defaults replay a POST whose answer was lost.
    expect(rows.at(-1)!.duplicates).toBeGreaterThan(0);
  });

  for (const [name, policy] of [
    ['driver, preset:elasticsearch', preset('elasticsearch')],
    ['driver, preset:elasticsearch + fast-failover timings', tuned()],
  ] as const) {
    it(name, { timeout: 300_000 }, async () => {
      await scenarios(name, async () => {
        const t: Target<ElasticsearchClient> = esTarget(cluster().urls, policy);
        await t.start();
        const es = elasticsearchRequests(t);
        return {
          read: () => es.count({ index }),
          post: (op) => es.index({ index, document: { op } }),
          isDead: (url) => t.health().nodes.find((n) => n.id === url)?.alive === false,
          close: () => t.stop(),
        };
      });
      expect(rows.at(-1)!.duplicates).toBe(0);
    });
  }

  it('prints the table', () => {
    const table = [
      '| client | scenario | requests | failed | duplicated documents | longest request | node marked dead after | recovered after | notes |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.client} | ${r.scenario} | ${r.requests} | ${r.failed} | ${r.duplicates} | ${r.longestMs} ms | ${r.scenario.startsWith('all') || r.scenario.includes('POST') ? '—' : fmt(r.detectedMs)} | ${r.scenario.includes('POST') ? '—' : fmt(r.recoveredMs)} | ${r.note} |`,
      ),
    ].join('\n');
    console.log(table);
    if (process.env['RECONNECT_REPORT_DIR'])
      writeFileSync(`${process.env['RECONNECT_REPORT_DIR']}/elasticsearch-measured.md`, table + '\n');
    expect(rows.length).toBe(12);
  });
});
