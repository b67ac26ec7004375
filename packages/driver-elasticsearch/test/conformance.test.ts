import { join } from 'node:path';
import {
  runDriverConformance,
  startElasticsearchCluster,
  type ElasticsearchCluster,
} from '@reconnect/testkit';
import {
  elasticsearchDriver,
  elasticsearchOptionsSchema,
  type ElasticsearchClient,
  type ElasticsearchDriverOptions,
} from '../src/index.js';

const index = 'conformance-writes';
const auth = { username: 'elastic', password: 'conformance-password' };

// The testkit's suite on a 3-node cluster with security on: crash (every node SIGKILLed, then restarted), hang
// (every node SIGSTOPped), blackhole and reset through a proxy in front of one node, a lost answer to a POST _doc,
// a wrong password (401 security_exception), and a clean stop. The direct scenarios get all three nodes; the proxied ones a single node behind the proxy.
// One node crashed, hung or restarted while the others serve is in acceptance.test.ts.
runDriverConformance<ElasticsearchDriverOptions, ElasticsearchClient, ElasticsearchCluster>({
  driver: elasticsearchDriver,
  server: () => startElasticsearchCluster({ nodes: 3, security: { users: [auth] } }),
  options: (endpoint, cluster) =>
    elasticsearchOptionsSchema.parse(
      endpoint.port === cluster.port && endpoint.host === cluster.host
        ? { nodes: cluster.urls, auth }
        : { node: `http://${endpoint.host}:${endpoint.port}`, auth },
    ),
  badAuthOptions: (endpoint) =>
    elasticsearchOptionsSchema.parse({
      node: `http://${endpoint.host}:${endpoint.port}`,
      auth: { username: 'elastic', password: 'not-the-password' },
    }),
  operations: {
    setup: async (es) => {
      await es.indices.create({ index });
    },
    idempotentRead: (es, ctx) => es.info({}, { signal: ctx.signal }),
    // POST /{index}/_doc: the cluster makes the id, so a replay would be a second document.
    nonIdempotentWrite: (es, ctx) =>
      es.index({ index, document: { at: Date.now() } }, { signal: ctx.signal }),
    countWrites: async (es) => {
      await es.indices.refresh({ index });
      return (await es.count({ index })).count;
    },
  },
  reportFile: process.env['RECONNECT_REPORT_DIR']
    ? join(process.env['RECONNECT_REPORT_DIR'], 'elasticsearch-conformance.md')
    : undefined,
});
