import { defineDriver, type ConnectContext, type NodeAddress, type ProbeContext } from '@reconnect/core';
import { classifyMySqlError } from './classify.js';
import {
  describeMySqlOptions,
  mysqlAddresses,
  mysqlOptionsSchema,
  mysqlSecretKeys,
  type MySqlDriverOptions,
} from './options.js';
import { mysql2PoolOptions, poolSettings } from './policy-mapping.js';
import { closeMySqlPool, createMySqlPool, openPool, probePool, type MySqlPool } from './pool.js';

const nodeId = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * The servers of a primary + replicas (or `nodes`) target, each with its role; empty for a single server
 * (`uri` or `host`), which then needs no node pool.
 */
function nodes(options: MySqlDriverOptions): NodeAddress[] {
  if (options.nodes === undefined && options.primary === undefined) return [];
  return mysqlAddresses(options).map((a) => ({
    id: nodeId(a.host, a.port),
    host: a.host,
    port: a.port,
    ...(a.role === undefined ? {} : { roles: [a.role] }),
  }));
}

async function connect(options: MySqlDriverOptions, ctx: ConnectContext): Promise<MySqlPool> {
  const pool = createMySqlPool(mysql2PoolOptions(options, ctx.policy, ctx.node), {
    settings: poolSettings(options, ctx.policy),
  });
  try {
    await openPool(pool, ctx.signal);
    return pool;
  } catch (error) {
    // Nothing to finish gracefully on a pool that never connected (it may be stuck in a handshake).
    void closeMySqlPool(pool, { graceMs: 0 });
    throw error;
  }
}

function probe(pool: MySqlPool, ctx: ProbeContext): Promise<void> {
  return probePool(pool, ctx.query ?? 'SELECT 1', ctx.signal);
}

async function close(pool: MySqlPool): Promise<void> {
  await closeMySqlPool(pool);
}

/**
 * The MySQL / MariaDB driver (mysql2 3.24): each target (or each node of a primary + replicas target) is a
 * mysql2 promise Pool the operations use as they would without Reconnect. The lifecycle owns reconnecting
 * (a lost pool is closed and a new one made); the driver bounds every wait inside mysql2, validates idle
 * connections, and never returns a connection with a statement in flight to the pool.
 */
export const mysqlDriver = defineDriver<MySqlDriverOptions, MySqlPool>({
  name: 'mysql',
  system: 'mysql',
  options: mysqlOptionsSchema,
  connect,
  probe,
  close,
  classify: classifyMySqlError,
  nodes,
  describe: describeMySqlOptions,
  secretKeys: mysqlSecretKeys,
});
