import { formatDuration } from '@reconnect/core';
import { serverErrno } from './classify.js';
import { MySqlDriverError } from './errors.js';
import { stateOf } from './pool-state.js';
import { busy, probeQuery, type MySqlPool } from './pool.js';

// Lag-aware replica reads. A replica's probe also reads its replication status; one further behind its primary
// than `maxLag` (or whose replication stopped) fails the probe with the reason, so core's node pool takes it out of
// rotation (reads go to the other replicas, or to the primary when none is left) and a later probe that finds it
// caught up brings it back. Until then a statement sent to it through an operation's view fails at once, unsent,
// so a read that core still routes to it (one that revived it by succeeding after the probe) is retried elsewhere.

/** What a replica's lag is checked against. */
export interface LagRule {
  /** The node, as messages name it (`127.0.0.1:3307`). */
  readonly node: string;
  readonly maxLagMs: number;
}

/** One row of `SHOW REPLICA STATUS` (MariaDB and MySQL before 8.0.22 spell it `Slave`/`Master`). */
type StatusRow = Record<string, unknown>;

const field = (row: StatusRow, ...names: string[]): unknown => {
  for (const n of names) if (row[n] !== undefined) return row[n];
  return undefined;
};
// A text column as text ('' when missing or not text).
const text = (row: StatusRow, ...names: string[]): string => {
  const v = field(row, ...names);
  return typeof v === 'string' ? v : '';
};

/** What one probe found: whether the replica may serve reads, and what to say about it. */
export interface LagVerdict {
  readonly ok: boolean;
  readonly status: string;
}

function rowVerdict(row: StatusRow, rule: LagRule): LagVerdict {
  const sql = text(row, 'Replica_SQL_Running', 'Slave_SQL_Running');
  const io = text(row, 'Replica_IO_Running', 'Slave_IO_Running');
  const behind = field(row, 'Seconds_Behind_Source', 'Seconds_Behind_Master');
  const max = formatDuration(rule.maxLagMs);
  if (sql !== 'Yes') {
    const error = text(row, 'Last_SQL_Error');
    return {
      ok: false,
      status: `replication stopped on replica ${rule.node} (SQL thread: ${sql || 'unknown'}${error === '' ? '' : `; ${error}`}): its data is falling behind, it takes no reads until replication runs and catches up within maxLag ${max}`,
    };
  }
  if (behind === null || behind === undefined) {
    // The SQL thread has applied all it received. `Connecting`: the replica cannot reach its primary (most often the
    // primary is down, and then the replicas are the only copies left to read); `No`: someone stopped the IO thread.
    if (io === 'Connecting')
      return {
        ok: true,
        status: `replica ${rule.node} cannot reach its primary (IO thread Connecting): lag unknown, serving reads`,
      };
    return {
      ok: false,
      status: `replication stopped on replica ${rule.node} (IO thread: ${io || 'unknown'}): its data is falling behind, it takes no reads until replication runs and catches up within maxLag ${max}`,
    };
  }
  const seconds = Number(behind);
  if (seconds * 1000 > rule.maxLagMs)
    return {
      ok: false,
      status: `replica ${rule.node} is ${seconds} s behind its primary (Seconds_Behind_Master), more than maxLag ${max}: it takes no reads until it catches up`,
    };
  return { ok: true, status: `replica ${rule.node}: ${seconds} s behind its primary (maxLag ${max})` };
}

/**
 * The verdict on a replica from its `SHOW REPLICA STATUS` rows: behind by more than `maxLag`, or its replication
 * stopped (SQL thread, or IO thread stopped rather than reconnecting), means no reads; several channels, the
 * worst one; none, not a replica at all (no reads: nothing bounds how old its data is).
 */
export function replicaLagVerdict(rows: readonly StatusRow[], rule: LagRule): LagVerdict {
  if (rows.length === 0)
    return {
      ok: false,
      status: `${rule.node} has the role replica but does not replicate (SHOW REPLICA STATUS is empty): with maxLag ${formatDuration(rule.maxLagMs)} it takes no reads`,
    };
  let best: LagVerdict | undefined;
  for (const row of rows) {
    const v = rowVerdict(row, rule);
    if (!v.ok) return v;
    best ??= v;
  }
  return best!;
}

const parseError = 1064;
const privilegeErrors = new Set([1227, 1142, 1044]);

async function statusRows(pool: MySqlPool, rule: LagRule, signal: AbortSignal): Promise<unknown> {
  const state = stateOf(pool);
  try {
    return await probeQuery(pool, state.replicaStatusSql, signal);
  } catch (error) {
    const errno = serverErrno(error);
    if (errno === parseError && state.replicaStatusSql === 'SHOW REPLICA STATUS') {
      // MariaDB before 10.5.1, MySQL before 8.0.22: only the older spelling.
      state.replicaStatusSql = 'SHOW SLAVE STATUS';
      return probeQuery(pool, state.replicaStatusSql, signal);
    }
    if (errno !== undefined && privilegeErrors.has(errno))
      throw new MySqlDriverError(
        'REPLICA_LAGGING',
        `maxLag on replica ${rule.node}: the server refused to show its replication status (${state.replicaStatusSql}: errno ${errno}); grant the pool's user SLAVE MONITOR (MariaDB 10.5.9+) or REPLICATION CLIENT (MySQL). Until then it takes no reads`,
        { cause: error },
      );
    throw error;
  }
}

/**
 * Reads the replica's replication status under `signal` (the probe's) and records the verdict on the pool: the
 * status to report when it may serve reads; a `REPLICA_LAGGING` error that says why when it may not. A server
 * busy refusing connections says nothing about lag: the verdict last seen stays.
 */
export async function checkReplicaLag(pool: MySqlPool, rule: LagRule, signal: AbortSignal): Promise<string> {
  const state = stateOf(pool);
  let verdict: LagVerdict;
  try {
    const rows = await statusRows(pool, rule, signal);
    if (rows === busy) {
      if (state.lagging !== undefined) throw new MySqlDriverError('REPLICA_LAGGING', state.lagging);
      return `replica ${rule.node}: server busy, lag not read`;
    }
    verdict = replicaLagVerdict(Array.isArray(rows) ? (rows as StatusRow[]) : [], rule);
  } catch (error) {
    if (error instanceof MySqlDriverError && error.code === 'REPLICA_LAGGING') state.lagging = error.message;
    throw error;
  }
  state.lagging = verdict.ok ? undefined : verdict.status;
  if (!verdict.ok) throw new MySqlDriverError('REPLICA_LAGGING', verdict.status);
  return verdict.status;
}
