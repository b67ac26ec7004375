import type { ElasticsearchCluster } from '../elasticsearch/cluster.js';
import type { FaultRule, FaultScope } from '../elasticsearch/node-faults.js';
import { freePort } from '../net/free-port.js';
import type { ActiveFault, CatalogueFault, FaultEnv } from './fault.js';

// Faults of the Elasticsearch test cluster (`startElasticsearchCluster`): answers Elasticsearch gives under memory
// pressure or a cluster block, a node leaving with a bulk's answer half written, and sniffing that yields
// addresses nothing listens on. `env.server` is the cluster. Each rule is set on every node (or the one named)
// and removed at heal; `acted()` is how many requests the rules answered.

const esOnly = ['elasticsearch'] as const;

function needCluster(env: FaultEnv, name: string): ElasticsearchCluster {
  const cluster = env.server as Partial<ElasticsearchCluster>;
  if (env.store !== 'elasticsearch' || cluster.nodes === undefined)
    throw new Error(`fault "${name}" needs env.server to be an Elasticsearch test cluster`);
  return env.server as ElasticsearchCluster;
}

/** Writes: every POST and PUT (`POST _doc`, `PUT _create`, `_bulk`); reads (GET, HEAD) pass. */
const writes: readonly FaultScope[] = [{ match: { method: 'POST' } }, { match: { method: 'PUT' } }];

/** Rules made by `make` (once per node and scope); heal removes them; acted counts the requests they answered. */
function rules(
  cluster: ElasticsearchCluster,
  scopes: readonly FaultScope[],
  make: (n: ElasticsearchCluster['nodes'][number], scope: FaultScope) => FaultRule,
): ActiveFault {
  const made = cluster.nodes.flatMap((n) => scopes.map((s) => make(n, s)));
  return {
    acted: () => made.reduce((sum, r) => sum + r.hits, 0),
    heal: () => {
      for (const r of made) r.remove();
      return Promise.resolve();
    },
  };
}

export const esFaults: readonly CatalogueFault[] = [
  {
    name: 'es-circuit-transient',
    group: 'store',
    title: '429 circuit_breaking_exception, TRANSIENT',
    description:
      'Elasticsearch: every node answers every request 429 `circuit_breaking_exception` with `durability: TRANSIENT` (the parent breaker: memory held by other requests; waiting helps), no Retry-After, for the fault.',
    stores: esOnly,
    viaProxy: false,
    start(env) {
      const cluster = needCluster(env, 'es-circuit-transient');
      return Promise.resolve(
        rules(cluster, [{}], (n, s) => n.faults.circuitBreaking({ ...s, durability: 'TRANSIENT' })),
      );
    },
  },
  {
    name: 'es-circuit-permanent',
    group: 'store',
    title: '429 circuit_breaking_exception, PERMANENT, on writes',
    description:
      'Elasticsearch: every node answers every write (POST, PUT) 429 `circuit_breaking_exception` with `durability: PERMANENT` (the request alone exceeds a breaker limit: it trips again however long one waits); reads are served. A client that retries it only adds load: `acted` counts the refused requests.',
    stores: esOnly,
    viaProxy: false,
    start(env) {
      const cluster = needCluster(env, 'es-circuit-permanent');
      return Promise.resolve(
        rules(cluster, writes, (n, s) => n.faults.circuitBreaking({ ...s, durability: 'PERMANENT' })),
      );
    },
  },
  {
    name: 'es-cluster-block',
    group: 'store',
    title: '403 cluster_block_exception on writes',
    description:
      'Elasticsearch: every node answers every write (POST, PUT) 403 `cluster_block_exception` (the flood-stage disk watermark put a read-only-allow-delete block on the index); reads are served.',
    stores: esOnly,
    viaProxy: false,
    start(env) {
      const cluster = needCluster(env, 'es-cluster-block');
      return Promise.resolve(
        rules(cluster, writes, (n, s) =>
          n.faults.respond(
            {
              status: 403,
              type: 'cluster_block_exception',
              reason:
                'index [demo] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];',
            },
            s,
          ),
        ),
      );
    },
  },
  {
    name: 'es-bulk-node-leaves',
    group: 'store',
    title: 'a node leaves mid-`_bulk`',
    description:
      "Elasticsearch: the next 2 `_bulk`s each node receives land in part (the first item is refused unapplied, the others are applied) and their answers are cut halfway by a TCP reset, as a node dying mid-answer leaves them; 1 s in, node-1's process is killed (it leaves the cluster) until heal restarts it. The client cannot tell which items landed.",
    stores: esOnly,
    viaProxy: false,
    start(env) {
      const cluster = needCluster(env, 'es-bulk-node-leaves');
      // On every node: a client routes its bulks to whichever node it likes, and marks a node that cut one dead.
      const scope = { requests: 2, match: { path: /\/_bulk$/ } };
      const cuts = cluster.nodes.map((n) => {
        n.faults.rejectBulkItems(1, scope);
        return n.faults.resetMidResponse(scope);
      });
      const node = cluster.nodes[0]!;
      const leave = setTimeout(() => void node.kill().catch(() => {}), 1000);
      let healed = false;
      return Promise.resolve({
        // Bulk answers cut.
        acted: () => cuts.reduce((sum, r) => sum + r.hits, 0),
        heal: async () => {
          if (healed) return;
          healed = true;
          clearTimeout(leave);
          for (const n of cluster.nodes) n.faults.clear();
          if (node.status === 'killed') await node.restart();
        },
      });
    },
  },
  {
    name: 'es-sniff-unreachable',
    group: 'store',
    title: 'sniffing returns unreachable addresses',
    description:
      'Elasticsearch: `_nodes` reports, for every node, a publish address nothing listens on (a node behind NAT or in a container publishing its inner address); then node-1 is killed, so a client that swaps its seeds for what sniffing says has no reachable node left. Heal restores the addresses and node-1.',
    stores: esOnly,
    viaProxy: false,
    async start(env) {
      const cluster = needCluster(env, 'es-sniff-unreachable');
      for (const n of cluster.nodes) n.setPublishAddress(`127.0.0.1:${await freePort()}`);
      const node = cluster.nodes[0]!;
      await node.kill();
      let healed = false;
      return {
        heal: async () => {
          if (healed) return;
          healed = true;
          for (const n of cluster.nodes) n.setPublishAddress(undefined);
          if (node.status === 'killed') await node.restart();
        },
      };
    },
  },
];
