import { boundByAttempt, notPaced } from './connection.js';
import type { Client } from '@elastic/elasticsearch';
import {
  abortReason,
  closeWithin,
  defineDriver,
  type ConnectContext,
  type NodeAddress,
  type ProbeContext,
  type ProbeReport,
} from '@reconnect/core';
import { bindClientToAttempt } from './attempt-client.js';
import { classifyElasticsearchError } from './classify.js';
import { createElasticsearchClient, stateOf, type ElasticsearchClient } from './client.js';
import { nodesFromInfo } from './discover.js';
import { ClusterRedError } from './errors.js';
import { clusterNameOf, elasticsearchTelemetry } from './telemetry.js';
import {
  describeElasticsearchOptions,
  elasticsearchOptionsSchema,
  elasticsearchSecretKeys,
  nodesOf,
  type ElasticsearchDriverOptions,
} from './options.js';

/** The health check's request when the policy names none: answered by the node itself, master or not. */
export const defaultProbe = 'GET /_cluster/health?local=true';

/** Parses a `healthCheck.query` (`GET _cluster/health`, `HEAD /`, `GET /_cat/health?format=json`). */
export function parseProbeQuery(query: string): { method: string; path: string; querystring: string } {
  const parts = query.trim().split(/\s+/);
  const [first = 'GET', second] = parts;
  const hasMethod = second !== undefined || /^(GET|HEAD|POST)$/i.test(first);
  const method = hasMethod ? first.toUpperCase() : 'GET';
  let target = (hasMethod ? second : first) ?? '/';
  if (!target.startsWith('/')) target = `/${target}`;
  const q = target.indexOf('?');
  return {
    method,
    path: q === -1 ? target : target.slice(0, q),
    querystring: q === -1 ? '' : target.slice(q + 1),
  };
}

type RequestParams = Parameters<ElasticsearchClient['transport']['request']>[0];

// One request of the driver's own (connect, probe, discover): when the signal cut it, the signal's reason is the
// error (the client would report the abort as a ConnectionError carrying only the reason's message). A socket opened
// for it is not paced: a probe held back past its timeout would declare a recovering node down again.
async function send(
  client: ElasticsearchClient,
  params: RequestParams,
  signal: AbortSignal,
): Promise<unknown> {
  try {
    return await client.transport.request(params, { signal: notPaced(signal), maxRetries: 0 });
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    throw error;
  }
}

/**
 * Whether `error` is the node refusing a request because it is busy: a 429 classified `throttled` (a full queue, a
 * TRANSIENT circuit breaker; not a PERMANENT one). The node answered, so it is up: a connect or probe so answered
 * does not count it down (issue #26); the operations it refuses are backed off by the policy's retry (jittered
 * backoff, `Retry-After`).
 */
export function isBusyAnswer(error: unknown): boolean {
  const c = classifyElasticsearchError(error);
  return c.kind === 'throttled' && c.statusCode === 429;
}

/** What a probe answered with 429 reports: the node is up and busy. */
export const busyProbeStatus = 'busy';

function nodeOf(options: ElasticsearchDriverOptions, ctx: ConnectContext): NodeAddress {
  if (ctx.node !== undefined) return ctx.node;
  const first = nodesOf(options)[0];
  if (first === undefined) throw new TypeError('elasticsearch: no node in the options');
  return first;
}

async function connect(
  options: ElasticsearchDriverOptions,
  ctx: ConnectContext,
): Promise<ElasticsearchClient> {
  const node = nodeOf(options, ctx);
  const client = createElasticsearchClient(options, { policy: ctx.policy, node, target: ctx.target });
  try {
    // HTTP is lazy: ask once, so a refused port, bad credentials or a server that is not Elasticsearch fail the
    // connect rather than the first operation. `GET /` needs no privilege beyond monitor.
    // Bounded by the connect's signal alone (reconnect.connectTimeout), not the client's requestTimeout (the
    // policy's attemptTimeout): a silent node reads as every store's does (`reconnect check`: CONNECT_TIMEOUT).
    const info = await send(client, { method: 'GET', path: '/' }, boundByAttempt(ctx.signal));
    const state = stateOf(client);
    if (state !== undefined) state.clusterName = clusterNameOf(info);
    return client;
  } catch (error) {
    // Busy (429) is an answer: the node is there, and the client is kept (cluster_name comes with a probe).
    if (isBusyAnswer(error)) return client;
    await close(client);
    throw error;
  }
}

async function probe(client: ElasticsearchClient, ctx: ProbeContext): Promise<ProbeReport | undefined> {
  const { method, path, querystring } = parseProbeQuery(ctx.query ?? defaultProbe);
  const params = querystring === '' ? { method, path } : { method, path, querystring };
  let body: unknown;
  try {
    body = await send(client, params, ctx.signal);
  } catch (error) {
    // A busy node (429) answered: up, not down (its health stays as last seen).
    if (isBusyAnswer(error)) return { status: busyProbeStatus };
    throw error;
  }
  const state = stateOf(client);
  if (state === undefined || !path.startsWith('/_cluster/health')) return undefined;
  state.clusterName = clusterNameOf(body) ?? state.clusterName;
  const health = body as { status?: unknown; number_of_nodes?: unknown } | null;
  const status = health?.status;
  state.lastHealth = {
    status: status === 'green' || status === 'yellow' || status === 'red' ? status : 'unknown',
    nodes: typeof health?.number_of_nodes === 'number' ? health.number_of_nodes : undefined,
    at: Date.now(),
  };
  if (status === 'red' && state.redIsDown) throw new ClusterRedError(state.node.id);
  // The cluster's colour, as the node sees it: health() shows it per node and for the target.
  return { status: state.lastHealth.status };
}

async function close(client: ElasticsearchClient): Promise<void> {
  // Client.close() empties its pool and closes each undici pool, which waits for in-flight requests: a node that
  // leaves the cluster keeps answering what it was asked. A hung node never answers, so that wait is bounded and
  // then the sockets are destroyed.
  const pool = client.connectionPool as unknown as { connections: { pool?: { destroy(): unknown } }[] };
  const connections = [...pool.connections];
  const graceMs = stateOf(client)?.closeGraceMs ?? 2000;
  await closeWithin(
    () => client.close(),
    () => {
      for (const c of connections) void Promise.resolve(c.pool?.destroy()).catch(() => undefined);
    },
    { graceMs },
  );
}

async function discover(client: ElasticsearchClient, ctx: ProbeContext): Promise<NodeAddress[]> {
  const body = await send(client, { method: 'GET', path: '/_nodes/_all/http' }, ctx.signal);
  const seed = stateOf(client)?.node.url;
  const protocol = seed === undefined ? 'http:' : new URL(seed).protocol;
  return nodesFromInfo(body, protocol);
}

/**
 * The Elasticsearch driver (@elastic/elasticsearch 9.4): one client per node, the core's node pool choosing the
 * node, dead time and resurrection, the core's executor retrying. Every client has `maxRetries: 0` and sniffing
 * off, so nothing is retried or rerouted behind the policy's back; an operation's requests follow its attempt
 * (`bindAttempt`: the call's own attemptTimeout, deadline and signal, and nothing sent once it ended).
 */
export const elasticsearchDriver = defineDriver<ElasticsearchDriverOptions, ElasticsearchClient>({
  name: 'elasticsearch',
  system: 'elasticsearch',
  options: elasticsearchOptionsSchema,
  connect,
  probe,
  close,
  classify: classifyElasticsearchError,
  nodes: nodesOf,
  discover,
  bindAttempt: bindClientToAttempt,
  telemetry: elasticsearchTelemetry,
  describe: describeElasticsearchOptions,
  secretKeys: elasticsearchSecretKeys,
});

export type { Client };
