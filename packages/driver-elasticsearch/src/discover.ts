import type { NodeAddress } from '@reconnect/core';
import { nodeAddress } from './options.js';

/** One entry of `GET /_nodes/_all/http`, as far as discovery reads it. */
export interface NodesInfoEntry {
  name?: string;
  version?: string;
  roles?: string[];
  attributes?: Record<string, unknown>;
  http?: { publish_address?: string };
}

/** The `http.publish_address` forms Elasticsearch writes: `ip:port`, `host/ip:port`, `[::1]:port`. */
export function parsePublishAddress(address: string): { host: string; port: number } | undefined {
  const slash = address.indexOf('/');
  // `host/ip:port`: the host name is what a certificate names and what the operator configured; keep it.
  const hostPart = slash === -1 ? undefined : address.slice(0, slash);
  const rest = slash === -1 ? address : address.slice(slash + 1);
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(rest);
  if (m === null) return undefined;
  const port = Number(m[2]);
  if (port <= 0 || port > 65535) return undefined;
  const ip = m[1]!;
  const host = hostPart !== undefined && hostPart !== '' ? hostPart : ip;
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

/**
 * A master-only node holds no data and takes no requests worth sending (go-elasticsearch and elastic-transport skip
 * them): it has the `master` role and no `data*`, `ingest` or other serving role. Voting-only nodes too.
 */
export function isMasterOnly(roles: readonly string[] | undefined): boolean {
  if (roles === undefined || roles.length === 0) return false; // coordinating-only: serves requests
  const serving = roles.filter((r) => r !== 'master' && r !== 'voting_only');
  return roles.includes('master') && serving.length === 0;
}

const formatHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/**
 * The nodes of a `_nodes/_all/http` answer, with the seeds' scheme (`http:` / `https:`): master-only nodes and
 * nodes without an HTTP publish address are left out; roles are kept, and so are the node's attributes plus
 * its `name`, `version` and Elasticsearch id (`es.id`), for a selector.
 */
export function nodesFromInfo(body: unknown, protocol: string): NodeAddress[] {
  const nodes = (body as { nodes?: Record<string, NodesInfoEntry> } | null)?.nodes;
  if (typeof nodes !== 'object' || nodes === null) return [];
  const out: NodeAddress[] = [];
  for (const [esId, info] of Object.entries(nodes)) {
    if (isMasterOnly(info.roles)) continue;
    const publish = info.http?.publish_address;
    if (typeof publish !== 'string') continue;
    const address = parsePublishAddress(publish);
    if (address === undefined) continue;
    const attributes: Record<string, string> = { 'es.id': esId };
    if (typeof info.name === 'string') attributes.name = info.name;
    if (typeof info.version === 'string') attributes.version = info.version;
    for (const [k, v] of Object.entries(info.attributes ?? {})) if (typeof v === 'string') attributes[k] = v;
    out.push(
      nodeAddress(`${protocol}//${formatHost(address.host)}:${address.port}`, {
        roles: info.roles ?? [],
        attributes,
      }),
    );
  }
  return out;
}
