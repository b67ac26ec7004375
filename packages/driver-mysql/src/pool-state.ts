import type { TimeoutList } from '@reconnect/core';
import type { ConnectionOptions } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import type { ConnectPacer } from './connect-pacer.js';
import type { Killer } from './kill-query.js';
import type { CorePool, CoreConnection, AcquireCallback } from './mysql2-internals.js';
import type { PoolSettings } from './policy-mapping.js';

/** Counters of what the driver did to one pool, for tests, logs and the README's figures. */
export interface MySqlPoolStats {
  /** Idle connections pinged before reuse. */
  validated: number;
  /** Connections discarded because their validation ping failed. */
  discarded: number;
  /** Connections destroyed with a statement in flight (its timeout fired, or a probe was aborted). */
  abandoned: number;
  /** `KILL QUERY` statements the server accepted. */
  killed: number;
  /** `KILL QUERY` attempts that failed or timed out (the server did not answer). */
  killFailed: number;
  /** Operations that gave up waiting for a free pooled connection. */
  acquireTimeouts: number;
  /** The longest the pool's own wait queue has been. */
  maxQueued: number;
  /** New connections the server refused as busy (1040, 1203): backed off and tried again, never a caller's error. */
  serverBusy: number;
  /** Calls that waited for a connection because the pacer held a new one back (its ceiling, or a busy back-off). */
  paced: number;
}

/** What the driver keeps of each pool it created: mysql2's pool, the policy's settings, counters, the killer. */
export interface PoolState {
  readonly core: CorePool;
  readonly settings: PoolSettings;
  readonly connectionOptions: ConnectionOptions;
  readonly stats: MySqlPoolStats;
  readonly killer: Killer;
  readonly getConnection: (this: CorePool, cb: AcquireCallback) => void;
  closing: boolean;
  probeConnection: CoreConnection | undefined;
  /** Paces the pool's new connections (connect-pacer.ts). */
  readonly pacer: ConnectPacer;
  /** The timer that opens a connection for the calls the pacer held back, when it lets the next one start. */
  wake: ReturnType<typeof setTimeout> | undefined;
  /** The time limits of the calls waiting in the pool's queue. */
  readonly waits: TimeoutList;
  /** The last busy refusal (1040, 1203): what a first connect that never got a connection reports. */
  lastBusy: unknown;
  /**
   * Why this replica takes no reads, as its last probe found (behind by more than `maxLag`, replication stopped);
   * undefined when it serves them. Statements sent through an operation's view fail at once, unsent (replica-lag.ts).
   */
  lagging: string | undefined;
  /** How this server is asked for its replication status: `SHOW REPLICA STATUS`, or `SHOW SLAVE STATUS` before 10.5.1 / 8.0.22. */
  replicaStatusSql: string;
}

/** Every pool the driver created, and its state (filled by createMySqlPool). */
export const states = new WeakMap<Pool, PoolState>();

/** The driver's state of a pool it created; a TypeError for any other. */
export function stateOf(pool: Pool): PoolState {
  const state = states.get(pool);
  if (state === undefined) throw new TypeError('Not a pool created by @reconnect/driver-mysql');
  return state;
}

/** What the driver did to `pool` so far (a copy). */
export function mysqlPoolStats(pool: Pool): MySqlPoolStats {
  return { ...stateOf(pool).stats };
}
