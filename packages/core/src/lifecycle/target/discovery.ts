import type { Driver } from '../../driver/driver.js';
import type { NodeAddress } from '../../node-address.js';
import { NotConnectedError } from '../../errors.js';
import type { ResolvedPolicy } from '../../policy/resolved.js';
import type { Clock, TimerHandle } from '../../time/clock.js';
import type { NodePool } from '../nodes/node-pool.js';
import type { NodeSlots } from './node-slots.js';
import { withTimeout } from '../../time/with-timeout.js';

/** A node discovery found that failed its probe, so it was kept out of the pool. */
export interface UnreachableNode {
  node: NodeAddress;
  error: unknown;
  /** When it failed (wall-clock ms since the epoch, as `health()` reports times). */
  at: number;
}

/** What {@link Discovery} needs from the target that owns it. */
export interface DiscoveryOptions<Options, Client> {
  driver: Driver<Options, Client>;
  policy: ResolvedPolicy;
  clock: Clock;
  pool: NodePool;
  slots: NodeSlots<Options, Client>;
  /** Aborted by the target's stop(). */
  lifetime: AbortSignal;
  stopped: () => boolean;
  /** The nodes the target may use at all (the selector's filter). */
  usable: (nodes: readonly NodeAddress[]) => NodeAddress[];
  /** A discovered node failed its probe (telemetry). */
  onUnreachable?: (node: NodeAddress, error: unknown) => void;
  /** When every attempt handed a client so far has ended at the latest (the target's source knows). */
  attemptsEndBy: (now: number) => number;
}

/** How long a leaving node's client is kept when an attempt that may use it has no limit at all. */
const unboundedGraceMs = 60_000;

/**
 * Discovery (sniffing) of a multi-node target: on the first connect (`onStart`), every `interval`, and after a
 * node dies (`onFault`). Asks a node for the cluster's nodes (single-flight), keeps the status of known nodes,
 * and adds a new node only after it connected and answered a probe: sniffed addresses a client cannot reach
 * (Docker, private IPs, a load balancer's backends) are kept out and reported instead of failing calls. When no
 * discovered node is reachable the node list stays as it is. A node that left the cluster leaves the pool at
 * once (no new calls) and its client is closed through the driver, which lets in-flight requests end.
 */
export class Discovery<Options, Client> {
  readonly #o: DiscoveryOptions<Options, Client>;
  #running: Promise<void> | undefined;
  #timer: TimerHandle | undefined;
  #startedOnce = false;
  readonly #unreachable = new Map<string, UnreachableNode>();
  readonly #retiring = new Set<{ close(): Promise<void>; timer: TimerHandle }>();

  constructor(o: DiscoveryOptions<Options, Client>) {
    this.#o = o;
  }

  /** Nodes the last discoveries found unreachable (each until a later discovery reaches it or no longer finds it). */
  get unreachable(): readonly UnreachableNode[] {
    return [...this.#unreachable.values()];
  }

  /** The target connected: discover on the first connect, and keep the interval timer running. */
  connected(): void {
    const discovery = this.#o.policy.pool.discovery;
    if (discovery.onStart && !this.#startedOnce) {
      this.#startedOnce = true;
      void this.run();
    }
    if (discovery.interval !== false && this.#timer === undefined) this.#schedule(discovery.interval);
  }

  /** A node died: discover again when the policy says `onFault`. */
  nodeDied(): void {
    if (this.#o.policy.pool.discovery.onFault) void this.run();
  }

  /** Clears the interval timer. */
  stop(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One discovery (joins the one running); never rejects. */
  run(): Promise<void> {
    if (this.#running) return this.#running;
    const { driver, pool, slots, clock, policy } = this.#o;
    // Ask a node believed alive; after a fault that may be none with a client yet, so any client will do.
    const slot =
      slots.all.find((s) => s.client !== undefined && (!s.node || pool.status(s.node.id)?.alive)) ??
      slots.all.find((s) => s.client !== undefined);
    const discover = driver.discover?.bind(driver);
    if (discover === undefined || slot?.client === undefined) return Promise.resolve();
    const client = slot.client;
    this.#running = withTimeout(clock, policy.healthCheck.timeout, (signal) => discover(client, { signal }), {
      signal: this.#o.lifetime,
      timeoutError: () => new NotConnectedError('Discovery timed out'),
    })
      .then((found) => this.#apply(found))
      .catch(() => undefined)
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #apply(found: readonly NodeAddress[]): Promise<void> {
    const usable = this.#o.usable(found);
    // Finding no usable node keeps the list there is: a bad answer must not empty the pool.
    if (usable.length === 0 || this.#o.stopped()) return;
    const { pool } = this.#o;
    const known = usable.filter((n) => pool.status(n.id) !== undefined);
    const fresh = usable.filter((n) => pool.status(n.id) === undefined);
    const reached = await Promise.all(fresh.map((n) => this.#admit(n)));
    if (this.#o.stopped()) return;
    const reachable = fresh.filter((_, i) => reached[i]);
    // Forget what is no longer reported at all.
    const seen = new Set(usable.map((n) => n.id));
    for (const id of this.#unreachable.keys()) if (!seen.has(id)) this.#unreachable.delete(id);
    const next = [...known, ...reachable];
    // No discovered node answers: keep the seeds (or the last good list) rather than a pool of corpses.
    if (next.length === 0) return;
    pool.setNodes(next);
    this.#retire((node) => pool.status(node.id) === undefined);
  }

  /**
   * Takes the nodes `drop` picks out of the slots. No new call can pick them (they left the pool), but calls
   * already running hold their lease: each client is closed only once every attempt that may use it has ended —
   * the longest running attempt's own limit (a per-call `attemptTimeout` may be longer than the policy's; the
   * deadline when it has none), never less than the policy's attemptTimeout.
   */
  #retire(drop: (node: NodeAddress) => boolean): void {
    const { slots, driver, clock, policy } = this.#o;
    for (const slot of slots.all) {
      if (slot.node === undefined || !drop(slot.node) || slot.client === undefined) continue;
      const client = slot.client;
      slot.unwatch?.();
      slot.unwatch = undefined;
      slot.client = undefined;
      slot.lease = undefined;
      const now = clock.now();
      const endBy = this.#o.attemptsEndBy(now);
      const graceMs = Number.isFinite(endBy)
        ? Math.max(policy.retry.attemptTimeout, endBy - now)
        : unboundedGraceMs;
      const retiring = {
        close: () => {
          clock.clearTimeout(retiring.timer);
          this.#retiring.delete(retiring);
          return driver.close(client).catch(() => undefined);
        },
        timer: clock.setTimeout(() => void retiring.close(), graceMs),
      };
      this.#retiring.add(retiring);
    }
    slots.removeWhere(drop);
  }

  /** For stop(): closes at once the clients of nodes that left and were waiting for their in-flight calls. */
  async drain(): Promise<void> {
    await Promise.all([...this.#retiring].map((r) => r.close()));
  }

  // Connects a node found by discovery and probes it once, bounded by connectTimeout: it joins only if that works.
  async #admit(node: NodeAddress): Promise<boolean> {
    const { slots, policy, lifetime } = this.#o;
    slots.add(node);
    const slot = slots.get(node.id);
    if (slot === undefined) return false;
    try {
      await slots.perNode(lifetime, policy.reconnect.connectTimeout, async (signal) => {
        if (slot.client === undefined) await slots.connect(slot, signal);
        await slots.prove(slot, signal, 1);
      });
      this.#unreachable.delete(node.id);
      return true;
    } catch (error) {
      if (lifetime.aborted) return false;
      this.#unreachable.set(node.id, { node, error, at: Date.now() });
      this.#o.onUnreachable?.(node, error);
      // Not in the pool, so no call can pick it; drop its slot (and any client) until a later discovery.
      slots.removeWhere((n) => n.id === node.id);
      return false;
    }
  }

  #schedule(every: number): void {
    const clock = this.#o.clock;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#o.stopped()) return;
      void this.run().finally(() => {
        if (!this.#o.stopped()) this.#schedule(every);
      });
    }, every);
  }
}
