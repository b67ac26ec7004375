import type { NodeAddress } from '../../node-address.js';
import { NoNodeAvailableError } from '../../errors.js';
import type { PoolPolicy } from '../../policy/resolved.js';
import { systemClock, type Clock, type RandomSource } from '../../time/clock.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import { NodeLatency } from './node-latency.js';
import { createSelector, type NodeSelector } from './selectors.js';
import type { NodeEvent } from '../types.js';

/**
 * How long a node stays dead after its `deadCount`-th death:
 * `deadTimeout · 2^min(deadCount − 1, deadTimeoutCutoff)`, capped by `deadTimeoutMax`
 * (elastic-transport's rule: 1, 2, 4, 8, 16, 32 × deadTimeout with the default cutoff of 5).
 */
export function deadTime(
  policy: Pick<PoolPolicy, 'deadTimeout' | 'deadTimeoutMax' | 'deadTimeoutCutoff'>,
  deadCount: number,
): number {
  const exponent = Math.min(Math.max(deadCount - 1, 0), policy.deadTimeoutCutoff);
  return Math.min(policy.deadTimeout * 2 ** exponent, policy.deadTimeoutMax);
}

/** Whether a node serves only read-only calls (its roles include `replica`). */
export function isReplica(node: NodeAddress): boolean {
  return node.roles?.includes('replica') === true;
}

/** What the pool knows about one node. */
export interface NodeStatus {
  readonly node: NodeAddress;
  readonly alive: boolean;
  /** Consecutive failures since the last success. */
  readonly failures: number;
  /** How many times in a row the node died; drives the dead time; 0 after a success. */
  readonly deadCount: number;
  /** When (on the pool's clock) a dead node may be tried again. */
  readonly deadUntil: number;
}

interface MutableNodeStatus {
  node: NodeAddress;
  alive: boolean;
  failures: number;
  deadCount: number;
  deadUntil: number;
  /** When it last died (on the pool's clock): a reload recomputes `deadUntil` from it under the new rule. */
  diedAt: number;
  /** A resurrection ping is in flight: do not start another. */
  pinging: boolean;
}

/** Payload of `allDead`: every node is dead; `offered` is tried anyway so the pool never deadlocks. */
export interface AllDeadEvent {
  offered: NodeAddress;
  nodes: number;
}

/** Events of a {@link NodePool}. */
export interface NodePoolEvents {
  nodeDead: NodeEvent;
  nodeResurrected: NodeEvent;
  /** Said once when the last alive node dies (not on every call), again only after a node came back. */
  allDead: AllDeadEvent;
  /** The node list changed through discovery. */
  nodesChanged: { added: NodeAddress[]; removed: NodeAddress[] };
}

/** Options of a {@link NodePool}. */
export interface NodePoolOptions {
  nodes: readonly NodeAddress[];
  policy: PoolPolicy;
  clock?: Clock;
  random?: RandomSource;
  /**
   * Proves a dead node is back (the driver's probe); used by `resurrect: ping`. Resolves on success.
   * Without it, `ping` behaves like `optimistic`.
   */
  ping?: (node: NodeAddress) => Promise<void>;
}

/**
 * The alive and dead nodes of one target, and the choice of a node per attempt.
 * Dead nodes wait out a dead time that doubles per death up to a cap; when every node is dead the
 * one whose dead time ends first is offered anyway, so callers never deadlock on a pool of corpses.
 */
export class NodePool extends TypedEmitter<NodePoolEvents> {
  #policy: PoolPolicy;
  readonly #clock: Clock;
  readonly #selector: NodeSelector;
  // Reads served by replicas keep their own round-robin cursor, so writes do not skew them.
  readonly #replicaSelector: NodeSelector;
  readonly #ping: ((node: NodeAddress) => Promise<void>) | undefined;
  /** Each node's recent latency, kept only for `selector: least-latency`. */
  readonly #latency: NodeLatency | undefined = undefined;
  #nodes: MutableNodeStatus[] = [];
  #byId = new Map<string, MutableNodeStatus>();
  // Stryker disable ArrayDeclaration,BooleanLiteral: equivalent, the constructor's setNodes() sets them before any read
  // Kept up to date on every status change so `select` allocates nothing on the hot path.
  #alive: NodeAddress[] = [];
  // Read/write routing, only when some node has the role `replica` (a primary + replicas target).
  #hasReplicas = false;
  #writable = 0;
  #aliveWritable: NodeAddress[] = [];
  #aliveReplicas: NodeAddress[] = [];
  #allDeadSaid = false;
  // Stryker restore ArrayDeclaration,BooleanLiteral

  constructor(options: NodePoolOptions) {
    super();
    this.#policy = options.policy;
    this.#clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    if (options.policy.selector === 'least-latency') this.#latency = new NodeLatency(this.#clock);
    const cost = (node: NodeAddress): number => this.#latency?.cost(node) ?? 0;
    this.#selector = createSelector(options.policy.selector, random, cost);
    this.#replicaSelector = createSelector(options.policy.selector, random, cost);
    this.#ping = options.ping;
    this.setNodes(options.nodes);
  }

  /** Every node with its status (a snapshot). */
  get nodes(): readonly NodeStatus[] {
    return this.#nodes.map(({ pinging: _pinging, ...status }) => status);
  }

  /** The nodes currently alive. */
  get alive(): readonly NodeAddress[] {
    return this.#alive;
  }

  /** The status of one node, by id. */
  status(id: string): NodeStatus | undefined {
    return this.#byId.get(id);
  }

  /**
   * Picks the node for the next attempt, preferring one other than `avoid` (the node the previous
   * attempt failed on). A node with the role `replica` serves only `readOnly` calls, which prefer a
   * live replica and fall back to the other nodes. Throws {@link NoNodeAvailableError} only when the
   * pool has no node the call may use, or the selector accepts none of them.
   */
  select(avoid?: NodeAddress, readOnly = false): NodeAddress {
    if (this.#nodes.length === 0) throw new NoNodeAvailableError('The target has no node');
    const writes = this.#hasReplicas && !readOnly;
    if (writes && this.#writable === 0)
      throw new NoNodeAvailableError('The target has no primary node: only read-only calls can be served');
    const now = this.#clock.now();
    const revived = this.#policy.resurrect === 'none' ? undefined : this.#resurrect(now, writes);
    if (revived !== undefined) return revived;

    // Without replicas, the alive writable nodes are all the alive nodes.
    const replicas = readOnly && this.#aliveReplicas.length > 0;
    const alive = replicas ? this.#aliveReplicas : this.#aliveWritable;
    const selector = replicas ? this.#replicaSelector : this.#selector;
    if (alive.length > 0) {
      let picked = selector(alive);
      if (picked === undefined)
        throw new NoNodeAvailableError('The node selector accepted none of the alive nodes');
      if (avoid !== undefined && picked.id === avoid.id && alive.length > 1) {
        picked = selector(alive) ?? picked;
        if (picked.id === avoid.id) picked = alive.find((n) => n.id !== avoid.id) ?? picked;
      }
      return picked;
    }
    return this.#offerDead(avoid, writes);
  }

  /**
   * Whether {@link select} would pick a live node other than `avoid` for such a call: where a hedge of a read
   * running on `avoid` could go (a hedge to the same node only adds load to it).
   */
  hasAlternative(avoid: NodeAddress, readOnly: boolean): boolean {
    const replicas = readOnly && this.#aliveReplicas.length > 0;
    const alive = replicas ? this.#aliveReplicas : this.#aliveWritable;
    return alive.some((n) => n.id !== avoid.id);
  }

  /**
   * How long a call on `node` took, for a latency-aware selector: a success, or (`atLeast`) an attempt cut at its
   * timeout or the loser of a hedged read, whose time is a lower bound. Nothing without one.
   */
  observe(node: NodeAddress, durationMs: number, atLeast = false): void {
    this.#latency?.observe(node, durationMs, atLeast);
  }

  /** Records a successful call on `node`: resets its failure count and dead time; a dead node comes back. */
  markSuccess(node: NodeAddress): void {
    const s = this.#byId.get(node.id);
    if (s === undefined) return;
    // Cheap exit for the common case: a healthy node stays healthy.
    if (s.alive && s.failures === 0 && s.deadCount === 0) return;
    const deadCount = s.deadCount;
    s.failures = 0;
    s.deadCount = 0;
    s.deadUntil = 0;
    if (!s.alive) {
      s.alive = true;
      this.#rebuildAlive();
      this.emit('nodeResurrected', { node: s.node, deadCount });
    }
  }

  /** Records a failed call (connection or timeout) on `node`; after `nodeFailureThreshold` in a row it dies. */
  markFailure(node: NodeAddress): void {
    const s = this.#byId.get(node.id);
    if (s === undefined) return;
    s.failures++;
    if (s.alive) {
      if (s.failures >= this.#policy.nodeFailureThreshold) this.#kill(s);
      return;
    }
    // A dead node dies again (longer) only for a failed trial after its dead time: failures of calls admitted
    // before that (the all-dead rule) or concurrently with the trial that already failed are one death, not many.
    if (this.#clock.now() >= s.deadUntil) this.#kill(s);
  }

  /**
   * Takes new rules (a reload): thresholds and resurrection from the next call; a node that is dead stays dead
   * until its time is up under the new rule (its dead time is recomputed from when it died). The selector is
   * built once: a different `selector` needs a new pool.
   */
  setPolicy(policy: PoolPolicy): void {
    this.#policy = policy;
    for (const s of this.#nodes) if (!s.alive) s.deadUntil = s.diedAt + deadTime(policy, s.deadCount);
  }

  /** Replaces the node list (discovery), keeping the status of nodes that stay and their metadata updates. */
  setNodes(nodes: readonly NodeAddress[]): void {
    const next: MutableNodeStatus[] = [];
    const byId = new Map<string, MutableNodeStatus>();
    const added: NodeAddress[] = [];
    for (const node of nodes) {
      if (byId.has(node.id)) continue;
      const old = this.#byId.get(node.id);
      const status: MutableNodeStatus = old
        ? { ...old, node }
        : { node, alive: true, failures: 0, deadCount: 0, deadUntil: 0, diedAt: 0, pinging: false };
      if (old === undefined) added.push(node);
      next.push(status);
      byId.set(node.id, status);
    }
    const removed = this.#nodes.filter((s) => !byId.has(s.node.id)).map((s) => s.node);
    const changed = this.#nodes.length > 0 && (added.length > 0 || removed.length > 0);
    this.#nodes = next;
    this.#byId = byId;
    this.#rebuildAlive();
    if (changed) this.emit('nodesChanged', { added, removed });
  }

  #kill(s: MutableNodeStatus): void {
    s.deadCount++;
    s.diedAt = this.#clock.now();
    s.deadUntil = s.diedAt + deadTime(this.#policy, s.deadCount);
    s.alive = false;
    this.#rebuildAlive();
    this.emit('nodeDead', { node: s.node, deadCount: s.deadCount, retryAt: s.deadUntil });
  }

  // The first dead node whose dead time is over, per the resurrect strategy (a write never revives a replica).
  #resurrect(now: number, writes: boolean): NodeAddress | undefined {
    if (this.#alive.length === this.#nodes.length) return undefined;
    let due: MutableNodeStatus | undefined;
    for (const s of this.#nodes) {
      if (s.alive || s.pinging || s.deadUntil > now || (due !== undefined && s.deadUntil >= due.deadUntil))
        continue;
      // Optimistic revival hands the node to this call: it must be one the call may use.
      if (writes && isReplica(s.node) && this.#policy.resurrect !== 'ping') continue;
      due = s;
    }
    if (due === undefined) return undefined;
    const ping = this.#ping;
    if (this.#policy.resurrect === 'ping' && ping !== undefined) {
      // Ping in the background and serve this call from the alive nodes meanwhile (elastic-transport does the same).
      this.#pingNode(due, ping);
      return undefined;
    }
    // Optimistic: hand it out; the call's own outcome decides whether it is back.
    return due.node;
  }

  #pingNode(s: MutableNodeStatus, ping: (node: NodeAddress) => Promise<void>): void {
    s.pinging = true;
    ping(s.node).then(
      () => {
        s.pinging = false;
        this.markSuccess(s.node);
      },
      () => {
        s.pinging = false;
        // One death per failed ping, even when the ping's own connect already reported this failure.
        if (this.#byId.get(s.node.id) === s) this.markFailure(s.node);
      },
    );
  }

  #offerDead(avoid: NodeAddress | undefined, writes: boolean): NodeAddress {
    let best: MutableNodeStatus | undefined;
    const candidates = writes ? this.#writable : this.#nodes.length;
    for (const s of this.#nodes) {
      if (writes && isReplica(s.node)) continue;
      if (avoid !== undefined && s.node.id === avoid.id && candidates > 1) continue;
      if (best === undefined || s.deadUntil < best.deadUntil) best = s;
    }
    const offered = (best ?? this.#nodes[0]!).node;
    // Only the primary being dead while replicas serve reads is not "every node dead".
    if (!this.#allDeadSaid && this.#alive.length === 0) {
      this.#allDeadSaid = true;
      this.emit('allDead', { offered, nodes: this.#nodes.length });
    }
    return offered;
  }

  #rebuildAlive(): void {
    this.#alive = this.#nodes.filter((s) => s.alive).map((s) => s.node);
    this.#hasReplicas = this.#nodes.some((s) => isReplica(s.node));
    this.#writable = this.#nodes.filter((s) => !isReplica(s.node)).length;
    this.#aliveWritable = this.#alive.filter((n) => !isReplica(n));
    this.#aliveReplicas = this.#alive.filter(isReplica);
    if (this.#alive.length > 0) this.#allDeadSaid = false;
  }
}
