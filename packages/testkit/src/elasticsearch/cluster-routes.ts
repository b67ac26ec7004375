import { createHash } from 'node:crypto';
import { badRequest, esError, type EsResponse } from './es-errors.js';
import {
  electedMaster,
  isDataNode,
  liveDataNodes,
  liveNodes,
  type NodeView,
  type RestContext,
} from './rest-context.js';
import { delay } from '../util/wait.js';

const buildHash = (version: string): string => createHash('sha1').update(`testkit-${version}`).digest('hex');

/** `GET /` (and `HEAD /`, the client's ping): the node's name, the cluster and the version. */
export function info(ctx: RestContext): EsResponse {
  const v = ctx.cluster.version;
  return {
    status: 200,
    body: {
      name: ctx.node.name,
      cluster_name: ctx.cluster.name,
      cluster_uuid: ctx.store.clusterUuid,
      version: {
        number: v.number,
        build_flavor: 'default',
        build_type: 'docker',
        build_hash: buildHash(v.number),
        build_date: '2025-01-01T00:00:00.000000000Z',
        build_snapshot: false,
        lucene_version: v.lucene,
        minimum_wire_compatibility_version: v.minimumWire,
        minimum_index_compatibility_version: v.minimumIndex,
      },
      tagline: 'You Know, for Search',
    },
  };
}

type Health = 'green' | 'yellow' | 'red';
const rank: Record<Health, number> = { green: 0, yellow: 1, red: 2 };

function healthBody(
  ctx: RestContext,
  indexExpr: string | undefined,
  timedOut: boolean,
): Record<string, unknown> {
  const resolved = ctx.store.resolve(indexExpr, true);
  const indices = Array.isArray(resolved) ? resolved : [];
  const data = liveDataNodes(ctx.cluster);
  let status: Health = 'green';
  let active = 0;
  let activePrimaries = 0;
  let unassigned = 0;
  for (const index of indices) {
    const copies = 1 + index.replicas;
    const assigned = Math.min(copies, data);
    active += assigned;
    activePrimaries += assigned > 0 ? 1 : 0;
    unassigned += copies - assigned;
    const s: Health = assigned === 0 ? 'red' : assigned < copies ? 'yellow' : 'green';
    if (rank[s] > rank[status]) status = s;
  }
  const total = active + unassigned;
  return {
    cluster_name: ctx.cluster.name,
    status,
    timed_out: timedOut,
    number_of_nodes: liveNodes(ctx.cluster).length,
    number_of_data_nodes: data,
    active_primary_shards: activePrimaries,
    active_shards: active,
    relocating_shards: 0,
    initializing_shards: 0,
    unassigned_shards: unassigned,
    unassigned_primary_shards: indices.length - activePrimaries,
    delayed_unassigned_shards: 0,
    number_of_pending_tasks: 0,
    number_of_in_flight_fetch: 0,
    task_max_waiting_in_queue_millis: 0,
    active_shards_percent_as_number: total === 0 ? 100 : (100 * active) / total,
  };
}

/** Parses `30s`, `500ms`, `1m`, `-1` (Elasticsearch time values) into ms; `fallbackMs` if absent or unreadable. */
export function timeValue(text: string | null, fallbackMs: number): number {
  if (text === null) return fallbackMs;
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) return text.trim() === '-1' ? Infinity : fallbackMs;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'] ?? 1;
  return Number(m[1]) * unit;
}

/** The longest a health request waits (for a master or a status), whatever it asks for. */
export const maxHealthWaitMs = 30_000;

/**
 * `GET /_cluster/health[/{index}]`. Without `local=true` it needs an elected master and waits up to
 * `master_timeout` (default 30 s) for one, then answers 503 `master_not_discovered_exception`.
 * `wait_for_status` waits up to `timeout` (default 30 s); a timeout answers 408 with `timed_out: true`.
 */
export async function clusterHealth(ctx: RestContext, index: string | undefined): Promise<EsResponse> {
  const q = ctx.request.query;
  const local = q.get('local') === 'true' || q.get('local') === '';
  const started = Date.now();
  if (!local) {
    const masterTimeout = Math.min(timeValue(q.get('master_timeout'), 30_000), maxHealthWaitMs);
    while (electedMaster(ctx.cluster) === undefined) {
      if (Date.now() - started >= masterTimeout) {
        return esError(503, 'master_not_discovered_exception', 'no master is elected');
      }
      await delay(Math.min(50, masterTimeout));
    }
  }
  if (index !== undefined) {
    const resolved = ctx.store.resolve(index);
    if (!Array.isArray(resolved)) {
      return { status: 408, body: { ...healthBody(ctx, index, true), status: 'red' } };
    }
  }
  const wanted = q.get('wait_for_status') as Health | null;
  if (wanted !== null && !(wanted in rank)) return badRequest(`unknown health status [${wanted}]`);
  const timeout = Math.min(timeValue(q.get('timeout'), 30_000), maxHealthWaitMs);
  for (;;) {
    const body = healthBody(ctx, index, false);
    if (wanted === null || rank[body.status as Health] <= rank[wanted]) return { status: 200, body };
    if (Date.now() - started >= timeout) return { status: 408, body: { ...body, timed_out: true } };
    await delay(50);
  }
}

const metrics = new Set([
  '_all',
  'settings',
  'os',
  'process',
  'jvm',
  'thread_pool',
  'transport',
  'http',
  'plugins',
  'ingest',
  'aggregations',
  'indices',
]);

function selectNodes(ctx: RestContext, filter: string): NodeView[] {
  const nodes = ctx.cluster.nodes().filter((n) => n.status === 'running' || n.status === 'hung');
  if (filter === '_all' || filter === '*') return nodes;
  const selected = new Set<NodeView>();
  for (const part of filter.split(',')) {
    for (const n of nodes) {
      if (part === '_local' && n.id === ctx.node.id) selected.add(n);
      else if (part === '_master' && electedMaster(ctx.cluster)?.id === n.id) selected.add(n);
      else if (part === n.id || part === n.name) selected.add(n);
      else if (/^(master|data|ingest):(true|false)$/.test(part)) {
        const [role, flag] = part.split(':');
        const has = role === 'data' ? isDataNode(n) : n.roles.includes(role!);
        if (has === (flag === 'true')) selected.add(n);
      }
    }
  }
  return [...selected];
}

/**
 * `GET /_nodes`, `/_nodes/{metric}`, `/_nodes/{nodeId}`, `/_nodes/{nodeId}/{metric}` — what sniffing
 * reads (`/_nodes/_all/http`). Every metric answers the same: identity, roles and the `http` section.
 * A hung node is selected but cannot answer: it counts in `_nodes.failed` and is left out of `nodes`.
 */
export function nodesInfo(ctx: RestContext, a: string | undefined, b: string | undefined): EsResponse {
  let filter = '_all';
  if (b !== undefined) filter = a ?? '_all';
  else if (a !== undefined && !a.split(',').every((m) => metrics.has(m))) filter = a;
  const selected = selectNodes(ctx, filter);
  const answering = selected.filter((n) => n.status === 'running');
  const v = ctx.cluster.version;
  const nodes: Record<string, unknown> = {};
  for (const n of answering) {
    nodes[n.id] = {
      name: n.name,
      transport_address: `127.0.0.1:${n.port}`,
      host: '127.0.0.1',
      ip: '127.0.0.1',
      version: v.number,
      build_flavor: 'default',
      build_type: 'docker',
      build_hash: buildHash(v.number),
      roles: [...n.roles],
      attributes: {},
      http: {
        bound_address: [`127.0.0.1:${n.port}`],
        publish_address: n.publishAddress,
        max_content_length_in_bytes: 104_857_600,
      },
    };
  }
  return {
    status: 200,
    body: {
      _nodes: {
        total: selected.length,
        successful: answering.length,
        failed: selected.length - answering.length,
      },
      cluster_name: ctx.cluster.name,
      nodes,
    },
  };
}
