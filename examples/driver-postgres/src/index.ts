import {
  abortable,
  classifySocketError,
  closeWithin,
  defineDriver,
  isAbortError,
  type Classification,
} from '@reconnect/core';
import pg from 'pg';
import { z } from 'zod';

/**
 * Options of the PostgreSQL driver: a `connectionString`, or host / port / user / password / database.
 * `max` is the size of the pg pool behind the target.
 */
export const postgresOptionsSchema = z
  .strictObject({
    connectionString: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    max: z.number().int().positive().default(10),
    applicationName: z.string().min(1).default('reconnect'),
  })
  .refine((o) => o.connectionString === undefined || (o.host === undefined && o.port === undefined), {
    message: 'Give either connectionString or host/port, not both',
    path: ['connectionString'],
  });

/** The options after validation. */
export type PostgresOptions = z.output<typeof postgresOptionsSchema>;

/** The client a target hands to operations: a `pg` pool (`query(text, values)`). */
export type PostgresClient = {
  query<Row = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Row[]; rowCount: number | null; command: string }>;
  end(): Promise<void>;
};

// Node socket errors that prove the request never left this process.

/**
 * Maps pg and socket errors onto Reconnect's vocabulary (SQLSTATE codes from PostgreSQL's appendix A).
 * Exported for tests and for other drivers to reuse.
 */
export function classifyPostgresError(error: unknown): Classification {
  if (typeof error !== 'object' || error === null) return { kind: 'unknown' };
  const e = error as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  // Socket errors: the driver kit's table (refused before send, or lost in flight).
  const socket = classifySocketError(error);
  if (socket !== undefined) return socket;
  if (code !== undefined) {
    if (code === '57P01' || code === '57P02') return { kind: 'connection', code }; // admin / crash shutdown
    if (code === '57P03') return { kind: 'connection', code, sent: false }; // cannot connect now (starting up)
    if (code === '08004' || code === '08001') return { kind: 'connection', code, sent: false }; // rejected / unable
    if (code.startsWith('08')) return { kind: 'connection', code }; // connection exception
    if (code === '40001' || code === '40P01' || code === '55P03') return { kind: 'transient', code };
    if (code === '53300') return { kind: 'throttled', code, sent: false }; // too many connections
    if (code === '57014') return { kind: 'timeout', code }; // query_canceled (statement_timeout)
    if (code === '28P01' || code === '28000') return { kind: 'auth', code, sent: false };
    if (/^[0-9A-Z]{5}$/.test(code)) return { kind: 'fatal', code };
  }
  // pg reports lost connections and its own timeouts without a code.
  if (/timeout exceeded when trying to connect/i.test(message)) return { kind: 'timeout', sent: false };
  if (/Query read timeout/i.test(message)) return { kind: 'timeout' };
  if (
    /Connection terminated|not queryable|Connection ended|Cannot use a pool after calling end/i.test(message)
  ) {
    return { kind: 'connection' };
  }
  if (isAbortError(error)) return { kind: 'timeout' };
  return { kind: 'unknown' };
}

// pg takes no AbortSignal: core's `abortable` abandons a hung query when the signal aborts.

// How long close() lets pool.end() finish gracefully before it destroys the sockets left.
const closeGraceMs = 2000;

/** The parts of a pooled pg `Client` close() needs: its `Connection` and the socket under it. */
interface PooledClient {
  connection?: { stream?: { destroy(): void } };
}

/**
 * Every client of the pool, checked out, idle or still connecting. pg-pool keeps them in `_clients` (its only
 * list that includes clients still connecting; there is no public accessor), with `connection.stream` the
 * net.Socket (pg's own `Client.end()` destroys that same stream when the socket is dead).
 */
function pooledClients(pool: PostgresClient): PooledClient[] {
  const clients = (pool as { _clients?: unknown })._clients;
  return Array.isArray(clients) ? (clients as PooledClient[]) : [];
}

/**
 * Ends the pool: `end()` gets `graceMs` to finish; after that, connections still open hold queries that
 * `abortable` abandoned on a hung server (or are still connecting to it). end() never closes those, so their
 * sockets are destroyed; pg then fails the queries ("Connection terminated"), the pool drops the clients and
 * end() resolves. Bounded: at most `graceMs` + 500 ms.
 */
async function closePool(pool: PostgresClient, graceMs: number): Promise<void> {
  await closeWithin(
    () => pool.end(),
    () => {
      for (const pooled of pooledClients(pool)) pooled.connection?.stream?.destroy();
    },
    { graceMs },
  );
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'postgres';
  }
}

/** The PostgreSQL driver: a `pg` pool per target, probed with `SELECT 1` (or `healthCheck.query`). */
const postgresDriver = defineDriver<PostgresOptions, PostgresClient>({
  name: 'postgres',
  system: 'postgresql',
  options: postgresOptionsSchema,
  secretKeys: ['password', 'connectionString'],

  async connect(options, ctx) {
    const pool = new pg.Pool({
      ...(options.connectionString !== undefined ? { connectionString: options.connectionString } : {}),
      ...(options.connectionString === undefined
        ? { host: options.host ?? '127.0.0.1', port: options.port ?? 5432 }
        : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.database !== undefined ? { database: options.database } : {}),
      max: options.max,
      application_name: options.applicationName,
      connectionTimeoutMillis: ctx.policy.reconnect.connectTimeout,
      idleTimeoutMillis: 10_000,
      keepAlive: true,
    });
    // An idle connection dying (server restart: 57P01) is emitted on the pool; unhandled, it would crash the
    // process. The lifecycle learns about it from the next probe or operation instead.
    pool.on('error', () => undefined);
    try {
      await abortable(pool.query(ctx.policy.healthCheck.query ?? 'SELECT 1'), ctx.signal);
    } catch (error) {
      // Nothing to finish gracefully on a pool that never connected (it may be stuck connecting to a hung server).
      void closePool(pool, 0);
      throw error;
    }
    return pool;
  },

  async probe(client, ctx) {
    await abortable(client.query(ctx.query ?? 'SELECT 1'), ctx.signal);
  },

  async close(client) {
    await closePool(client, closeGraceMs);
  },

  classify: classifyPostgresError,

  describe(options) {
    if (options.connectionString !== undefined) return redactUrl(options.connectionString);
    return `${options.host ?? '127.0.0.1'}:${options.port ?? 5432}/${options.database ?? ''}`;
  },
});

export default postgresDriver;
export { postgresDriver };
