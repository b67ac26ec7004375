import type { Socket } from 'node:net';
import { isConnectionLoss, type RecoveryWindow } from './recovery-window.js';

/**
 * Default ceiling on the new sockets one node's client opens per second at all times: none (0). undici binds a
 * request to the socket it opens for it, so a paced socket holds its request back even when another socket frees up
 * at once: a burst of 15 concurrent requests on a fresh client waits up to 14 gaps (~3 s at 5 a second) and fails a
 * 500 ms attempt timeout (seen in test/acceptance.test.ts). Always-on pacing is therefore opt-in (`connectRate`);
 * by default a client is paced only while its node recovers (`recoveryConnectRate`, recovery-window.ts).
 */
export const defaultConnectRate = 0;

/** What a {@link SocketPacer} needs: its ceiling, and the clock and randomness (injected for tests). */
export interface SocketPacerOptions {
  /** New sockets per second at most; 0 = no ceiling. */
  readonly perSecond: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * Paces the new sockets of one node's client. A client that is `empty` (see {@link pacedConnector}: at most one
 * socket open or opening) gets its next one at once (it is reconnecting, not growing: the first requests after a
 * restart are not held back). Each other one waits a
 * jittered gap of 1–1.5 × `1000 / perSecond` ms after the one before, so a client grows by at most `perSecond` + 1
 * sockets a second and clients that lost their sockets together drift apart.
 */
export class SocketPacer {
  readonly #gapMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  #nextAt = Number.NEGATIVE_INFINITY;

  constructor(options: SocketPacerOptions) {
    this.#gapMs = options.perSecond > 0 ? 1000 / options.perSecond : 0;
    // The monotonic clock: a wall clock stepped back would hold every new socket for as long.
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
  }

  /** Whether a new socket may start now (`empty`: none is open or opening); if so the next one is pushed back. */
  tryOpen(empty: boolean): boolean {
    const now = this.#now();
    if (!empty && now < this.#nextAt) return false;
    this.#nextAt = now + this.#gapMs * (1 + this.#random() / 2);
    return true;
  }

  /** How long until {@link tryOpen} (with the same `empty`) may succeed, in ms (0: now). */
  waitMs(empty: boolean): number {
    return empty ? 0 : Math.max(0, this.#nextAt - this.#now());
  }
}

/** How undici's connector calls back: with the socket, or with the failure. */
export type ConnectCallback = (error: Error | null, socket: Socket | null) => void;

/** undici's connector: `connect(options, callback)`. */
export type Connector = (this: unknown, options: object, callback: ConnectCallback) => void;

/**
 * A connector whose connects wait for their {@link SocketPacer} (always, or while its {@link RecoveryWindow} is
 * active); `cancel` fails the ones still waiting.
 */
export interface PacedConnector {
  readonly connect: Connector;
  /** Connects held back by the pacer so far (for tests and diagnostics). */
  readonly held: () => number;
  /** Fails every connect still waiting for its turn (the client is closing). */
  cancel(reason: Error): void;
  /**
   * Runs `fn` with pacing lifted for the connects it starts synchronously (undici connects a new socket within
   * `pool.request`): the driver's own requests (health probes, the connect's `GET /`), which a paced socket would
   * hold past their time limit, so that a recovering node would fail its probes and be declared down again.
   */
  unpaced<T>(fn: () => T): T;
}

/**
 * Wraps undici's `connector` so that each new socket waits for `pacer`'s turn. Sockets open and connecting are
 * counted (a socket counts until it closes). A client with at most one is not held back (`empty` for the pacer):
 * its first socket is a reconnect's, and undici asks for a second whenever two requests overlap even briefly (a
 * connect's request still being read when the first probe goes out, a probe beside an operation) — the ceiling
 * holds from the third.
 *
 * With `recovery`, connects are paced only while it is active, and they tell it what they see: a failed connect
 * or a client's last socket closed by a connection failure ({@link isConnectionLoss}) is a loss, a socket that
 * connects is a success. A closed client (`cancel`) tells it nothing more (its sockets are destroyed on purpose).
 * With `gated` (the pool's new undici Clients are paced by a pool-gate.ts gate), nothing is paced here: the
 * connector only tells `recovery` what it sees. (undici calls a custom connector without its Client as `this`, so a
 * connect cannot tell a new Client from one reconnecting; the gate drops the idle ones that lost their socket.)
 */
export function pacedConnector(
  connector: Connector,
  pacer: SocketPacer,
  recovery?: RecoveryWindow,
  gated = false,
): PacedConnector {
  /** Sockets a client may hold and still open one more at once. */
  const unpaced = 1;
  let live = 0;
  let held = 0;
  let cancelled = false;
  /** Inside {@link PacedConnector.unpaced}: connects start at once. */
  let urgent = 0;
  /** Connects waiting for their turn: each with its timer, its turn (tried again early) and its failure. */
  const waiting = new Map<
    ReturnType<typeof setTimeout>,
    { turn: () => void; fail: (reason: Error) => void }
  >();
  // The last socket closed (a socket's error is seen before its close, so a request may already be waiting for a
  // new one): the client is empty, and the first connect waiting goes at once.
  const closed = (): void => {
    live--;
    const first = waiting.entries().next();
    if (live > unpaced || first.done === true) return;
    const [timer, next] = first.value;
    clearTimeout(timer);
    waiting.delete(timer);
    next.turn();
  };
  function connect(this: unknown, options: object, callback: ConnectCallback): void {
    const start = (): void => {
      live++;
      connector.call(this, options, (error, socket) => {
        if (error !== null || socket === null) {
          closed();
          if (!cancelled) recovery?.lost();
        } else {
          if (!cancelled) recovery?.connected();
          let failure: unknown;
          socket.on('error', (e: unknown) => {
            failure ??= e;
          });
          socket.once('close', () => {
            closed();
            if (!cancelled && live === 0 && isConnectionLoss(failure)) recovery?.lost();
          });
        }
        callback(error, socket);
      });
    };
    let counted = false;
    const turn = (): void => {
      if (urgent > 0 || gated || recovery?.active() === false) {
        start();
        return;
      }
      if (pacer.tryOpen(live <= unpaced)) {
        start();
        return;
      }
      if (!counted) held++;
      counted = true;
      // Not unref'd: a request waits for this socket, as it would for the socket itself.
      const timer = setTimeout(
        () => {
          waiting.delete(timer);
          turn();
        },
        Math.max(1, pacer.waitMs(live <= unpaced)),
      );
      waiting.set(timer, { turn, fail: (reason) => callback(reason, null) });
    };
    turn();
  }
  return {
    connect,
    held: () => held,
    unpaced(fn) {
      urgent++;
      try {
        return fn();
      } finally {
        urgent--;
      }
    },
    cancel(reason) {
      cancelled = true;
      for (const [timer, { fail }] of waiting) {
        clearTimeout(timer);
        fail(reason);
      }
      waiting.clear();
    },
  };
}
