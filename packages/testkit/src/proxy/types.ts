// The fault proxy's public types: what it does and what it counts (the implementation is fault-proxy.ts).

/** Which way bytes flow: `toServer` (client → server), `toClient` (server → client), or `both`. */
export type Direction = 'toServer' | 'toClient' | 'both';

/**
 * What the proxy does with connections:
 * `pass` forwards; `refuse` has nothing listening (ECONNREFUSED); `blackhole` accepts and forwards
 * nothing while keeping sockets open; `reset` answers every connection with an RST.
 */
export type ProxyMode = 'pass' | 'refuse' | 'blackhole' | 'reset';

/** How one proxied connection ended. */
export type ConnectionEnd = 'client' | 'server' | 'reset' | 'cut' | 'refuse' | 'upstream-failed' | 'close';

/** Traffic of one proxied connection. */
export interface ProxyConnectionStats {
  /** 1, 2, 3… in accept order. */
  id: number;
  /** `Date.now()` at accept. */
  openedAt: number;
  closedAt: number | undefined;
  /** Bytes forwarded client → server. */
  bytesToServer: number;
  /** Bytes forwarded server → client. */
  bytesToClient: number;
  /** Who or what ended it; undefined while open. */
  end: ConnectionEnd | undefined;
}

/** Counters since the proxy started or since {@link FaultProxy.resetStats}. */
export interface ProxyStats {
  /** Connections accepted (in every mode but `refuse`). */
  accepted: number;
  /** Connections open now. */
  active: number;
  /** Connections dropped by {@link FaultProxy.dropIdle}. */
  dropped: number;
  /** Bytes forwarded client → server (what reached the server). */
  bytesToServer: number;
  /** Bytes forwarded server → client. */
  bytesToClient: number;
  /** Per connection, in accept order (the latest 1000). */
  connections: ProxyConnectionStats[];
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The server to forward to. */
  target: { host: string; port: number };
  /** Port to listen on; a free one by default. */
  listenPort?: number;
  /**
   * Loopback address to listen on, `127.0.0.1` by default. Another one of 127.0.0.0/8 (Linux answers on all of
   * them) gives two proxies the same port at two addresses, what a hostname switched by the test resolver needs.
   */
  listenHost?: string;
  /** Draws the jitter of each delayed chunk, in [0, 1); `Math.random` by default (a test passes its own). */
  random?: () => number;
}

/** Options of {@link FaultProxy.latency}. */
export interface LatencyOptions {
  /**
   * Each chunk waits `ms` plus a fresh random share of `jitterMs` (uniform in [0, jitterMs)), but never
   * overtakes the chunk ahead of it in the same direction of the same connection: TCP keeps order, so a
   * short draw behind a long one waits for it. Default 0.
   */
  jitterMs?: number;
}

/** Options of {@link FaultProxy.throttle}; `throttle({})` removes both limits. */
export interface ThrottleOptions {
  /** Each chunk is forwarded in pieces of at most this many bytes (1: byte by byte). Default: whole chunks. */
  chunkBytes?: number;
  /** Bytes are forwarded at this rate at most, each piece after the time the ones ahead of it took. Default: no limit. */
  bytesPerSecond?: number;
}

/** Options of {@link FaultProxy.cutAfter}. */
export interface CutOptions {
  /** Also cut connections opened later, each after its own first `bytes` bytes. Default false: open connections only. */
  newConnections?: boolean;
}

/** A TCP proxy on 127.0.0.1 whose behaviour is switched at run time. */
export interface FaultProxy {
  readonly host: string;
  /** The port clients connect to (stable across `refuse()` / `pass()`). */
  readonly port: number;
  readonly target: { host: string; port: number };
  readonly mode: ProxyMode;
  /** Forward normally again: listens if refused, releases blackholed sockets, clears latency, throttling, the close delay and pending cuts. */
  pass(): Promise<void>;
  /** Stops listening (new connections get ECONNREFUSED) and resets every open connection. */
  refuse(): Promise<void>;
  /** Accepts connections but forwards nothing, either way, on open and new connections; sockets stay open. */
  blackhole(): void;
  /** Sends an RST on every open connection (both sides). With `persist`, later connections are reset at accept too. */
  reset(options?: { persist?: boolean }): void;
  /**
   * Delays every chunk by `ms` (plus jitter, see {@link LatencyOptions}) in `direction` (default both), on open
   * and new connections; the other direction keeps its own delay. `latency(0)` removes delay and jitter.
   */
  latency(ms: number, direction?: Direction, options?: LatencyOptions): void;
  /**
   * Forwards `bytes` more bytes in `direction` on each open connection, then cuts it: the client gets an RST,
   * the server a FIN after the forwarded bytes (so a request that got through is still executed).
   * `cutAfter(0, 'toClient')` loses the next reply; `direction: 'both'` gives each direction its own budget.
   */
  cutAfter(bytes: number, direction?: Direction, options?: CutOptions): void;
  /**
   * Fragments and paces the bytes in `direction` (default both), on open and new connections: pieces of
   * `chunkBytes`, at `bytesPerSecond`, in order, after any latency. A protocol parser meets replies split
   * anywhere (a 1-byte `chunkBytes`), and a slow link (a low `bytesPerSecond`).
   */
  throttle(options: ThrottleOptions, direction?: Direction): void;
  /**
   * A slow close: the server's FIN reaches the client `ms` late (after what the server sent before it), on open
   * and new connections. Until it arrives the connection looks open to the client, and whatever the client sends
   * meanwhile is answered with an RST, as a closed socket answers. 0 delivers FINs at once again.
   */
  closeDelay(ms: number): void;
  /**
   * A middlebox that forgets idle connections (a NAT, a load balancer): from now on, a connection with no bytes
   * either way for `ms` is dropped silently — nothing it sends is forwarded, either way, and neither side gets a FIN
   * or an RST. New and busy connections pass. `dropIdle(0)` stops it, and the connections it dropped are reset (the
   * next packet of a forgotten flow is refused); `pass()` does both too.
   */
  dropIdle(ms: number): void;
  /** A snapshot of the counters. */
  stats(): ProxyStats;
  /** Zeroes the counters (open connections keep being counted from zero). */
  resetStats(): void;
  /** Destroys every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}
