import { Client, SniffingTransport, type Transport } from '@elastic/elasticsearch';

type ClientOptions = ConstructorParameters<typeof Client>[0];
import type { NodeAddress, ResolvedPolicy } from '@reconnect/core';
import { defaultConnectRate } from './connect-pacer.js';
import { withPacing } from './connection.js';
import { defaultRecoveryConnectRate, defaultRecoverySettleMs, recoveryWindowFor } from './recovery-window.js';
import type { ElasticsearchDriverOptions } from './options.js';

/** The client an operation gets: one `@elastic/elasticsearch` Client bound to one node. */
export type ElasticsearchClient = Client;

/** The cluster health a node last answered its probe with. */
export interface ClusterHealthSnapshot {
  status: 'green' | 'yellow' | 'red' | 'unknown';
  /** `number_of_nodes` as the node saw it. */
  nodes: number | undefined;
  /** Epoch ms. */
  at: number;
}

/** What the driver keeps beside each client it made. */
export interface ClientState {
  node: NodeAddress;
  /** The target's name, for the errors the driver builds. */
  target: string;
  redIsDown: boolean;
  /** The `clientIds` option: the request helpers give auto-id writes an id of their own (requests.ts). */
  clientIds: boolean;
  /** Bounds the wait for in-flight requests when the client is closed. */
  closeGraceMs: number;
  lastHealth: ClusterHealthSnapshot | undefined;
  /** `cluster_name` as the node last said it (its `GET /` at connect, a `_cluster/health` probe): `db.namespace`. */
  clusterName: string | undefined;
}

const states = new WeakMap<Client, ClientState>();

/** The driver's state of a client it made, or undefined for any other client. */
export function stateOf(client: Client): ClientState | undefined {
  return states.get(client);
}

/** The cluster health `client`'s node reported at its last probe (undefined before the first). */
export function lastClusterHealth(client: Client): ClusterHealthSnapshot | undefined {
  return states.get(client)?.lastHealth;
}

/** The vendored media types a 9.x client sends, for a server of major `compatibility`. */
export function vendoredHeaders(compatibility: 8 | 9): {
  jsonContentType: string;
  ndjsonContentType: string;
  accept: string;
} {
  return {
    jsonContentType: `application/vnd.elasticsearch+json; compatible-with=${compatibility}`,
    ndjsonContentType: `application/vnd.elasticsearch+x-ndjson; compatible-with=${compatibility}`,
    accept: `application/vnd.elasticsearch+json; compatible-with=${compatibility},text/plain`,
  };
}

type TransportOptions = ConstructorParameters<typeof Transport>[0];

// The Client hard-codes `compatible-with=9` into the transport options it builds; a transport subclass is the
// one seam that can change them (request headers cannot: bulk bodies need the NDJSON type, others JSON).
type OpenTelemetryOptions = NonNullable<TransportOptions['openTelemetry']>;

/**
 * The client's own OpenTelemetry instrumentation, as its transport gets it: the `openTelemetry` option, and off when
 * neither it nor `OTEL_ELASTICSEARCH_ENABLED` (the client's own switch, then left to the client) says. Its CLIENT span
 * per request would count every attempt as a second call to the database in a service map, beside the target's
 * operation span, and carries the deprecated `db.system`.
 */
export function clientOpenTelemetry(options: ElasticsearchDriverOptions): OpenTelemetryOptions {
  const given = defined({ ...options.openTelemetry }) as OpenTelemetryOptions;
  if (given.enabled !== undefined || process.env.OTEL_ELASTICSEARCH_ENABLED !== undefined) return given;
  return { ...given, enabled: false };
}

// The Client builds its transport's options itself and passes neither `openTelemetry` nor vendored media types of
// another major: a subclass of its default transport adds them (sniffing stays off through the options).
function transportFor(
  compatibility: 8 | 9 | undefined,
  openTelemetry: OpenTelemetryOptions,
): typeof Transport {
  return class DriverTransport extends SniffingTransport {
    constructor(transportOptions: TransportOptions) {
      super({
        ...transportOptions,
        openTelemetry,
        ...(compatibility === 8 ? { vendoredHeaders: vendoredHeaders(8) } : {}),
      });
    }
  };
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The client options the policy decides, applied over the user's: one node, no retries of its own
 * (`maxRetries: 0`: the transport would retry POST _doc after a lost answer), no sniffing, and
 * `requestTimeout` = `retry.attemptTimeout` (0 = no limit, as in the policy): the limit of every request that is
 * not bound to an attempt (an operation's requests follow their attempt instead; see `bindAttempt`).
 */
export function policyClientOptions(policy: ResolvedPolicy): Partial<ClientOptions> {
  const timeout = policy.retry.attemptTimeout;
  return {
    maxRetries: 0,
    sniffOnStart: false,
    sniffInterval: false,
    sniffOnConnectionFault: false,
    ...(timeout > 0 ? { requestTimeout: timeout } : {}),
  };
}

/** What {@link createElasticsearchClient} needs besides the options. */
export interface CreateClientContext {
  policy: ResolvedPolicy;
  /** The node this client talks to (its URL carries no credentials). */
  node: NodeAddress;
  /** The target's name, the client's default `name`. */
  target: string;
}

/** How the client of `ctx.node` paces its new sockets: `connectRate` when set above 0, else while recovering. */
function pacingOf(options: ElasticsearchDriverOptions, ctx: CreateClientContext) {
  const connectRate = options.connectRate ?? defaultConnectRate;
  const recoveryConnectRate = options.recoveryConnectRate ?? defaultRecoveryConnectRate;
  if (connectRate > 0 || recoveryConnectRate <= 0) return { connectRate, recoveryConnectRate };
  const settleMs = options.recoverySettle ?? defaultRecoverySettleMs;
  const recovery = recoveryWindowFor(options, ctx.target, ctx.node.id, settleMs);
  return { connectRate, recoveryConnectRate, recovery };
}

/**
 * Builds the client for one node under a policy. The policy's settings are applied last, so nothing in the
 * options can undo them; credentials come from `auth` only (never from the node's URL).
 */
export function createElasticsearchClient(
  options: ElasticsearchDriverOptions,
  ctx: CreateClientContext,
): Client {
  const url = ctx.node.url ?? `http://${ctx.node.host}:${ctx.node.port}`;
  const clientOptions: ClientOptions = {
    ...(defined({
      auth: options.auth,
      tls: options.tls,
      caFingerprint: options.caFingerprint,
      headers: options.headers,
      compression: options.compression,
      opaqueIdPrefix: options.opaqueIdPrefix,
      maxResponseSize: options.maxResponseSize,
      maxCompressedResponseSize: options.maxCompressedResponseSize,
      enableMetaHeader: options.enableMetaHeader,
      agent: options.agent as ClientOptions['agent'],
      proxy: options.proxy,
    }) as Partial<ClientOptions>),
    name: options.name ?? `reconnect:${ctx.target}`,
    node: { url: new URL(url) },
    Transport: transportFor(options.compatibility, clientOpenTelemetry(options)),
    // Lifts undici's fixed timeouts for requests bound to an attempt, keeps failures' causes and paces new sockets
    // (connection.ts): always at `connectRate`, else while the node recovers (its window outlives this client).
    Connection: withPacing(pacingOf(options, ctx)),
    ...policyClientOptions(ctx.policy),
  };
  const client = new Client(clientOptions);
  const timeout = ctx.policy.retry.attemptTimeout;
  states.set(client, {
    node: ctx.node,
    target: ctx.target,
    redIsDown: options.redIsDown ?? false,
    clientIds: options.clientIds ?? false,
    closeGraceMs: timeout > 0 ? Math.min(timeout, 10_000) : 2000,
    lastHealth: undefined,
    clusterName: undefined,
  });
  return client;
}
