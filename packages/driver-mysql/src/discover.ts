import { abortReason, type NodeAddress } from '@reconnect/core';
import mysql, { type ConnectionOptions, type RowDataPacket } from 'mysql2/promise';

/** What discovery needs: every configured node, and how to connect to one. */
export interface Topology {
  /** The nodes with the roles last seen (the configured ones at first); updated by {@link discoverRoles}. */
  nodes: readonly NodeAddress[];
  readonly connectionOptions: (node: NodeAddress) => ConnectionOptions;
}

type Seen = { node: NodeAddress; readOnly: boolean | undefined };

async function readOnlyOf(options: ConnectionOptions, signal: AbortSignal): Promise<boolean | undefined> {
  if (signal.aborted) return undefined;
  let conn: mysql.Connection | undefined;
  const connecting = mysql.createConnection(options);
  const onAbort = () =>
    void connecting.then(
      (c) => c.destroy(),
      () => undefined,
    );
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    conn = await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(abortReason(signal));
        signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
      }),
    ]);
    const [rows] = await conn.query<RowDataPacket[]>({
      sql: 'SELECT @@global.read_only AS ro',
      timeout: 2000,
    });
    return Number(rows[0]?.['ro']) === 1;
  } catch {
    return undefined;
  } finally {
    signal.removeEventListener('abort', onAbort);
    conn?.destroy();
  }
}

/**
 * Which node is the primary now: each configured node is asked `@@global.read_only` (on a short connection of
 * its own, under `signal`). The one writable node becomes `primary` and the others `replica` — after a failover
 * the promoted replica takes the writes and the demoted primary serves reads. When several nodes are writable
 * (a failover half done) the current primary keeps the role if it is one of them; when none answers as
 * writable (the primary is down) the roles last seen stay. Nodes without roles (Galera, multi-primary) are
 * returned as they are.
 */
export async function discoverRoles(topology: Topology, signal: AbortSignal): Promise<NodeAddress[]> {
  const { nodes } = topology;
  if (!nodes.some((n) => n.roles !== undefined)) return [...nodes];
  const seen: Seen[] = await Promise.all(
    nodes.map(async (node) => ({
      node,
      readOnly: await readOnlyOf(topology.connectionOptions(node), signal),
    })),
  );
  const writable = seen.filter((s) => s.readOnly === false).map((s) => s.node);
  if (writable.length === 0) return [...nodes];
  const current = nodes.find((n) => n.roles?.includes('primary'));
  const primary = writable.find((n) => n.id === current?.id) ?? writable[0]!;
  const next = nodes.map((n) =>
    n.roles === undefined ? n : { ...n, roles: n.id === primary.id ? ['primary'] : ['replica'] },
  );
  topology.nodes = next;
  return next;
}
