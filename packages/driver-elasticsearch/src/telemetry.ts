import type { DbTelemetry } from '@reconnect/core';
import { stateOf, type ElasticsearchClient } from './client.js';
import type { ElasticsearchDriverOptions } from './options.js';

/** The `cluster_name` of an answer (`GET /`, `GET _cluster/health`), if it has one. */
export function clusterNameOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const name = (body as { cluster_name?: unknown }).cluster_name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * What spans and metrics say of an Elasticsearch target (OpenTelemetry's Elasticsearch conventions): `db.namespace`
 * is the cluster's name as the connected node said it (its `GET /` at connect, then its `_cluster/health` probes),
 * unknown before a connect. Server and peer are core's: the one node of a single-node target, else each attempt's node.
 */
export function elasticsearchTelemetry(
  _options: ElasticsearchDriverOptions,
  client?: ElasticsearchClient,
): DbTelemetry {
  const name = client === undefined ? undefined : stateOf(client)?.clusterName;
  return name === undefined ? {} : { namespace: name };
}
