import type { ConnectionMonitor, Driver } from '../../driver/driver.js';
import type { NodeAddress } from '../../node-address.js';
import type { Lease } from '../../engine/types.js';
import { AttemptTimeoutError, NotConnectedError, StoppedError } from '../../errors.js';
import type { ResolvedPolicy } from '../../policy/resolved.js';
import type { Clock } from '../../time/clock.js';
import type { NodePool } from '../nodes/node-pool.js';
import { withTimeout } from '../../time/with-timeout.js';

/** One node's client (or the single slot of a target whose client owns its topology). */
export interface Slot<Client> {
  readonly node: NodeAddress | undefined;
  client: Client | undefined;
  /** Reused for every attempt on this client: the connected path allocates nothing. */
  lease: Lease<Client> | undefined;
  unwatch: (() => void) | undefined;
  connecting: Promise<Client> | undefined;
  /** What the last probe reported of the server (`ProbeReport.status`); cleared by a failed probe. */
  status?: string | undefined;
  /** Why the last probe failed (a replica behind its primary, a refused connection); cleared by a passing one. */
  probeError?: unknown;
}

/** What {@link NodeSlots} needs from the target that owns it. */
export interface NodeSlotsOptions<Options, Client> {
  target: string;
  driver: Driver<Options, Client>;
  options: Options;
  policy: ResolvedPolicy;
  clock: Clock;
  /** Aborted by the target's stop(): ends per-node connects and probes that outlive their attempt. */
  lifetime: AbortSignal;
  /** The target was stopped: a client that connects now is closed at once. */
  stopped: () => boolean;
  /** For self-reconnecting clients (the driver has `watch`): where their reports go. */
  monitor: () => ConnectionMonitor;
  /** The target's node pool, for multi-node targets. */
  pool: () => NodePool | undefined;
}

/**
 * A target's clients, one slot per node, and what is done to all of them: connect the missing ones, probe each,
 * ping a dead one, close them. Every per-node step has its own time limit, so one hung node never blocks the
 * others; the target is up as soon as one node is.
 */
export class NodeSlots<Options, Client> {
  readonly all: Slot<Client>[] = [];
  readonly #byId = new Map<string, Slot<Client>>();
  readonly #closing = new Set<Promise<void>>();
  readonly #o: NodeSlotsOptions<Options, Client>;
  readonly #watching: boolean;

  /** `nodes` undefined: a single slot (the driver names no nodes, or its client owns the topology). */
  constructor(o: NodeSlotsOptions<Options, Client>, nodes: readonly NodeAddress[] | undefined) {
    // A copy: setPolicy() replaces the policy here without touching the caller's object.
    this.#o = { ...o };
    this.#watching = typeof o.driver.watch === 'function';
    if (nodes === undefined) this.all.push(newSlot(undefined));
    else for (const n of nodes) this.add(n);
  }

  /** Takes a new policy (a reload): the next connect, probe and proof use it. */
  setPolicy(policy: ResolvedPolicy): void {
    this.#o.policy = policy;
    // What a live client keeps of the policy itself (ioredis's command timeout) follows without a reconnect.
    const driver = this.#o.driver;
    if (driver.reconfigure !== undefined)
      for (const s of this.all) if (s.client !== undefined) driver.reconfigure(s.client, policy);
  }

  /**
   * How many operations the clients serve at once: the sum of their pools' `max` (the driver's `poolStats`), or
   * `undefined` when the driver reports no pool (one multiplexed connection: Redis) or no client is open.
   */
  capacity(): number | undefined {
    const driver = this.#o.driver;
    if (driver.poolStats === undefined) return undefined;
    let sum = 0;
    for (const s of this.all) if (s.client !== undefined) sum += driver.poolStats(s.client)?.max ?? 0;
    return sum > 0 ? sum : undefined;
  }

  /** The slot of node `id`. */
  get(id: string): Slot<Client> | undefined {
    return this.#byId.get(id);
  }

  /** The first slot with a client: the target's `client`. */
  firstClient(): Client | undefined {
    for (const s of this.all) if (s.client !== undefined) return s.client;
    return undefined;
  }

  /** Adds a slot for a node (discovery); a node that has one keeps it. */
  add(node: NodeAddress): void {
    if (this.#byId.has(node.id)) return;
    const s = newSlot<Client>(node);
    this.all.push(s);
    this.#byId.set(node.id, s);
  }

  /** Removes the slots whose node `drop` picks, closing their clients. */
  removeWhere(drop: (node: NodeAddress) => boolean): void {
    for (let i = this.all.length - 1; i >= 0; i--) {
      const s = this.all[i]!;
      if (s.node && drop(s.node)) {
        this.all.splice(i, 1);
        this.#byId.delete(s.node.id);
        void this.close(s);
      }
    }
  }

  /**
   * One reconnect attempt: connect every node that has no client; a self-reconnecting client is nudged and probed.
   * Resolves as soon as one node is up; the others go on (each bounded by connectTimeout) and feed the pool.
   */
  async connectAttempt(signal: AbortSignal): Promise<void> {
    const { driver, policy } = this.#o;
    const existing = this.all.filter((s) => s.client !== undefined);
    if (this.#watching && existing.length > 0) {
      await this.#firstSuccess(
        existing.map((s) =>
          this.perNode(signal, policy.reconnect.connectTimeout, async (nodeSignal) => {
            driver.reconnectNow?.(s.client as Client);
            await this.prove(s, nodeSignal, 1);
          }),
        ),
      );
      return;
    }
    const missing = this.all.filter((s) => s.client === undefined);
    if (missing.length === 1) {
      await this.connect(missing[0]!, signal);
      await this.prove(missing[0]!, signal);
      return;
    }
    await this.#firstSuccess(
      missing.map((s) =>
        this.perNode(signal, policy.reconnect.connectTimeout, async (nodeSignal) => {
          await this.connect(s, nodeSignal);
          await this.prove(s, nodeSignal);
        }),
      ),
    );
  }

  /**
   * The active health check. One node: its probe. Several: each node is probed on its own (bounded by the health
   * timeout) and its outcome feeds the pool (node-level health); the target is fine as soon as one node answers.
   */
  async probeAll(signal: AbortSignal): Promise<void> {
    const slots = this.all.filter((s) => s.client !== undefined);
    const pool = this.#o.pool();
    if (slots.length === 1 && pool === undefined) {
      await this.probe(slots[0]!, signal);
      return;
    }
    await this.#firstSuccess(
      slots.map(async (s) => {
        try {
          await this.perNode(signal, this.#o.policy.healthCheck.timeout, (nodeSignal) =>
            this.probe(s, nodeSignal),
          );
          if (s.node) pool?.markSuccess(s.node);
        } catch (error) {
          // Aborted with the check (stop(), or no node answered in time): that says nothing about this node.
          if (s.node && !signal.aborted) pool?.markFailure(s.node);
          throw error;
        }
      }),
    );
  }

  /** `resurrect: ping`: a dead node is back when its client answers a probe (or, without a client, connects). */
  async ping(node: NodeAddress): Promise<void> {
    const slot = this.#byId.get(node.id);
    if (slot === undefined) throw new NotConnectedError(`Unknown node ${node.id}`);
    const lifetime = this.#o.lifetime;
    // The connect is bounded by connectTimeout; then successThreshold probes (at least one) prove it is back.
    const hadClient = slot.client !== undefined;
    if (!hadClient)
      await this.perNode(lifetime, this.#o.policy.reconnect.connectTimeout, (signal) =>
        this.connect(slot, signal),
      );
    await this.prove(slot, lifetime, hadClient ? 1 : 0);
  }

  /**
   * `healthCheck.successThreshold`: a (re)connected or resurrected node is up only after that many consecutive
   * probes succeed, each bounded by the health timeout (none when health checks are disabled, unless `atLeast`).
   * A node that fails them loses its fresh client, so the next attempt connects again.
   */
  async prove(slot: Slot<Client>, signal: AbortSignal, atLeast = 0): Promise<void> {
    const check = this.#o.policy.healthCheck;
    const probes = Math.max(check.enabled ? check.successThreshold : 0, atLeast);
    try {
      for (let i = 0; i < probes; i++)
        await this.perNode(signal, check.timeout, (probeSignal) => this.probe(slot, probeSignal));
    } catch (error) {
      if (!this.#watching) await this.close(slot);
      throw error;
    }
  }

  /**
   * One node's share of an attempt or a check: its own time limit, so it may outlive the attempt that started it
   * (one node up is enough) without hanging forever; aborted with `signal` while that runs, and by stop().
   */
  perNode<T>(signal: AbortSignal, ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withTimeout(this.#o.clock, ms, run, {
      signal: [signal, this.#o.lifetime],
      timeoutError: () => new AttemptTimeoutError(ms),
    });
  }

  /** Connects a slot (single-flight per slot); a client that lands after its attempt was abandoned is closed. */
  connect(slot: Slot<Client>, signal: AbortSignal): Promise<Client> {
    if (slot.connecting) return slot.connecting;
    const { driver, options, policy, target } = this.#o;
    const ctx = { signal, policy, target, ...(slot.node ? { node: slot.node } : {}) };
    const connecting = driver.connect(options, ctx).then(
      async (client) => {
        slot.connecting = undefined;
        if (signal.aborted || this.#o.stopped()) {
          // Too late: the attempt was abandoned. Do not leak the client.
          await this.#closeClient(client);
          throw signal.reason ?? new StoppedError();
        }
        slot.client = client;
        slot.lease = { client, node: slot.node };
        if (this.#watching) slot.unwatch = driver.watch?.(client, this.#o.monitor());
        if (slot.node) this.#o.pool()?.markSuccess(slot.node);
        return client;
      },
      (error: unknown) => {
        slot.connecting = undefined;
        if (slot.node) this.#o.pool()?.markFailure(slot.node);
        throw error;
      },
    );
    slot.connecting = connecting;
    return connecting;
  }

  /** The driver's probe on a slot's client, with the policy's `healthCheck.query`. */
  async probe(slot: Slot<Client>, signal: AbortSignal): Promise<void> {
    const client = slot.client;
    if (client === undefined) throw new NotConnectedError(`Node ${slot.node?.id ?? ''} has no client`);
    const query = this.#o.policy.healthCheck.query;
    try {
      const report = await this.#o.driver.probe(client, query === undefined ? { signal } : { signal, query });
      slot.status = report?.status;
      slot.probeError = undefined;
    } catch (error) {
      slot.status = undefined;
      slot.probeError = error;
      throw error;
    }
  }

  /** Closes a slot's client (if any); the slot can connect again. */
  async close(slot: Slot<Client>): Promise<void> {
    const client = slot.client;
    slot.unwatch?.();
    slot.unwatch = undefined;
    slot.client = undefined;
    slot.lease = undefined;
    if (client !== undefined) await this.#closeClient(client);
  }

  /**
   * For stop(): waits for connects in flight (aborted by then; their late clients are closed as they land), bounded
   * by `ms`; closes every client; then waits for the closes a reconnect began earlier. No socket outlives it.
   */
  async closeAll(ms: number): Promise<void> {
    const connecting = this.all.flatMap((s) => (s.connecting ? [s.connecting.catch(() => undefined)] : []));
    if (connecting.length > 0) {
      await withTimeout(this.#o.clock, ms, () => Promise.allSettled(connecting), {
        timeoutError: () => new AttemptTimeoutError(ms),
      }).catch(() => undefined);
    }
    await Promise.allSettled(this.all.map((s) => this.close(s)));
    await Promise.allSettled([...this.#closing]);
  }

  // Every close goes through here, so closeAll() can wait for the ones a reconnect started before it.
  #closeClient(client: Client): Promise<void> {
    const closing = this.#o.driver.close(client).catch(() => undefined);
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
    return closing;
  }

  // Resolves as soon as one promise fulfils; rejects with the first error once every one rejected.
  #firstSuccess(promises: Promise<unknown>[]): Promise<void> {
    if (promises.length === 0) {
      if (this.firstClient() !== undefined) return Promise.resolve();
      return Promise.reject(new NotConnectedError(`Target "${this.#o.target}" has no node to connect to`));
    }
    return new Promise<void>((resolve, reject) => {
      let pending = promises.length;
      let first: { error: unknown } | undefined;
      for (const p of promises) {
        p.then(
          () => resolve(),
          (error: unknown) => {
            first ??= { error };
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the node's own error, whatever it is
            if (--pending === 0) reject(first.error);
          },
        );
      }
    });
  }
}

/** The nodes a target may use at all: an address, and accepted by a custom selector (which may filter by host). */
export function usableNodes(policy: ResolvedPolicy, nodes: readonly NodeAddress[]): NodeAddress[] {
  const selector = policy.pool.selector;
  return nodes.filter(
    (n) =>
      n.host !== '' &&
      Number.isInteger(n.port) &&
      n.port > 0 &&
      (typeof selector !== 'function' || selector([n]) !== undefined),
  );
}

function newSlot<Client>(node: NodeAddress | undefined): Slot<Client> {
  return { node, client: undefined, lease: undefined, unwatch: undefined, connecting: undefined };
}
