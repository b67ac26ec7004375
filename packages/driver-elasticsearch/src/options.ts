import { durationSchema, policyOwnedOptions, type NodeAddress } from '@reconnect/core';
import { z } from 'zod';

// Client options the target's policy decides. Each one, set by hand, would bring back the transport's own
// retries (POST included), its dead-node pool that never resurrects, or sniffing that replaces a reachable seed
// with unreachable addresses — so they are refused with the policy key to use instead.
const policyOwned = {
  maxRetries: 'retries are the policy’s (retry.maxRetries); every client is created with maxRetries 0',
  requestTimeout: 'the request timeout is the policy’s retry.attemptTimeout',
  retryOnTimeout: 'timeouts are retried when the policy lists them (retry.retryOn.errors: [timeout])',
  pingTimeout: 'resurrection pings are bounded by the policy’s healthCheck.timeout',
  sniffOnStart: 'discovery is the policy’s (pool.discovery.onStart)',
  sniffInterval: 'discovery is the policy’s (pool.discovery.interval)',
  sniffOnConnectionFault: 'discovery is the policy’s (pool.discovery.onFault)',
  sniffEndpoint: 'discovery always reads _nodes/_all/http',
  resurrectStrategy: 'resurrection is the policy’s (pool.resurrect)',
  ConnectionPool: 'the node pool is the policy’s (pool.*): one client per node',
  nodeSelector: 'node selection is the policy’s (pool.selector)',
  nodeFilter: 'node selection is the policy’s (pool.selector)',
  Transport: 'the transport is set by the driver (compatibility chooses its headers)',
  Connection: 'the connection class is the client’s default (undici)',
  cloud: 'give the Cloud endpoint as node (https://…); one endpoint is one node',
} as const;

/** Option keys the policy owns; giving one is a config error that names the policy key to use. */
export const policyOwnedKeys: readonly string[] = Object.keys(policyOwned);

const refusals = policyOwnedOptions(policyOwned);

const httpUrl = z.string().refine(
  (value) => {
    try {
      const u = new URL(value);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'Expected an http:// or https:// URL, e.g. http://127.0.0.1:9200' },
);

/** One node: a URL, or `{ url, roles?, attributes? }`. */
export const nodeOptionSchema = z.union([
  httpUrl,
  z.strictObject({
    url: httpUrl,
    /** e.g. `['data', 'ingest']`; kept on the node for a selector. */
    roles: z.array(z.string()).optional(),
    /** Free-form metadata (zone, rack), for a selector. */
    attributes: z.record(z.string(), z.string()).optional(),
  }),
]);

/** `auth`: basic, an API key (encoded, or `{ id, api_key }`), or a bearer token. */
export const authSchema = z.union([
  z.strictObject({ username: z.string().min(1), password: z.string() }),
  z.strictObject({
    apiKey: z.union([
      z.string().min(1),
      z.strictObject({ id: z.string().min(1), api_key: z.string().min(1) }),
    ]),
  }),
  z.strictObject({ bearer: z.string().min(1) }),
]);

/** TLS: Node's `tls.connect` options, passed to the client unchanged. */
export const tlsSchema = z.looseObject({
  ca: z.union([z.string(), z.array(z.string())]).optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  passphrase: z.string().optional(),
  servername: z.string().optional(),
  rejectUnauthorized: z.boolean().optional(),
});

// Request headers that would undo `compatibility`: the driver sets them per request kind (JSON / NDJSON).
const vendoredHeaders = new Set(['accept', 'content-type']);

/**
 * The driver's options: what @elastic/elasticsearch users already write, minus what the policy owns.
 * Give `node` (one URL or several) or `nodes`; credentials go in `auth` (or the URL's user info, which is
 * moved there and never kept in a node's address).
 */
export const elasticsearchOptionsSchema = z
  .strictObject({
    /** One node, or several: `http://127.0.0.1:9200`, `[url, url]`, `{ url, roles }`. */
    node: z.union([nodeOptionSchema, z.array(nodeOptionSchema).min(1)]).optional(),
    /** Several nodes (same shapes as `node`). */
    nodes: z.array(nodeOptionSchema).min(1).optional(),
    auth: authSchema.optional(),
    tls: tlsSchema.optional(),
    /** SHA-256 fingerprint of the CA certificate, as the client takes it. */
    caFingerprint: z.string().optional(),
    /**
     * The server's major version the client speaks to: 9 (the client's own) or 8. With 8 the client sends
     * `compatible-with=8` (a 9.x client otherwise gets 400 media_type_header_exception from Elasticsearch 8).
     */
    compatibility: z.union([z.literal(8), z.literal(9)]).optional(),
    /** Count a node whose cluster health is `red` as down in the health check (default false: red is reported, the node stays up). */
    redIsDown: z.boolean().optional(),
    /**
     * Client-made ids for auto-id writes (default false): `index` without an `id`, `POST /{index}/_doc` and bulk
     * `index` actions without `_id` get an id made once per call, before its first attempt, and are sent as
     * `create`, so a replay after a lost answer is refused with 409 instead of writing a second document — they are
     * retried like idempotent requests, and the 409 is reported as applied. Through the request helpers
     * (`elasticsearchRequests`, `bulkWithRetries`); see the README's "Client ids".
     */
    clientIds: z
      .boolean({
        error:
          'clientIds is true (auto-id writes get a client-made id and create semantics) or false (the default)',
      })
      .optional(),
    /** Extra headers sent with every request (not accept / content-type: see `compatibility`). */
    headers: z.record(z.string(), z.string()).optional(),
    /** gzip request bodies. */
    compression: z.boolean().optional(),
    /** The client's name (diagnostics); defaults to `reconnect:<target>`. */
    name: z.string().optional(),
    opaqueIdPrefix: z.string().optional(),
    maxResponseSize: z.number().int().positive().optional(),
    maxCompressedResponseSize: z.number().int().positive().optional(),
    enableMetaHeader: z.boolean().optional(),
    /**
     * The client's own OpenTelemetry instrumentation (a CLIENT span per request, with the deprecated `db.system`),
     * passed to its transport. Off by default: the target's operation span is the database call; `{ enabled: true }`
     * turns it back on (its spans then nest under the attempt that sent them).
     */
    openTelemetry: z
      .strictObject({
        enabled: z.boolean().optional(),
        suppressInternalInstrumentation: z.boolean().optional(),
        captureSearchQuery: z.boolean().optional(),
      })
      .optional(),
    /**
     * New sockets one node's client may open per second (issue #26; default 0: no ceiling): a client with at most
     * one socket gets its next at once, each other one waits 1–1.5 × `1000 / connectRate` ms after the one before.
     * A request waits for the socket opened for it. Not applied to a pool from an `agent` function.
     */
    connectRate: z
      .number({
        error: 'connectRate must be a number: new sockets per second per node (0 for no ceiling)',
      })
      .nonnegative({ error: 'connectRate cannot be negative (0 lifts the ceiling)' })
      .max(10_000, { error: 'connectRate above 10000 per second is no ceiling: use 0 to lift it' })
      .optional(),
    /**
     * New sockets one node's client may open per second while that node recovers (issue #26; default 5, 0 turns
     * it off): from a failed connect, or a client's last socket lost to a connection failure, until a connect has
     * succeeded and `recoverySettle` passed with no failure since. A healthy client is not paced. `connectRate`,
     * when above 0, paces at all times instead.
     */
    recoveryConnectRate: z
      .number({
        error:
          'recoveryConnectRate must be a number: new sockets per second per node while it recovers (0 turns it off)',
      })
      .nonnegative({ error: 'recoveryConnectRate cannot be negative (0 turns recovery pacing off)' })
      .max(10_000, {
        error: 'recoveryConnectRate above 10000 per second is no ceiling: use 0 to turn it off',
      })
      .optional(),
    /**
     * How long a recovering node's client must connect without a failure before its new sockets stop being paced:
     * a duration (`'5s'`) or ms (default 5s; at most 10 minutes).
     */
    recoverySettle: durationSchema
      .refine((ms) => ms <= 600_000, {
        error:
          'recoverySettle must be at most 10 minutes (e.g. "5s"): pacing a healthy node that long costs its bursts',
      })
      .optional(),
    /** Custom undici agent options (`connections`, `pipelining`, `keepAliveTimeout`…). */
    agent: z.looseObject({}).optional(),
    proxy: httpUrl.optional(),
    ...refusals,
  })
  .superRefine((o, ctx) => {
    if (o.node === undefined && o.nodes === undefined) {
      ctx.addIssue({ code: 'custom', path: ['node'], message: 'Give node (one URL or a list) or nodes' });
    }
    if (o.node !== undefined && o.nodes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'Give either node or nodes, not both' });
    }
    for (const key of Object.keys(o.headers ?? {})) {
      if (vendoredHeaders.has(key.toLowerCase()))
        ctx.addIssue({
          code: 'custom',
          path: ['headers', key],
          message: `The ${key.toLowerCase()} header is set per request by the driver; use compatibility: 8 | 9`,
        });
    }
    const withCredentials = nodeInputs(o).filter((n) => {
      const u = new URL(typeof n === 'string' ? n : n.url);
      return u.username !== '' || u.password !== '';
    });
    if (withCredentials.length > 0 && o.auth !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'Give credentials either in auth or in the node URLs, not both',
      });
    }
    if (withCredentials.length > 0 && withCredentials.length < nodeInputs(o).length) {
      ctx.addIssue({
        code: 'custom',
        path: [o.nodes === undefined ? 'node' : 'nodes'],
        message: 'Give credentials once, in auth: only some node URLs carry them',
      });
    }
  })
  .transform((o) => {
    // Credentials move from the URLs to auth, so no node address (id, url, logs, spans) ever carries them, and
    // the result parses again unchanged.
    const first = nodeInputs(o)
      .map((n) => new URL(typeof n === 'string' ? n : n.url))
      .find((u) => u.username !== '' || u.password !== '');
    if (first === undefined) return o;
    const strip = (n: ElasticsearchNodeInput): ElasticsearchNodeInput => {
      const u = new URL(typeof n === 'string' ? n : n.url);
      u.username = '';
      u.password = '';
      return typeof n === 'string' ? u.href : { ...n, url: u.href };
    };
    const { node, nodes, ...rest } = o;
    return {
      ...rest,
      ...(node === undefined ? {} : { node: Array.isArray(node) ? node.map(strip) : strip(node) }),
      ...(nodes === undefined ? {} : { nodes: nodes.map(strip) }),
      auth: { username: decodeURIComponent(first.username), password: decodeURIComponent(first.password) },
    };
  });

/** The driver's options as written. */
export type ElasticsearchDriverOptionsInput = z.input<typeof elasticsearchOptionsSchema>;
/** The driver's options after validation. */
export type ElasticsearchDriverOptions = z.output<typeof elasticsearchOptionsSchema>;
/** One node as accepted in `node` / `nodes`. */
export type ElasticsearchNodeInput = z.output<typeof nodeOptionSchema>;

/** Option keys (dotted paths) holding secrets, for redaction beyond the names core recognises. */
export const elasticsearchSecretKeys: readonly string[] = [
  'auth.password',
  'auth.apiKey',
  'auth.apiKey.api_key',
  'auth.bearer',
  'tls.key',
  'tls.passphrase',
  'headers.authorization',
];

function nodeInputs(o: {
  node?: ElasticsearchNodeInput | ElasticsearchNodeInput[] | undefined;
  nodes?: ElasticsearchNodeInput[] | undefined;
}): ElasticsearchNodeInput[] {
  if (o.nodes !== undefined) return o.nodes;
  if (o.node === undefined) return [];
  return Array.isArray(o.node) ? o.node : [o.node];
}

/** `http://host:port` (plus a path prefix, if any), without user info, query or fragment. */
export function nodeUrl(url: string | URL): string {
  const u = new URL(url);
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return `${u.protocol}//${formatHost(u.hostname)}:${port}${path}`;
}

// URL.hostname keeps IPv6 brackets; make sure they are there exactly once.
const formatHost = (host: string): string =>
  host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;

/** A node address from a URL (credentials dropped), with optional roles and attributes. */
export function nodeAddress(
  url: string | URL,
  extra: { roles?: readonly string[]; attributes?: Readonly<Record<string, string>> } = {},
): NodeAddress {
  const clean = nodeUrl(url);
  const u = new URL(clean);
  return {
    id: clean,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port),
    url: clean,
    ...(extra.roles === undefined ? {} : { roles: [...extra.roles] }),
    ...(extra.attributes === undefined ? {} : { attributes: { ...extra.attributes } }),
  };
}

/** The nodes the options name, in order, without credentials. */
export function nodesOf(options: ElasticsearchDriverOptions): NodeAddress[] {
  const seen = new Set<string>();
  const out: NodeAddress[] = [];
  for (const n of nodeInputs(options)) {
    const address =
      typeof n === 'string'
        ? nodeAddress(n)
        : nodeAddress(n.url, {
            ...(n.roles === undefined ? {} : { roles: n.roles }),
            ...(n.attributes === undefined ? {} : { attributes: n.attributes }),
          });
    if (seen.has(address.id)) continue;
    seen.add(address.id);
    out.push(address);
  }
  return out;
}

/** Where the options point, without credentials: `http://127.0.0.1:9200,http://127.0.0.1:9201 (compat 8)`. */
export function describeElasticsearchOptions(options: ElasticsearchDriverOptions): string {
  const nodes = nodesOf(options)
    .map((n) => n.id)
    .join(',');
  return options.compatibility === 8 ? `${nodes} (compatible-with=8)` : nodes;
}
