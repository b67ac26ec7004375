import { durationSchema, policyOwnedOptions } from '@reconnect/core';
import { z } from 'zod';

// Options that the target's policy decides. Setting them by hand would start a second reconnect loop,
// re-enable the unbounded offline queue or replay writes, so they are refused with the reason.
const policyOwned = {
  retryStrategy: 'the reconnect backoff comes from the policy (reconnect.backoff)',
  clusterRetryStrategy: 'the reconnect backoff comes from the policy (reconnect.backoff)',
  sentinelRetryStrategy: 'the reconnect backoff comes from the policy (reconnect.backoff)',
  commandTimeout: 'the command timeout is the policy’s retry.attemptTimeout',
  connectTimeout: 'the connect timeout is the policy’s reconnect.connectTimeout',
  maxRetriesPerRequest: 'retries are decided by the policy (retry.maxRetries)',
  enableOfflineQueue: 'commands wait for a reconnect in the lifecycle, bounded by their deadline',
  autoResendUnfulfilledCommands: 'a command that may have run is never re-sent behind the caller’s back',
  lazyConnect: 'the lifecycle decides when to connect',
} as const;

/** Option keys the policy owns; giving one is a config error that says which policy field to use. */
export const policyOwnedKeys: readonly string[] = Object.keys(policyOwned);

const refusals = policyOwnedOptions(policyOwned);

// What a redis:// URL already says; none of them may be given beside `url`.
const urlKeys = ['host', 'port', 'username', 'password', 'db'] as const;

const port = z.number().int().min(1).max(65535);
const host = z.string().min(1);

/** TLS: `true` for defaults, or Node's `tls.connect` options (`ca`, `cert`, `key`, `servername`, …). */
export const tlsOptionsSchema = z.union([
  z.boolean(),
  z.looseObject({
    ca: z.union([z.string(), z.array(z.string())]).optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    passphrase: z.string().optional(),
    servername: z.string().optional(),
    rejectUnauthorized: z.boolean().optional(),
  }),
]);

/** One server: `host:port`, a `redis://` URL, or `{ host, port }`. */
export const nodeSchema = z.union([z.string().min(1), z.strictObject({ host, port })]);

/** `redis(s)://[user[:password]@]host[:port][/db]`. */
const redisUrl = z.string().refine(
  (value) => {
    try {
      const u = new URL(value);
      return u.protocol === 'redis:' || u.protocol === 'rediss:';
    } catch {
      return false;
    }
  },
  { error: 'Expected a redis:// or rediss:// URL, e.g. redis://user:password@127.0.0.1:6379/0' },
);

/** Redis Cluster: the seed nodes and the cluster-level options. */
export const clusterOptionsSchema = z.strictObject({
  /** Seed nodes; the rest are discovered with CLUSTER SLOTS. */
  nodes: z.array(nodeSchema).min(1),
  /** Where reads go: `master` (default), `slave`, `all`. */
  scaleReads: z.enum(['master', 'slave', 'all']).optional(),
  /**
   * How a read picks among the nodes `scaleReads` allows: `least-latency` by their recent reply times (a slow
   * replica gets a read or two a second; with `slave`, reads fall back to the master when the replica is slow), or
   * `random` (ioredis's own). Default: the policy's `pool.selector` (`least-latency` there turns it on).
   */
  readSelector: z.enum(['random', 'least-latency']).optional(),
  /** Maps announced addresses to reachable ones (NAT, Docker). */
  natMap: z.record(z.string(), z.strictObject({ host, port })).optional(),
  /** Follow at most this many MOVED/ASK redirections per command (ioredis default 16). */
  maxRedirections: z.number().int().nonnegative().optional(),
  /** Refresh the slot table this often, in ms (ioredis default 5000). */
  slotsRefreshInterval: z.number().int().nonnegative().optional(),
  /** Time-out of one slot-table refresh, in ms (ioredis default 1000). */
  slotsRefreshTimeout: z.number().int().positive().optional(),
  /** Wait this long before retrying a command that hit a failover (CLUSTERDOWN, TRYAGAIN), in ms. */
  retryDelayOnFailover: z.number().int().nonnegative().optional(),
  /** Wait this long before retrying after CLUSTERDOWN, in ms. */
  retryDelayOnClusterDown: z.number().int().nonnegative().optional(),
  /** Wait this long before retrying after TRYAGAIN, in ms. */
  retryDelayOnTryAgain: z.number().int().nonnegative().optional(),
});

/** `waitForReplicas`: how many replicas must confirm an operation's writes (WAIT), and how long to wait for them. */
export const waitForReplicasSchema = z.strictObject({
  /** Replicas that must have the writes (WAIT's numreplicas): at least 1. */
  replicas: z
    .number({ error: 'replicas must be a whole number of replicas, at least 1 (e.g. 1)' })
    .int({ error: 'replicas must be a whole number of replicas, at least 1 (e.g. 1)' })
    .min(1, { error: 'replicas must be at least 1: WAIT 0 confirms nothing' }),
  /**
   * How long WAIT waits for them: a duration (`'500ms'`, `'1s'`) or ms, more than 0 (WAIT's 0 means for ever). An
   * attempt with less time left waits only that long.
   */
  timeout: durationSchema,
});

/**
 * The driver's options: what ioredis users already write. Exactly one of `url` / `host`,
 * `sentinels` (+ `name`) or `cluster`; credentials may be given in the URL or as fields.
 */
export const redisOptionsSchema = z
  .strictObject({
    /** `redis://user:password@host:port/db`, or `rediss://` for TLS. */
    url: redisUrl.optional(),
    host: host.optional(),
    port: port.optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    db: z.number().int().nonnegative().optional(),
    tls: tlsOptionsSchema.optional(),
    /** Sentinel: the sentinels to ask for the master. */
    sentinels: z.array(nodeSchema).min(1).optional(),
    /** Sentinel: the master group name (`sentinel monitor <name> …`). */
    name: z.string().min(1).optional(),
    /** Sentinel: connect to the master (default) or a replica. */
    role: z.enum(['master', 'slave']).optional(),
    sentinelUsername: z.string().optional(),
    sentinelPassword: z.string().optional(),
    /** Sentinel: subscribe to `+switch-master` so a failover is followed at once (default true). */
    failoverDetector: z.boolean().optional(),
    /** Redis Cluster. */
    cluster: clusterOptionsSchema.optional(),
    // Safe ioredis options, passed through unchanged.
    /** `CLIENT SETNAME`; defaults to `reconnect:<target>`. */
    connectionName: z.string().optional(),
    keyPrefix: z.string().optional(),
    /** RESP protocol version. */
    protocol: z.union([z.literal(2), z.literal(3)]).optional(),
    family: z.union([z.literal(4), z.literal(6)]).optional(),
    /** TCP keep-alive initial delay in ms (ioredis default 30000). */
    keepAlive: z.number().int().nonnegative().optional(),
    noDelay: z.boolean().optional(),
    enableAutoPipelining: z.boolean().optional(),
    stringNumbers: z.boolean().optional(),
    readOnly: z.boolean().optional(),
    showFriendlyErrorStack: z.boolean().optional(),
    /**
     * How long the guard of a write with an idempotency key lives (`redisCommands().callOnce`): a duration of at
     * least 1 s, longer than the calls' deadline. Default 1 hour.
     */
    idempotencyKeyTtl: durationSchema.optional(),
    /**
     * Durable writes: after an operation's writes, `WAIT replicas timeout` on the same connection, and the operation
     * succeeds only once that many replicas have the writes; otherwise it fails `NOT_REPLICATED` (outcome unknown).
     * Off by default. See the README's "Writes confirmed by replicas".
     */
    waitForReplicas: waitForReplicasSchema.optional(),
    ...refusals,
  })
  .superRefine((o, ctx) => {
    const modes = [
      o.url !== undefined || o.host !== undefined || o.port !== undefined ? 'url/host' : undefined,
      o.sentinels !== undefined ? 'sentinels' : undefined,
      o.cluster !== undefined ? 'cluster' : undefined,
    ].filter((m) => m !== undefined);
    if (modes.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `Give only one of url/host, sentinels or cluster (got ${modes.join(' and ')})`,
      });
    }
    // The URL carries these; given beside it, one of the two would silently lose (ioredis lets the URL win).
    if (o.url !== undefined) {
      for (const key of urlKeys) {
        if (o[key] === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Give either url or ${key}, not both: the URL carries host, port, username, password and db (got url and ${key})`,
        });
      }
    }
    if (o.sentinels !== undefined && o.name === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'Sentinel needs the master group name (name)',
      });
    }
    if (o.name !== undefined && o.sentinels === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['sentinels'],
        message: 'name is the Sentinel master group; give sentinels too',
      });
    }
    if (o.idempotencyKeyTtl !== undefined && o.idempotencyKeyTtl < 1000) {
      ctx.addIssue({
        code: 'custom',
        path: ['idempotencyKeyTtl'],
        message: `The TTL of idempotency keys must be at least 1s (got ${o.idempotencyKeyTtl} ms): a guard must outlive the retries of its write`,
      });
    }
    checkWaitForReplicas(o, ctx);
    const c = o.cluster;
    if (c?.readSelector !== undefined && c.scaleReads !== 'slave' && c.scaleReads !== 'all') {
      ctx.addIssue({
        code: 'custom',
        path: ['cluster', 'readSelector'],
        message: `cluster.readSelector picks among the nodes a read may go to, but scaleReads is ${c.scaleReads === undefined ? "not set ('master': every read goes to the master)" : "'master'"}; set scaleReads to 'slave' or 'all', or drop readSelector`,
      });
    }
    if (o.cluster !== undefined && o.db !== undefined && o.db !== 0) {
      ctx.addIssue({ code: 'custom', path: ['db'], message: 'Redis Cluster has only database 0' });
    }
  });

type Refinement = Parameters<Parameters<z.ZodType['superRefine']>[0]>[1];

// `waitForReplicas` beside the options it cannot work with, and a timeout WAIT would read as "for ever".
function checkWaitForReplicas(
  o: {
    waitForReplicas?: { timeout: number } | undefined;
    enableAutoPipelining?: boolean | undefined;
    role?: string | undefined;
  },
  ctx: Refinement,
): void {
  const wait = o.waitForReplicas;
  if (wait === undefined) return;
  if (wait.timeout <= 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['waitForReplicas', 'timeout'],
      message: `waitForReplicas.timeout must be more than 0 (got ${wait.timeout} ms): WAIT with 0 waits for ever; give e.g. '500ms'`,
    });
  }
  if (o.enableAutoPipelining === true) {
    ctx.addIssue({
      code: 'custom',
      path: ['waitForReplicas'],
      message:
        'waitForReplicas cannot be used with enableAutoPipelining: auto-pipelining mixes the commands of concurrent operations in one pipeline, so no operation can hold its reply until its own writes are confirmed',
    });
  }
  if (o.role === 'slave') {
    ctx.addIssue({
      code: 'custom',
      path: ['waitForReplicas'],
      message:
        "waitForReplicas needs the master (role 'slave' connects to a replica, which refuses writes and WAIT)",
    });
  }
}

/** The driver's options as written. */
export type RedisDriverOptionsInput = z.input<typeof redisOptionsSchema>;
/** The driver's options after validation. */
export type RedisDriverOptions = z.output<typeof redisOptionsSchema>;
/** One server address as accepted in `sentinels` and `cluster.nodes`. */
export type RedisNodeInput = z.output<typeof nodeSchema>;

/** Option keys (dotted paths) holding secrets, for redaction beyond the names core recognises. */
export const redisSecretKeys: readonly string[] = [
  'password',
  'sentinelPassword',
  'tls.key',
  'tls.passphrase',
];

/** Parses `host:port` or a `redis://` URL into an address; the port defaults to `defaultPort`. */
export function parseNode(node: RedisNodeInput, defaultPort: number): { host: string; port: number } {
  if (typeof node !== 'string') return node;
  if (node.includes('://')) {
    const u = new URL(node);
    return { host: u.hostname, port: u.port === '' ? defaultPort : Number(u.port) };
  }
  const i = node.lastIndexOf(':');
  if (i <= 0) return { host: node, port: defaultPort };
  return { host: node.slice(0, i), port: Number(node.slice(i + 1)) };
}

/**
 * Where the options point, without credentials: `127.0.0.1:6379/2`, `rediss://cache.internal:6380`,
 * `sentinel mymaster @ 127.0.0.1:26379,127.0.0.1:26380`, `cluster 127.0.0.1:7000,127.0.0.1:7001`.
 */
export function describeRedisOptions(options: RedisDriverOptions): string {
  const list = (nodes: readonly RedisNodeInput[], p: number) =>
    nodes
      .map((n) => parseNode(n, p))
      .map((a) => `${a.host}:${a.port}`)
      .join(',');
  if (options.cluster !== undefined) return `cluster ${list(options.cluster.nodes, 6379)}`;
  if (options.sentinels !== undefined)
    return `sentinel ${options.name ?? '?'} @ ${list(options.sentinels, 26379)}`;
  let hostName = options.host ?? '127.0.0.1';
  let portNumber = options.port ?? 6379;
  let db = options.db;
  let tls = options.tls !== undefined && options.tls !== false;
  if (options.url !== undefined) {
    const u = new URL(options.url);
    hostName = u.hostname === '' ? hostName : u.hostname;
    portNumber = u.port === '' ? portNumber : Number(u.port);
    const path = u.pathname.replace(/^\//, '');
    if (db === undefined && path !== '') db = Number(path);
    tls ||= u.protocol === 'rediss:';
  }
  return `${tls ? 'rediss://' : ''}${hostName}:${portNumber}${db === undefined || db === 0 ? '' : `/${db}`}`;
}
