/**
 * Default ceiling on a pool's new connections, per second per node. A pool of 10 fills in about two seconds under
 * load (the first connection at once, then one every 200–300 ms); a fleet of 1 000 such pools reconnecting after an
 * outage opens at most ~500 connections per 100 ms after their first ones, not 10 000 at once (issue #26).
 */
export const defaultConnectRate = 5;
/**
 * After a pool's first connection (a new pool, or one left without any), the least wait before it grows, in ms
 * (jittered ×1–1.5). The calls that waited for it are served in turn by that one connection, and the pool grows only
 * for calls still waiting when it ends: a fleet reconnecting after an outage mostly opens one connection per pool at
 * first, not a pool's worth each (issue #26, the MariaDB fleet in BENCHMARKS.md).
 */
export const settleMs = 1000;
/** The first wait after the server refused a new connection as busy (1040, 1203), in ms. */
export const busyBackoffBaseMs = 250;
/** The longest wait between two tries at a new connection while the server stays busy, in ms. */
export const busyBackoffMaxMs = 5000;

/** What a {@link ConnectPacer} needs: its ceiling, and the clock and randomness (injected for tests). */
export interface ConnectPacerOptions {
  /** New connections per second at most; 0 = no ceiling (the busy back-off still applies). */
  readonly perSecond: number;
  /**
   * The pool's size (`connectionLimit`), for its refill after an outage: see {@link ConnectPacer}. 0 or absent: no
   * refill burst.
   */
  readonly poolSize?: number;
  /**
   * The pool replaces one that was lost (the target reconnected): its first connection is a recovery, and the pool
   * may refill at once behind it (see {@link ConnectPacer}).
   */
  readonly recovering?: boolean;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * Paces the new connections of one pool. The first one is immediate, and so is one that a pool left without any
 * connection opens (a reconnect makes a new pool; a server restarted too fast for the lifecycle to notice leaves the
 * old pool empty): a pool with no connection is reconnecting, not growing. The next one waits at least
 * {@link settleMs} (jittered), and each other one a jittered gap of 1–1.5 × `1000 / perSecond` ms after the one
 * before, so a pool's growth is at most `perSecond` + 1 a second and pools that started together drift apart. When the server refuses a new connection as busy, none is tried — not
 * even by an empty pool — for a jittered back-off (half its envelope fixed, half random; the envelope doubles from
 * {@link busyBackoffBaseMs} up to {@link busyBackoffMaxMs} while the refusals go on, and starts again after a
 * connection succeeds).
 *
 * **Refill after an outage.** A pool that replaces a lost one (`recovering`), or that was left without any connection
 * after having had some, is refilled at once when, after its first connection has succeeded (the server accepts
 * again), as many calls wait for a connection as the pool has room for (`poolSize`): from then on each waiting call
 * gets a new connection without settling or gaps, up to the pool's size. That backlog — operations that waited
 * through the outage, their deadlines running — is more than one connection serves while the pool settles. Only up
 * to the pool's own size, only behind a first connection that the lifecycle's jittered reconnect spread over the
 * fleet, and never after a busy refusal: one instance opening its own pool is not a stampede, and a server at
 * `max_connections` still gets the back-off. A pool with fewer calls waiting than its size (a fleet instance's
 * handful of callers), and a new target's first pool, settle and grow at the ceiling as before (issue #29).
 */
export class ConnectPacer {
  readonly #gapMs: number;
  readonly #settleMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  #nextAt = Number.NEGATIVE_INFINITY;
  #busyUntil = Number.NEGATIVE_INFINITY;
  #busyStreak = 0;
  readonly #poolSize: number;
  // Recovering: the pool replaces a lost one, or was emptied after having had connections. Ends when the pool has
  // opened its size in new connections since, or at a busy refusal.
  #recovering: boolean;
  #refilling = false;
  #refilled = 0;
  #opened = 0;

  constructor(options: ConnectPacerOptions) {
    this.#poolSize = options.poolSize ?? 0;
    this.#recovering = options.recovering === true;
    this.#gapMs = options.perSecond > 0 ? 1000 / options.perSecond : 0;
    this.#settleMs = options.perSecond > 0 ? Math.max(this.#gapMs, settleMs) : 0;
    // The monotonic clock: a wall clock stepped back (NTP, a resumed VM) would hold every new connection for as long.
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
  }

  /**
   * Whether a new connection may start now; if so, it is counted and the next one is pushed back by a gap (by
   * {@link settleMs} after an empty pool's). `empty`: the pool has no connection at all, and only a busy back-off
   * holds it back. `waiting`: the calls waiting for a connection, this one included (a refill after an outage).
   */
  tryOpen(empty = false, waiting = 0): boolean {
    const now = this.#now();
    if (now < this.#busyUntil) return false;
    if (empty) {
      // Emptied after having had connections: the server went away under it, this connection is a recovery.
      if (this.#opened > 0) this.#startRecovery();
    } else if (this.#refills(waiting)) {
      // Once a backlog of the pool's size was seen, the refill goes on for every call that waits, up to the size.
      this.#refilling = true;
      if (++this.#refilled >= this.#poolSize - 1) this.#recovering = false;
    } else if (now < this.#nextAt) return false;
    this.#nextAt = now + (empty ? this.#settleMs : this.#gapMs) * (1 + this.#random() / 2);
    return true;
  }

  /** How long until {@link tryOpen} (with the same `empty` and `waiting`) may succeed, in ms (0: now). */
  waitMs(empty = false, waiting = 0): number {
    const now = this.#now();
    const held = empty || this.#refills(waiting) ? 0 : this.#nextAt - now;
    return Math.max(0, this.#busyUntil - now, held);
  }

  // A recovering pool whose first connection succeeded refills at once when a backlog of its size waits.
  #refills(waiting: number): boolean {
    return (
      this.#recovering &&
      this.#opened > 0 &&
      this.#poolSize > 0 &&
      waiting > 0 &&
      (this.#refilling || waiting >= this.#poolSize)
    );
  }

  #startRecovery(): void {
    this.#recovering = true;
    this.#refilling = false;
    this.#refilled = 0;
    this.#opened = 0;
  }

  /** The server refused a new connection as busy: none is tried before the returned back-off (ms) has passed. */
  busy(): number {
    // A server at max_connections: the refill stops, the pool grows at the ceiling and backs off.
    this.#recovering = false;
    this.#refilling = false;
    this.#busyStreak++;
    const envelope = Math.min(busyBackoffMaxMs, busyBackoffBaseMs * 2 ** (this.#busyStreak - 1));
    const delay = envelope / 2 + (envelope / 2) * this.#random();
    this.#busyUntil = Math.max(this.#busyUntil, this.#now() + delay);
    return delay;
  }

  /** A new connection succeeded: the next busy back-off starts again from its base (and a refill may begin). */
  opened(): void {
    this.#busyStreak = 0;
    this.#opened++;
  }
}
