import type { SocketPacer } from './connect-pacer.js';
import type { RecoveryWindow } from './recovery-window.js';

// Pacing a recovering node's client without binding a request to a paced socket (issue #26). undici's Pool makes a
// Client (one socket) per request in flight, up to its `connections`; a request that finds no free Client and no
// room for a new one waits in the pool's own queue and goes to the first Client that frees up. While the node
// recovers, the gate holds that cap at the pool's current Clients and raises it by one at each of the pacer's
// turns while requests wait, so the sockets grow at the paced rate and the waiting requests are served by whichever
// socket is free first: a burst costs queueing behind the sockets already open, not a paced gap per request. Out of
// recovery the pool's own cap is back. It reads undici's Pool by the descriptions of its private symbols; when they
// are not found (another undici), {@link poolGate} says so and the connector paces instead.

/** The private parts of undici's Pool the gate needs, by their symbols. */
interface PoolInternals {
  readonly connections: symbol;
  readonly clients: symbol;
  readonly queued: symbol;
  readonly getDispatcher: symbol;
  readonly onDrain: symbol;
  readonly url: symbol;
}

type PoolLike = Record<symbol, unknown> & { readonly closed?: boolean; readonly destroyed?: boolean };

function findSymbol(o: object, description: string): symbol | undefined {
  for (let p: object | null = o; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const found = Object.getOwnPropertySymbols(p).find((s) => s.description === description);
    if (found !== undefined) return found;
  }
  return undefined;
}

function internalsOf(pool: object): PoolInternals | undefined {
  const names = {
    connections: 'connections',
    clients: 'clients',
    queued: 'queued',
    getDispatcher: 'get dispatcher',
    onDrain: 'onDrain',
    url: 'url',
  } as const;
  const found: Partial<Record<keyof PoolInternals, symbol>> = {};
  for (const [key, description] of Object.entries(names)) {
    const s = findSymbol(pool, description);
    if (s === undefined) return undefined;
    found[key as keyof PoolInternals] = s;
  }
  const p = pool as PoolLike;
  const i = found as PoolInternals;
  const shaped =
    Array.isArray(p[i.clients]) &&
    typeof p[i.queued] === 'number' &&
    typeof p[i.getDispatcher] === 'function' &&
    typeof p[i.onDrain] === 'function';
  return shaped ? i : undefined;
}

/** Holds a pool's new Clients to a pacer's turns while a node recovers (see above). */
export interface PoolGate {
  /**
   * Before a request goes to the pool: out of recovery, the pool's own cap; in it, room for no new Client (or one,
   * when the pool has none, or for the driver's own request: `urgent`).
   */
  admit(urgent: boolean): void;
  /** After the request went to the pool: when it waits in the pool's queue, the cap grows at the pacer's turns. */
  settled(): void;
  /** Stops gating: the pool's own cap is back and what waits is handed on (the client is closing). */
  stop(): void;
}

/** A {@link PoolGate} on `pool` (an undici Pool), or undefined when its internals are not found. */
export function poolGate(pool: unknown, pacer: SocketPacer, recovery: RecoveryWindow): PoolGate | undefined {
  if (typeof pool !== 'object' || pool === null) return undefined;
  const i = internalsOf(pool);
  if (i === undefined) return undefined;
  const p = pool as PoolLike;
  const ownCap = p[i.connections];
  const clients = () => (p[i.clients] as unknown[]).length;
  const queued = () => p[i.queued] as number;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gated = false;
  let stopped = false;

  /** Hands queued requests to a free or new Client, if the cap leaves room for one; false when none. */
  const feedOne = (): boolean => {
    const dispatcher = (p[i.getDispatcher] as () => unknown).call(p);
    if (dispatcher === undefined) return false;
    (p[i.onDrain] as (c: unknown, origin: unknown, targets: unknown[]) => void).call(
      p,
      dispatcher,
      p[i.url],
      [dispatcher, p],
    );
    return true;
  };
  const open = (): void => {
    if (!gated) return;
    gated = false;
    p[i.connections] = ownCap;
    for (let n = 0; n < 10_000 && queued() > 0 && feedOne(); n++);
  };
  const grow = (): void => {
    timer = undefined;
    if (stopped || p.closed === true || p.destroyed === true || queued() === 0) return;
    if (!recovery.active()) {
      open();
      return;
    }
    if (pacer.tryOpen(clients() === 0)) {
      p[i.connections] = clients() + 1;
      feedOne();
      p[i.connections] = Math.max(clients(), 1);
    }
    schedule();
  };
  const schedule = (): void => {
    if (timer !== undefined || stopped || queued() === 0) return;
    // Not unref'd: a request waits for this turn, as it would for its socket.
    timer = setTimeout(grow, Math.max(1, pacer.waitMs(clients() === 0)));
  };
  /** The undici Clients' own `connected` and `size` symbols, found on the first one seen. */
  let clientSymbols: { connected: symbol; size: symbol } | null | undefined;
  /**
   * Takes out of the pool its Clients that lost their socket and hold no request (a kept client's, from before
   * the node went down): a request given one would reconnect it at once, or wait for its paced connect, instead of
   * waiting in the pool's queue for the first socket free. The pool drops a Client whose connect failed the same way.
   */
  const prune = (): void => {
    const list = p[i.clients] as Record<symbol, unknown>[];
    if (list.length === 0) return;
    if (clientSymbols === undefined) {
      const connected = findSymbol(list[0]!, 'connected');
      const size = findSymbol(list[0]!, 'size');
      clientSymbols = connected !== undefined && size !== undefined ? { connected, size } : null;
    }
    if (clientSymbols === null) return;
    const { connected, size } = clientSymbols;
    for (let k = list.length - 1; k >= 0; k--) {
      const c = list[k]!;
      if (c[connected] !== false || c[size] !== 0) continue;
      list.splice(k, 1);
      void (c as unknown as { close(): Promise<void> }).close().catch(() => undefined);
    }
  };
  return {
    admit(urgent) {
      if (stopped) return;
      if (!recovery.active()) {
        open();
        return;
      }
      gated = true;
      prune();
      const n = clients();
      // A pool with no Client gets one at once (a reconnect's first socket), and so does the driver's own request
      // (a probe held back would fail). Unlike the connector's pacing, a second is not: a request that overlaps
      // another waits for the first socket free, which costs it little, where a second socket at once per client
      // is a fleet's second wall.
      const room = urgent || (n === 0 && pacer.tryOpen(true));
      p[i.connections] = room ? n + 1 : Math.max(n, 1);
    },
    settled() {
      if (!gated || stopped) return;
      p[i.connections] = Math.max(clients(), 1);
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      // What still waits goes now: the closing pool answers it (or fails it) rather than waiting for the gate.
      open();
    },
  };
}
