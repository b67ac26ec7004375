import { parseDuration, policyOwnedOptions } from '@reconnect/core';
import { z } from 'zod';

// Options the target's policy decides. Set by hand, they would undo what the driver maps from the policy
// (a connect that outlives reconnect.connectTimeout), so they are refused with the policy field to use.
const policyOwned = {
  connectTimeout: 'the connect timeout is the policy’s reconnect.connectTimeout',
  acquireTimeout: 'waiting for a pooled connection is bounded by the policy’s retry.attemptTimeout',
} as const;

/** Option keys the policy owns; giving one is a config error that says which policy field to use. */
export const policyOwnedKeys: readonly string[] = Object.keys(policyOwned);

const refusals = policyOwnedOptions(policyOwned);

// What a mysql:// URI already says; none of them may be given beside `uri`.
const uriKeys = ['host', 'port', 'user', 'password', 'database'] as const;
// What names the servers; only one way of naming them at a time.
const topologyKeys = ['nodes', 'primary', 'replicas'] as const;

const port = z.number().int().min(1).max(65535);
const host = z.string().min(1);

/** TLS: a mysql2 profile name (`Amazon RDS`), or Node `tls` options (`ca`, `cert`, `key`, …). */
export const sslOptionsSchema = z.union([
  z.string().min(1),
  z.looseObject({
    ca: z.union([z.string(), z.array(z.string())]).optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    passphrase: z.string().optional(),
    ciphers: z.string().optional(),
    minVersion: z.string().optional(),
    maxVersion: z.string().optional(),
    rejectUnauthorized: z.boolean().optional(),
    verifyIdentity: z.boolean().optional(),
  }),
]);

/** A node's role: `primary` takes writes, `replica` serves operations declared `readOnly`. */
export const nodeRoleSchema = z.enum(['primary', 'replica']);

/**
 * How far behind its primary a replica may be and still serve reads: milliseconds, or a duration (`'1s'`,
 * `'500ms'`). MySQL reports the lag in whole seconds (`Seconds_Behind_Master`), so `'1s'` takes a replica out at
 * 2 s behind and `0` at 1 s.
 */
export const maxLagSchema = z.union([
  z
    .number({ error: 'maxLag must be milliseconds or a duration such as "1s"' })
    .nonnegative({ error: 'maxLag cannot be negative' })
    .max(86_400_000, { error: 'maxLag above a day (86400000 ms) bounds nothing' }),
  z.string().refine((v) => parseDuration(v) !== undefined, {
    error: 'maxLag must be milliseconds or a duration such as "1s", "500ms", "2m"',
  }),
]);

/** `maxLag` in milliseconds (a validated number or duration). */
export function maxLagMs(value: number | string): number {
  return typeof value === 'number' ? value : (parseDuration(value) ?? 0);
}

/** One server: `host:port`, or `{ host, port?, role?, maxLag? }` (`maxLag` for a replica only). */
export const mysqlNodeSchema = z.union([
  z.string().min(1),
  z.strictObject({
    host,
    port: port.optional(),
    role: nodeRoleSchema.optional(),
    maxLag: maxLagSchema.optional(),
  }),
]);

/** `mysql://user:password@host:port/database[?option=value]` (also `mariadb://`). */
const mysqlUri = z.string().refine(
  (value) => {
    try {
      const u = new URL(value);
      return (u.protocol === 'mysql:' || u.protocol === 'mariadb:') && u.hostname !== '';
    } catch {
      return false;
    }
  },
  { error: 'Expected a mysql:// URI, e.g. mysql://app:password@127.0.0.1:3306/shop' },
);

/**
 * The driver's options, in mysql2's own names. One server (`uri`, or `host`/`port`), or several
 * (`nodes` with roles, or `primary` + `replicas`); credentials in the URI or as fields, not both.
 */
export const mysqlOptionsSchema = z
  .strictObject({
    /** `mysql://user:password@host:port/database`. */
    uri: mysqlUri.optional(),
    host: host.optional(),
    port: port.optional(),
    user: z.string().optional(),
    password: z.string().optional(),
    database: z.string().optional(),
    /** Several servers; each gets its own pool. A node without a role serves reads and writes. */
    nodes: z.array(mysqlNodeSchema).min(1).optional(),
    /** The server that takes writes (with `replicas`). */
    primary: mysqlNodeSchema.optional(),
    /** Servers that serve operations declared `readOnly`. */
    replicas: z.array(mysqlNodeSchema).optional(),
    /**
     * Lag-aware reads: a replica further behind its primary than this (its `Seconds_Behind_Master`, read at
     * each health check) takes no reads until it catches up. For every replica; a replica's own `maxLag` wins.
     */
    maxLag: maxLagSchema.optional(),
    ssl: sslOptionsSchema.optional(),
    /** Pool size per node (mysql2 default 10). */
    connectionLimit: z.number().int().positive().optional(),
    /** Operations waiting for a free connection, per node. Default 1000 (mysql2: 0 = unbounded). */
    queueLimit: z.number().int().positive().optional(),
    /** Idle connections kept (mysql2 default: connectionLimit); idle ones beyond it close after `idleTimeout`. */
    maxIdle: z.number().int().nonnegative().optional(),
    /** ms an idle connection beyond `maxIdle` is kept (mysql2 default 60000). */
    idleTimeout: z.number().int().positive().optional(),
    /** TCP keep-alive on every connection (default true). */
    enableKeepAlive: z.boolean().optional(),
    /** TCP keep-alive initial delay in ms (default 10000). */
    keepAliveInitialDelay: z.number().int().nonnegative().optional(),
    /**
     * A pooled connection idle for longer than this is pinged before it is handed out, in ms. Default: the
     * policy's `healthCheck.interval`; `0` validates every time.
     */
    validateAfterIdle: z.number().int().nonnegative().optional(),
    /**
     * New connections a pool may open per second, per node (default 5): the first at once, the next ones 1–1.5 ×
     * `1000 / connectRate` ms apart; `0` lifts the ceiling. A fleet reconnecting together then ramps up instead of
     * opening every pool's connections at once.
     */
    connectRate: z
      .number({
        error: 'connectRate must be a number: new connections per second per node (0 for no ceiling)',
      })
      .nonnegative({ error: 'connectRate cannot be negative (0 lifts the ceiling)' })
      .max(10_000, { error: 'connectRate above 10000 per second is no ceiling: use 0 to lift it' })
      .optional(),
    /** `COM_RESET_CONNECTION` when a connection is released (mysql2 default false). */
    resetOnRelease: z.boolean().optional(),
    charset: z.string().min(1).optional(),
    timezone: z.string().min(1).optional(),
    dateStrings: z.union([z.boolean(), z.array(z.enum(['TIMESTAMP', 'DATETIME', 'DATE']))]).optional(),
    supportBigNumbers: z.boolean().optional(),
    bigNumberStrings: z.boolean().optional(),
    decimalNumbers: z.boolean().optional(),
    jsonStrings: z.boolean().optional(),
    namedPlaceholders: z.boolean().optional(),
    multipleStatements: z.boolean().optional(),
    rowsAsArray: z.boolean().optional(),
    nestTables: z.union([z.boolean(), z.string()]).optional(),
    stringifyObjects: z.boolean().optional(),
    flags: z.union([z.string(), z.array(z.string())]).optional(),
    maxPreparedStatements: z.number().int().positive().optional(),
    compress: z.boolean().optional(),
    localAddress: z.string().optional(),
    connectAttributes: z.record(z.string(), z.string()).optional(),
    trace: z.boolean().optional(),
    ...refusals,
  })
  .superRefine((o, ctx) => {
    // The URI carries these; given beside it, one of the two would silently lose (mysql2 lets the URI win).
    if (o.uri !== undefined) {
      for (const key of uriKeys) {
        if (o[key] === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Give either uri or ${key}, not both: the URI carries host, port, user, password and database (got uri and ${key})`,
        });
      }
      for (const key of [...topologyKeys, ...policyOwnedKeys]) {
        const inUri = key !== 'nodes' && key !== 'primary' && key !== 'replicas';
        if (inUri ? !new URL(o.uri).searchParams.has(key) : o[key as keyof typeof o] === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: inUri ? ['uri'] : [key],
          message: inUri
            ? `The URI sets ${key}, which the target's policy decides (${policyOwned[key as keyof typeof policyOwned]})`
            : `Give either uri or ${key}, not both: the URI names one server`,
        });
      }
    }
    if (o.uri === undefined && (o.host !== undefined || o.port !== undefined)) {
      for (const key of topologyKeys) {
        if (o[key] === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Give either host/port or ${key}, not both: ${key} names the servers`,
        });
      }
    }
    if (o.nodes !== undefined) {
      for (const key of ['primary', 'replicas'] as const) {
        if (o[key] === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Give either nodes (with roles) or primary + replicas, not both (got nodes and ${key})`,
        });
      }
    }
    if (o.replicas !== undefined && o.primary === undefined && o.nodes === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['primary'],
        message: 'replicas serve reads only: give the primary too',
      });
    }
    if (o.primary !== undefined && typeof o.primary !== 'string' && o.primary.role === 'replica') {
      ctx.addIssue({
        code: 'custom',
        path: ['primary', 'role'],
        message: 'The primary cannot have the role replica',
      });
    }
    o.replicas?.forEach((r, i) => {
      if (typeof r !== 'string' && r.role === 'primary')
        ctx.addIssue({
          code: 'custom',
          path: ['replicas', i, 'role'],
          message: 'A replica cannot have the role primary',
        });
    });
    lagIssues(o, ctx);
    if (o.maxIdle !== undefined && o.connectionLimit !== undefined && o.maxIdle > o.connectionLimit) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxIdle'],
        message: `maxIdle (${o.maxIdle}) cannot exceed connectionLimit (${o.connectionLimit})`,
      });
    }
  });

type NodeEntry = z.output<typeof mysqlNodeSchema>;
const entryLag = (n: NodeEntry | undefined) => (typeof n === 'object' ? n.maxLag : undefined);

// maxLag is about replicas: refused where no node can be one (it would silently do nothing).
function lagIssues(
  o: {
    maxLag?: unknown;
    nodes?: NodeEntry[] | undefined;
    primary?: NodeEntry | undefined;
    replicas?: NodeEntry[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (entryLag(o.primary) !== undefined)
    issue(
      ['primary', 'maxLag'],
      'maxLag applies to replicas: the primary takes the writes and is never behind',
    );
  o.nodes?.forEach((n, i) => {
    if (entryLag(n) === undefined || (typeof n === 'object' && n.role === 'replica')) return;
    issue(
      ['nodes', i, 'maxLag'],
      `maxLag applies to replicas: give node ${i} role: replica, or drop its maxLag`,
    );
  });
  const hasReplica =
    (o.replicas?.length ?? 0) > 0 ||
    o.nodes?.some((n) => typeof n === 'object' && n.role === 'replica') === true;
  if (o.maxLag !== undefined && !hasReplica)
    issue(
      ['maxLag'],
      'maxLag applies to replicas, and this target names none: give primary + replicas, or nodes with role: replica',
    );
}

/** The driver's options as written. */
export type MySqlDriverOptionsInput = z.input<typeof mysqlOptionsSchema>;
/** The driver's options after validation. */
export type MySqlDriverOptions = z.output<typeof mysqlOptionsSchema>;
/** One server as accepted in `nodes`, `primary` and `replicas`. */
export type MySqlNodeInput = z.output<typeof mysqlNodeSchema>;

/** Option keys (dotted paths) holding secrets, for redaction beyond the names core recognises. */
export const mysqlSecretKeys: readonly string[] = ['password', 'uri', 'ssl.key', 'ssl.passphrase'];

/** A server address with its role, if any. */
export interface MySqlAddress {
  host: string;
  port: number;
  role?: 'primary' | 'replica';
  /** The replica's own `maxLag` as given (see {@link maxLagMs}). */
  maxLag?: number | string;
}

/** Parses `host:port` (or `[v6]:port`) or `{ host, port, role }`; the port defaults to 3306. */
export function parseMySqlNode(node: MySqlNodeInput, role?: 'primary' | 'replica'): MySqlAddress {
  let out: MySqlAddress;
  if (typeof node !== 'string') {
    out = { host: node.host, port: node.port ?? 3306 };
    const r = node.role ?? role;
    if (r !== undefined) out.role = r;
    if (node.maxLag !== undefined) out.maxLag = node.maxLag;
    return out;
  }
  const v6 = /^\[(.+)\](?::(\d+))?$/.exec(node);
  if (v6 !== null) out = { host: v6[1]!, port: v6[2] === undefined ? 3306 : Number(v6[2]) };
  else {
    const i = node.lastIndexOf(':');
    out = i <= 0 ? { host: node, port: 3306 } : { host: node.slice(0, i), port: Number(node.slice(i + 1)) };
  }
  if (role !== undefined) out.role = role;
  return out;
}

/** The connection fields a `mysql://` URI carries, and its remaining query parameters (JSON-parsed like mysql2). */
export function parseMySqlUri(uri: string): {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
  params: Record<string, unknown>;
} {
  const u = new URL(uri);
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const out: ReturnType<typeof parseMySqlUri> = {
    host: decodeURIComponent(hostname),
    port: u.port === '' ? 3306 : Number(u.port),
    params: {},
  };
  if (u.username !== '') out.user = decodeURIComponent(u.username);
  if (u.password !== '') out.password = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (db !== '') out.database = db;
  for (const [key, value] of u.searchParams) {
    try {
      out.params[key] = JSON.parse(value) as unknown;
    } catch {
      out.params[key] = value;
    }
  }
  return out;
}

/** The servers the options name, in order: the primary first, then the replicas. */
export function mysqlAddresses(options: MySqlDriverOptions): MySqlAddress[] {
  if (options.nodes !== undefined) return options.nodes.map((n) => parseMySqlNode(n));
  if (options.primary !== undefined)
    return [
      parseMySqlNode(options.primary, 'primary'),
      ...(options.replicas ?? []).map((r) => parseMySqlNode(r, 'replica')),
    ];
  if (options.uri !== undefined) {
    const u = parseMySqlUri(options.uri);
    return [{ host: u.host, port: u.port }];
  }
  return [{ host: options.host ?? '127.0.0.1', port: options.port ?? 3306 }];
}

const tlsOn = (o: MySqlDriverOptions): boolean =>
  o.ssl !== undefined || (o.uri !== undefined && new URL(o.uri).searchParams.has('ssl'));

/**
 * Where the options point, without credentials: `127.0.0.1:3306/shop`, `tls 10.0.0.5:3306/shop`,
 * `primary 10.0.0.1:3306, replicas 10.0.0.2:3306,10.0.0.3:3306 /shop`.
 */
export function describeMySqlOptions(options: MySqlDriverOptions): string {
  const database = options.uri === undefined ? options.database : parseMySqlUri(options.uri).database;
  const db = database === undefined ? '' : `/${database}`;
  const tls = tlsOn(options) ? 'tls ' : '';
  const addr = (a: MySqlAddress) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
  const all = mysqlAddresses(options);
  if (all.length === 1 && all[0]!.role === undefined) return `${tls}${addr(all[0]!)}${db}`;
  const primaries = all.filter((a) => a.role === 'primary').map(addr);
  const replicas = all.filter((a) => a.role === 'replica').map(addr);
  const plain = all.filter((a) => a.role === undefined).map(addr);
  const parts = [
    primaries.length > 0 ? `primary ${primaries.join(',')}` : undefined,
    replicas.length > 0 ? `replicas ${replicas.join(',')}` : undefined,
    plain.length > 0 ? `nodes ${plain.join(',')}` : undefined,
  ].filter((p) => p !== undefined);
  return `${tls}${parts.join(', ')}${db === '' ? '' : ` ${db}`}`;
}
