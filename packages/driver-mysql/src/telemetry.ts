import type { ConnectionPoolStats, DbTelemetry } from '@reconnect/core';
import type { CoreConnection } from './mysql2-internals.js';
import { mysqlAddresses, parseMySqlUri, type MySqlDriverOptions } from './options.js';
import type { MySqlPool } from './pool.js';
import { states } from './pool-state.js';

/** What mysql2's handshake leaves on a connection: whether the server called itself MariaDB. */
type Handshaken = CoreConnection & { _isMariaDB?: boolean };

/**
 * What spans and metrics say of a MySQL target (OpenTelemetry's MySQL and MariaDB conventions): `db.system.name`
 * is `mariadb` when the server's handshake says so (read from a pooled connection once connected), else `mysql`;
 * `db.namespace` the database the connections were opened with (a `USE` later is not followed); `server.*` the
 * one configured server (a primary + replicas target names each node on its attempts instead).
 */
export function mysqlTelemetry(options: MySqlDriverOptions, pool?: MySqlPool): DbTelemetry {
  const out: DbTelemetry = {};
  const database = options.uri === undefined ? options.database : parseMySqlUri(options.uri).database;
  if (database !== undefined) out.namespace = database;
  const addresses = mysqlAddresses(options);
  if (addresses.length === 1 && options.nodes === undefined && options.primary === undefined) {
    out.serverAddress = addresses[0]!.host;
    out.serverPort = addresses[0]!.port;
  }
  const core = pool === undefined ? undefined : states.get(pool)?.core;
  if (core !== undefined && core._allConnections.length > 0) {
    const mariadb = (core._allConnections.get(0) as Handshaken)._isMariaDB;
    if (mariadb !== undefined) out.system = mariadb ? 'mariadb' : 'mysql';
  }
  return out;
}

/** A pool's connections for the `db.client.connection.*` metrics (mysql2's own counts, read without a lock). */
export function mysqlPoolUsage(pool: MySqlPool): ConnectionPoolStats | undefined {
  const state = states.get(pool);
  if (state === undefined) return undefined;
  const core = state.core;
  const config = core.config as { connectionLimit: number; maxIdle?: number };
  const idle = core._freeConnections.length;
  return {
    used: Math.max(0, core._allConnections.length - idle),
    idle,
    max: config.connectionLimit,
    ...(config.maxIdle === undefined ? {} : { idleMax: config.maxIdle }),
    pending: core._connectionQueue.length,
    timeouts: state.stats.acquireTimeouts,
  };
}
