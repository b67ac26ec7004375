import type { NodePool } from '../nodes/node-pool.js';
import type { Slot } from './node-slots.js';
import type { TargetErrors } from './errors.js';
import type { TargetHealth, TargetState } from '../types.js';

/** What a target's health snapshot is read from. */
export interface HealthParts {
  name: string;
  state: TargetState;
  connected: boolean;
  required: boolean;
  since: number;
  lastError: unknown;
  pool: NodePool | undefined;
  slots: readonly Slot<unknown>[];
  /** Discovery's unreachable nodes, on targets whose driver discovers them. */
  unreachable: readonly { node: { id: string }; error: unknown; at: number }[] | undefined;
  errors: TargetErrors;
}

/** A target's health snapshot: state, last error (redacted), nodes with what their last probe reported (or why it failed). */
export function targetHealth(p: HealthParts): TargetHealth {
  const slotOf = new Map<string, Slot<unknown>>();
  let serverStatus: string | undefined;
  for (const s of p.slots) {
    serverStatus ??= s.status;
    if (s.node !== undefined) slotOf.set(s.node.id, s);
  }
  return {
    name: p.name,
    state: p.state,
    connected: p.connected,
    required: p.required,
    since: p.since,
    lastError: p.errors.describe(p.lastError),
    ...(serverStatus === undefined ? {} : { serverStatus }),
    nodes: p.pool
      ? p.pool.nodes.map((n) => {
          const slot = slotOf.get(n.node.id);
          const status = slot?.status;
          // A dead node says why, when its last probe failed (a lagging replica, a refused connection).
          const error = n.alive ? undefined : p.errors.describe(slot?.probeError);
          return {
            id: n.node.id,
            alive: n.alive,
            deadCount: n.deadCount,
            ...(status === undefined ? {} : { status }),
            ...(error === undefined ? {} : { error }),
          };
        })
      : [],
    ...(p.unreachable === undefined
      ? {}
      : {
          unreachable: p.unreachable.map((u) => ({
            id: u.node.id,
            error: p.errors.describe(u.error),
            at: u.at,
          })),
        }),
  };
}
