import {
  defineDriver,
  type ConnectContext,
  type NodeAddress,
  type ProbeContext,
  type ProbeReport,
} from '@reconnect/core';
import { bindPoolToAttempt } from './attempt-pool.js';
import { classifyMySqlError } from './classify.js';
import {
  describeMySqlOptions,
  maxLagMs,
  mysqlAddresses,
  mysqlOptionsSchema,
  mysqlSecretKeys,
  type MySqlDriverOptions,
} from './options.js';
import { discoverRoles, type Topology } from './discover.js';
import { mysql2PoolOptions, poolSettings } from './policy-mapping.js';
import { closeMySqlPool, createMySqlPool, openPool, probePool, type MySqlPool } from './pool.js';
import { stateOf } from './pool-state.js';
import { checkReplicaLag, type LagRule } from './replica-lag.js';
import { mysqlPoolUsage, mysqlTelemetry } from './telemetry.js';

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

// One per target (its validated options object), shared by its nodes' pools: the roles last discovered.
const topologies = new WeakMap<MySqlDriverOptions, Topology>();
const poolTopology = new WeakMap<MySqlPool, Topology>();
// A node's pool with a maxLag (its own or the target's): checked at each probe while the node's role is replica.
const poolLag = new WeakMap<MySqlPool, { id: string; rule: LagRule }>();

function lagRuleOf(options: MySqlDriverOptions, node: NodeAddress | undefined): LagRule | undefined {
  if (node === undefined) return undefined;
  const own = mysqlAddresses(options).find((a) => a.host === node.host && a.port === node.port)?.maxLag;
  const lag = own ?? options.maxLag;
  return lag === undefined ? undefined : { node: node.id, maxLagMs: maxLagMs(lag) };
}

function topologyOf(options: MySqlDriverOptions, ctx: ConnectContext): Topology | undefined {
  let topology = topologies.get(options);
  if (topology === undefined) {
    const named = nodes(options);
    if (named.length === 0) return undefined;
    // A short connection per node, bounded by the health check (discovery runs under its timeout).
    const connectTimeout = Math.min(ctx.policy.reconnect.connectTimeout, ctx.policy.healthCheck.timeout);
    topology = {
      nodes: named,
      connectionOptions: (node) => {
        const {
          connectionLimit: _l,
          queueLimit: _q,
          maxIdle: _m,
          idleTimeout: _i,
          waitForConnections: _w,
          resetOnRelease: _r,
          ...o
        } = mysql2PoolOptions(options, ctx.policy, node);
        void [_l, _q, _m, _i, _w, _r];
        return { ...o, connectTimeout };
      },
    };
    topologies.set(options, topology);
  }
  return topology;
}

/**
 * Re-checks which node is the primary (`@@global.read_only` on each configured node): after a failover the
 * promoted replica takes the writes. Runs when the policy's `pool.discovery` asks (`onStart`, `interval`,
 * `onFault`); a target of one server has nothing to discover.
 */
async function discover(pool: MySqlPool, ctx: ProbeContext): Promise<NodeAddress[]> {
  const topology = poolTopology.get(pool);
  return topology === undefined ? [] : discoverRoles(topology, ctx.signal);
}

// The servers (per target's options object) a pool has connected to: a new pool for one of them is a reconnect.
const connectedTo = new WeakMap<MySqlDriverOptions, Set<string>>();

/** Whether a pool of this target for `node` connected before: this connect replaces it. */
function reconnecting(options: MySqlDriverOptions, node: NodeAddress | undefined): boolean {
  let seen = connectedTo.get(options);
  if (seen === undefined) connectedTo.set(options, (seen = new Set()));
  const key = node?.id ?? '';
  return seen.has(key);
}

async function connect(options: MySqlDriverOptions, ctx: ConnectContext): Promise<MySqlPool> {
  const pool = createMySqlPool(mysql2PoolOptions(options, ctx.policy, ctx.node), {
    settings: poolSettings(options, ctx.policy),
    // A pool that replaces a lost one refills at once behind its first connection when a backlog waits (issue #29).
    recovering: reconnecting(options, ctx.node),
  });
  const topology = topologyOf(options, ctx);
  if (topology !== undefined) poolTopology.set(pool, topology);
  const rule = lagRuleOf(options, ctx.node);
  if (rule !== undefined && ctx.node !== undefined) poolLag.set(pool, { id: ctx.node.id, rule });
  try {
    await openPool(pool, ctx.signal);
    connectedTo.get(options)?.add(ctx.node?.id ?? '');
    return pool;
  } catch (error) {
    // Nothing to finish gracefully on a pool that never connected (it may be stuck in a handshake).
    void closeMySqlPool(pool, { graceMs: 0 });
    throw error;
  }
}

/**
 * The health check's query; on a replica with a `maxLag`, its replication status too: one too far behind (or not
 * replicating) fails the probe with the reason, so core's node pool takes it out of rotation until a probe finds it
 * caught up (replica-lag.ts). The role is the one last discovered: a replica promoted to primary is not checked.
 */
async function probe(pool: MySqlPool, ctx: ProbeContext): Promise<void | ProbeReport> {
  await probePool(pool, ctx.query ?? 'SELECT 1', ctx.signal);
  const lag = poolLag.get(pool);
  if (lag === undefined) return undefined;
  const role = poolTopology.get(pool)?.nodes.find((n) => n.id === lag.id)?.roles;
  if (role?.includes('replica') !== true) {
    stateOf(pool).lagging = undefined;
    return undefined;
  }
  return { status: await checkReplicaLag(pool, lag.rule, ctx.signal) };
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
  // Statements an operation sends follow its attempt: the call's own attemptTimeout and deadline, at once.
  bindAttempt: bindPoolToAttempt,
  nodes,
  discover,
  describe: describeMySqlOptions,
  // db.system.name as the server says (mysql or mariadb), db.namespace, the pool's connections for metrics.
  telemetry: mysqlTelemetry,
  poolStats: mysqlPoolUsage,
  secretKeys: mysqlSecretKeys,
});
