// Elasticsearch: the testkit's 3-node Elasticsearch-protocol cluster (real HTTP server processes; a
// protocol stand-in, not Lucene). One node is killed, another answers 503 then 429 for a while, a third
// loses the answers to a few writes it applied, then every node goes down and comes back. Raw client:
// @elastic/elasticsearch at its defaults.
import { Client } from '@elastic/elasticsearch';
import { startElasticsearchCluster } from '@reconnect/testkit';

/** @returns {import('./scenario.js').Scenario} */
export function elasticsearchScenario() {
  /** @type {import('@reconnect/testkit').ElasticsearchCluster | undefined} */
  let cluster;
  const index = (lane) => `demo-writes-${lane}`;
  return {
    store: 'elasticsearch',
    title: 'Elasticsearch',
    target: 'search',
    driverName: 'elasticsearch',
    driverPackage: '@reconnect/driver-elasticsearch',
    placeholderEnv: {
      DEMO_ES_NODE_1: 'http://127.0.0.1:1',
      DEMO_ES_NODE_2: 'http://127.0.0.1:2',
      DEMO_ES_NODE_3: 'http://127.0.0.1:3',
    },
    rawName: 'raw ES client (defaults)',
    /** The throwaway cluster (after `setup`), for runners that play their own faults (bench/chaos). */
    handle: () => cluster,
    readName: 'GET _doc',
    writeName: 'POST _doc',
    async setup() {
      cluster = await startElasticsearchCluster({ nodes: 3 });
      const c = new Client({ node: cluster.urls[0] });
      try {
        await c.index({ index: 'demo-read', id: '1', document: { hello: 'world' }, refresh: true });
      } finally {
        await c.close();
      }
      const [a, b, d] = cluster.urls;
      return { DEMO_ES_NODE_1: a, DEMO_ES_NODE_2: b, DEMO_ES_NODE_3: d };
    },
    rawClient: () => new Client({ nodes: cluster.urls }),
    closeRaw: (client) => client.close(),
    read: (client) => client.get({ index: 'demo-read', id: '1' }),
    write: (client, lane, id) => client.index({ index: index(lane), document: { wid: id, lane } }),
    async serverWrites(lane) {
      return cluster.documents(index(lane)).map((d) => d.source.wid);
    },
    faults: (s) => {
      const [n1, n2, n3] = cluster.nodes;
      return [
        {
          name: `node-1 killed (SIGKILL), restarted after ${5 * s} s`,
          short: 'node-1 killed',
          back: 'node-1 restarted',
          at: 16 * s,
          for: 5 * s,
          start: () => n1.kill(),
          end: () => n1.restart(),
        },
        {
          name: `node-2 answers 503, then 429 + Retry-After, for ${2 * s} s`,
          short: '503/429 burst',
          back: 'node-2 answers normally',
          at: 18 * s,
          for: 2 * s,
          start: async () => {
            const half = 1000 * s;
            n2.faults.unavailable({ forMs: half });
            setTimeout(() => n2.faults.tooManyRequests({ forMs: half, retryAfterSeconds: 1 }), half).unref();
          },
          end: async () => n2.faults.clear(),
        },
        {
          name: `node-3 loses the answers to 3 writes of each client (TCP reset mid-response, the write applied)`,
          short: 'lost answers',
          back: 'node-3 answers normally',
          at: 21 * s,
          // At least 1.5 s, so each client sends its three writes to node-3 even in short mode.
          for: Math.max(1.5 * s, 1.5),
          start: async () => {
            // Scoped by index, so each client meets exactly three lost answers.
            for (const lane of ['reconnect', 'raw']) {
              n3.faults.resetMidResponse({
                requests: 3,
                match: { method: 'POST', path: `/${index(lane)}/` },
              });
            }
          },
          end: async () => n3.faults.clear(),
        },
        {
          name: `all 3 nodes down (SIGKILL), back after ${3 * s} s`,
          short: 'all nodes down',
          back: 'all 3 nodes restarted',
          at: 24.5 * s,
          for: 3 * s,
          start: () => cluster.kill(),
          end: () => cluster.restart(),
        },
      ];
    },
    async teardown() {
      await cluster?.stop();
    },
  };
}
