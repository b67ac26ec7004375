import { isIP } from 'node:net';
import type { BatchObservableCallback, BatchObservableResult, Observable } from '@opentelemetry/api';
import type { ConnectionPoolStats, DbTelemetry, Driver } from '../../driver/driver.js';
import type { RetryBudget } from '../../engine/budget/retry-budget.js';
import type { ConcurrencyLimiter } from '../../engine/concurrency/concurrency-limiter.js';
import type { NodeAddress } from '../../node-address.js';
import type { LifecycleInstruments } from '../../telemetry/instruments.js';
import { AttributeNames as A, DeprecatedAttributeNames as D } from '../../telemetry/names.js';
import type { DbFacts } from '../../telemetry/semconv.js';
import type { NodePool } from '../nodes/node-pool.js';
import type { NodeSlots } from './node-slots.js';

/** The parts of the runner in force that are observed: its retry budget and concurrency limiter. */
export interface ObservedRunner {
  readonly budget: RetryBudget | undefined;
  readonly limiter: ConcurrencyLimiter | undefined;
}

/**
 * A target's metrics read at each collection rather than recorded as things happen: its retry budget and
 * concurrency limit, a
 * multi-node target's nodes alive and dead, and the driver's pool counts (`db.client.connection.*`, summed over
 * the target's clients: one pool per target, named after it, so no node address becomes a metric attribute).
 */
export class ObservedMetrics<Options, Client> {
  readonly #target: string;
  readonly #driver: Driver<Options, Client>;
  readonly #i: LifecycleInstruments;
  #callback: BatchObservableCallback | undefined;

  constructor(target: string, driver: Driver<Options, Client>, instruments: LifecycleInstruments) {
    this.#target = target;
    this.#driver = driver;
    this.#i = instruments;
  }

  /** Starts observing the target's parts (no-op without a live MeterProvider). */
  start(slots: NodeSlots<Options, Client>, pool: NodePool | undefined, runner: () => ObservedRunner): void {
    if (!this.#i.live || this.#callback !== undefined) return;
    this.#callback = (result) => this.#observe(result, slots, pool, runner());
    this.#i.meter.addBatchObservableCallback(this.#callback, this.#observables());
  }

  /** Stops observing (the target stopped): the meter lets go of the target. */
  stop(): void {
    if (this.#callback === undefined) return;
    this.#i.meter.removeBatchObservableCallback(this.#callback, this.#observables());
    this.#callback = undefined;
  }

  #observables(): Observable[] {
    const i = this.#i;
    const d = i.deprecated;
    return [
      i.budgetAvailable,
      i.concurrencyLimit,
      i.concurrencyOperations,
      i.concurrencyRefused,
      i.nodes,
      i.connectionCount,
      i.connectionMax,
      i.connectionIdleMax,
      i.connectionPending,
      i.connectionTimeouts,
      ...(d === undefined ? [] : [d.usage, d.max, d.idleMax, d.pending, d.timeouts]),
    ];
  }

  #observe(
    result: BatchObservableResult,
    slots: NodeSlots<Options, Client>,
    nodes: NodePool | undefined,
    { budget, limiter }: ObservedRunner,
  ): void {
    const i = this.#i;
    const base = { [A.TARGET]: this.#target };
    if (budget !== undefined) result.observe(i.budgetAvailable, budget.available(), base);
    if (limiter !== undefined) {
      result.observe(i.concurrencyLimit, limiter.limit, base);
      result.observe(i.concurrencyOperations, limiter.inFlight, {
        ...base,
        [A.CONCURRENCY_STATE]: 'in_flight',
      });
      result.observe(i.concurrencyOperations, limiter.waiting, { ...base, [A.CONCURRENCY_STATE]: 'waiting' });
      result.observe(i.concurrencyRefused, limiter.counts.refused + limiter.counts.timedOut, base);
    }
    if (nodes !== undefined) {
      const alive = nodes.alive.length;
      result.observe(i.nodes, alive, { ...base, [A.NODE_STATE]: 'alive' });
      result.observe(i.nodes, nodes.nodes.length - alive, { ...base, [A.NODE_STATE]: 'dead' });
    }
    const pool = this.#poolStats(slots);
    if (pool === undefined) return;
    const named = { ...base, [A.DB_CLIENT_CONNECTION_POOL_NAME]: this.#target };
    result.observe(i.connectionCount, pool.idle, { ...named, [A.DB_CLIENT_CONNECTION_STATE]: 'idle' });
    result.observe(i.connectionCount, pool.used, { ...named, [A.DB_CLIENT_CONNECTION_STATE]: 'used' });
    result.observe(i.connectionMax, pool.max, named);
    if (pool.idleMax !== undefined) result.observe(i.connectionIdleMax, pool.idleMax, named);
    result.observe(i.connectionPending, pool.pending, named);
    if (pool.timeouts !== undefined) result.observe(i.connectionTimeouts, pool.timeouts, named);
    const d = i.deprecated;
    if (d === undefined) return;
    // `database/dup`: the experimental names, with their own attribute keys.
    const old = { ...base, [D.POOL_NAME]: this.#target };
    result.observe(d.usage, pool.idle, { ...old, [D.STATE]: 'idle' });
    result.observe(d.usage, pool.used, { ...old, [D.STATE]: 'used' });
    result.observe(d.max, pool.max, old);
    if (pool.idleMax !== undefined) result.observe(d.idleMax, pool.idleMax, old);
    result.observe(d.pending, pool.pending, old);
    if (pool.timeouts !== undefined) result.observe(d.timeouts, pool.timeouts, old);
  }

  // The sum of the driver's counts over the target's clients; undefined when the driver reports no pool.
  #poolStats(slots: NodeSlots<Options, Client>): ConnectionPoolStats | undefined {
    const driver = this.#driver;
    if (driver.poolStats === undefined) return undefined;
    let sum: ConnectionPoolStats | undefined;
    for (const { client } of slots.all) {
      if (client === undefined) continue;
      let s: ConnectionPoolStats | undefined;
      try {
        s = driver.poolStats(client);
      } catch {
        s = undefined;
      }
      if (s === undefined) continue;
      sum ??= { used: 0, idle: 0, max: 0, pending: 0 };
      sum.used += s.used;
      sum.idle += s.idle;
      sum.max += s.max;
      sum.pending += s.pending;
      if (s.idleMax !== undefined) sum.idleMax = (sum.idleMax ?? 0) + s.idleMax;
      if (s.timeouts !== undefined) sum.timeouts = (sum.timeouts ?? 0) + s.timeouts;
    }
    return sum;
  }
}

/**
 * What a target's spans and metrics say of its database: the driver's word (`telemetry(options, client)`, never
 * allowed to break the target), completed by core's own knowledge (a target of one named node: that node is its
 * server; a server given as an address is the peer, unless the driver says; `db.system.name` defaults to the
 * driver's `system`).
 */
export function driverFacts<Options, Client>(
  driver: Driver<Options, Client>,
  options: Options,
  client: Client | undefined,
): DbFacts {
  const told: DbTelemetry = attempt(() => driver.telemetry?.(options, client)) ?? {};
  let { serverAddress, serverPort } = told;
  if (serverAddress === undefined) {
    const named: NodeAddress[] = attempt(() => driver.nodes?.(options)) ?? [];
    if (named.length === 1) ({ host: serverAddress, port: serverPort } = named[0]!);
  }
  // A server named by its address is the peer too, when the driver cannot tell the socket's (a pool of them).
  const byAddress =
    told.peerAddress === undefined && serverAddress !== undefined && isIP(serverAddress) !== 0;
  return {
    system: told.system ?? driver.system,
    namespace: told.namespace,
    serverAddress,
    serverPort,
    peerAddress: byAddress ? serverAddress : told.peerAddress,
    peerPort: byAddress ? serverPort : told.peerPort,
  };
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
