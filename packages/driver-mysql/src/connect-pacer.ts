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
 */
export class ConnectPacer {
  readonly #gapMs: number;
  readonly #settleMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  #nextAt = Number.NEGATIVE_INFINITY;
  #busyUntil = Number.NEGATIVE_INFINITY;
  #busyStreak = 0;

  constructor(options: ConnectPacerOptions) {
    this.#gapMs = options.perSecond > 0 ? 1000 / options.perSecond : 0;
    this.#settleMs = options.perSecond > 0 ? Math.max(this.#gapMs, settleMs) : 0;
    // The monotonic clock: a wall clock stepped back (NTP, a resumed VM) would hold every new connection for as long.
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
  }

  /**
   * Whether a new connection may start now; if so, it is counted and the next one is pushed back by a gap (by
   * {@link settleMs} after an empty pool's). `empty`: the pool has no connection at all, and only a busy back-off
   * holds it back.
   */
  tryOpen(empty = false): boolean {
    const now = this.#now();
    if (now < this.#busyUntil || (!empty && now < this.#nextAt)) return false;
    this.#nextAt = now + (empty ? this.#settleMs : this.#gapMs) * (1 + this.#random() / 2);
    return true;
  }

  /** How long until {@link tryOpen} (with the same `empty`) may succeed, in ms (0: now). */
  waitMs(empty = false): number {
    const now = this.#now();
    return Math.max(0, this.#busyUntil - now, empty ? 0 : this.#nextAt - now);
  }

  /** The server refused a new connection as busy: none is tried before the returned back-off (ms) has passed. */
  busy(): number {
    this.#busyStreak++;
    const envelope = Math.min(busyBackoffMaxMs, busyBackoffBaseMs * 2 ** (this.#busyStreak - 1));
    const delay = envelope / 2 + (envelope / 2) * this.#random();
    this.#busyUntil = Math.max(this.#busyUntil, this.#now() + delay);
    return delay;
  }

  /** A new connection succeeded: the next busy back-off starts again from its base. */
  opened(): void {
    this.#busyStreak = 0;
  }
}
