import type { Driver } from '../driver/driver.js';
import type { NodeAddress } from '../driver/node-address.js';
import { NotConnectedError } from '../errors.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { NodePool } from './node-pool.js';
import type { NodeSlots } from './node-slots.js';
import { withTimeout } from './with-timeout.js';

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
}

/**
 * Discovery (sniffing) of a multi-node target: on the first connect (`onStart`), every `interval`, and after a
 * node dies (`onFault`). Asks a node for the cluster's nodes (single-flight), keeps the status of known nodes,
 * adds slots for new ones (connected lazily) and drops those that left.
 */
export class Discovery<Options, Client> {
  readonly #o: DiscoveryOptions<Options, Client>;
  #running: Promise<void> | undefined;
  #timer: TimerHandle | undefined;
  #startedOnce = false;

  constructor(o: DiscoveryOptions<Options, Client>) {
    this.#o = o;
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

  #apply(found: readonly NodeAddress[]): void {
    const usable = this.#o.usable(found);
    // Finding no usable node keeps the list there is: a bad answer must not empty the pool.
    if (usable.length === 0 || this.#o.stopped()) return;
    const { pool, slots } = this.#o;
    pool.setNodes(usable);
    for (const n of usable) slots.add(n);
    slots.removeWhere((node) => pool.status(node.id) === undefined);
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
