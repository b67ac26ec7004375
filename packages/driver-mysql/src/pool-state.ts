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

/** A call waiting in the pool's queue with a time limit, as a link in its pool's {@link WaitList}. */
export interface Waiting {
  /** When its wait ends (`performance.now()` time: the monotonic clock, whatever the wall clock does). */
  at: number;
  prev: Waiting | undefined;
  next: Waiting | undefined;
  /** Whether it is in the list. */
  listed: boolean;
  /** Its time is up (called once, after it left the list). */
  onTimeout(): void;
}

/**
 * The time limits of a pool's waiting calls, in order of expiry under one timer: a queued call costs a link instead of
 * a Node timer of its own (a Timeout and its async resource per call, most of what a queued call allocated). Calls
 * mostly share one limit (half the policy's attemptTimeout), so a new one goes at the tail; a shorter one walks back
 * from the tail. The timer is armed for the head only and cleared when the list empties.
 */
export class WaitList {
  #head: Waiting | undefined = undefined;
  #tail: Waiting | undefined = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #armedAt = Number.POSITIVE_INFINITY;
  readonly #fire = (): void => this.#expire();

  /** Adds `node` (its `at` set, `delayMs` from now). */
  add(node: Waiting, delayMs: number): void {
    let after = this.#tail;
    while (after !== undefined && after.at > node.at) after = after.prev;
    node.prev = after;
    if (after === undefined) {
      node.next = this.#head;
      this.#head = node;
    } else {
      node.next = after.next;
      after.next = node;
    }
    if (node.next === undefined) this.#tail = node;
    else node.next.prev = node;
    node.listed = true;
    if (node.at < this.#armedAt) this.#arm(node.at, delayMs);
  }

  /** Takes `node` out (its wait ended before its time); does nothing when it is not in the list. */
  remove(node: Waiting): void {
    if (!node.listed) return;
    const { prev, next } = node;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    node.prev = undefined;
    node.next = undefined;
    node.listed = false;
    if (this.#head === undefined) this.clear();
  }

  /** Stops the timer (the list is empty). */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #arm(at: number, delayMs: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = setTimeout(this.#fire, Math.max(0, delayMs));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (let node = this.#head; node !== undefined && node.at <= now; node = this.#head) {
      this.remove(node);
      node.onTimeout();
    }
    const head = this.#head;
    if (head !== undefined && this.#timer === undefined) this.#arm(head.at, head.at - now);
  }
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
  readonly waits: WaitList;
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
