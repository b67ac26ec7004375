import type { ServerStatus } from '../servers/server-handle.js';
import type { DocumentStore, EsIndex } from './document-store.js';
import { esError, type EsResponse } from './es-errors.js';
import type { WriteRequest } from './write-log.js';

/** A node as the REST layer sees it. */
export interface NodeView {
  id: string;
  name: string;
  roles: readonly string[];
  port: number;
  /** `http.publish_address` as `_nodes` reports it. */
  publishAddress: string;
  status: ServerStatus;
}

/** What the REST layer knows about the cluster. */
export interface ClusterView {
  name: string;
  version: EsVersion;
  nodes(): readonly NodeView[];
}

/** The version a cluster reports, and the majors it accepts in `compatible-with`. */
export interface EsVersion {
  number: string;
  major: number;
  lucene: string;
  minimumWire: string;
  minimumIndex: string;
}

/** One request, routed to a handler. */
export interface RestRequest {
  method: string;
  path: string;
  segments: string[];
  query: URLSearchParams;
  body: Buffer;
  requestId: number;
  opaqueId: string | undefined;
}

/** Everything a handler may use. */
export interface RestContext {
  node: NodeView;
  cluster: ClusterView;
  store: DocumentStore;
  request: RestRequest;
  /** Bulk items to reject with 429 (a fault rule of the receiving node). */
  bulkRejectItems: number;
}

/** Nodes that are members right now: running (a hung or killed node is out, as if fault detection were instant). */
export function liveNodes(cluster: ClusterView): NodeView[] {
  return cluster.nodes().filter((n) => n.status === 'running');
}

/** A node holding data: role `data` or any `data_*` tier. */
export const isDataNode = (n: NodeView): boolean =>
  n.roles.some((r) => r === 'data' || r.startsWith('data_'));

/** The elected master: the first live master-eligible node. */
export function electedMaster(cluster: ClusterView): NodeView | undefined {
  return liveNodes(cluster).find((n) => n.roles.includes('master'));
}

/** How many running nodes hold data. */
export function liveDataNodes(cluster: ClusterView): number {
  return liveNodes(cluster).filter(isDataNode).length;
}

/** `_shards` of a write to `index`: the primary plus the replicas that have a live node to live on. */
export function writeShards(
  ctx: RestContext,
  index: EsIndex,
): { total: number; successful: number; failed: 0 } {
  const total = 1 + index.replicas;
  return { total, successful: Math.min(total, liveDataNodes(ctx.cluster)), failed: 0 };
}

/** The reason writes are refused right now (no master: a cluster block; no data node: no shard), if any. */
export function writeBlock(ctx: RestContext, index: string): EsResponse | undefined {
  if (electedMaster(ctx.cluster) === undefined) {
    return esError(503, 'cluster_block_exception', 'blocked by: [SERVICE_UNAVAILABLE/2/no master];');
  }
  if (liveDataNodes(ctx.cluster) === 0) {
    return esError(
      503,
      'unavailable_shards_exception',
      `[${index}][0] primary shard is not active Timeout: [1m]`,
      {
        index,
      },
    );
  }
  return undefined;
}

/** The reason reads are refused right now (no data node holds a copy), if any. */
export function readBlock(ctx: RestContext, index: string): EsResponse | undefined {
  if (liveDataNodes(ctx.cluster) > 0) return undefined;
  return esError(503, 'no_shard_available_action_exception', `No shard available for [${index}][0]`, {
    index,
  });
}

/** The request that caused a write, for the write log. */
export function writeRequest(ctx: RestContext, bulkItem?: number): WriteRequest {
  const r = ctx.request;
  const qs = r.query.toString();
  return {
    requestId: r.requestId,
    nodeName: ctx.node.name,
    method: r.method,
    url: qs === '' ? r.path : `${r.path}?${qs}`,
    opaqueId: r.opaqueId,
    bulkItem,
  };
}

/** Parses the body as JSON; undefined for an empty body; a 400 `parse_exception` for bad JSON. */
export function jsonBody(
  ctx: RestContext,
): { ok: true; value: unknown } | { ok: false; response: EsResponse } {
  const text = ctx.request.body.toString('utf8').trim();
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      response: esError(400, 'parse_exception', `Failed to parse content: ${String(error)}`),
    };
  }
}

/** `?refresh=true|wait_for|''` means refresh after the write. */
export function wantsRefresh(query: URLSearchParams): boolean {
  const r = query.get('refresh');
  return r !== null && r !== 'false';
}

/** An optional non-negative integer query parameter; NaN when present but not a number. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  return v === null ? undefined : /^\d+$/.test(v) ? Number(v) : NaN;
}
