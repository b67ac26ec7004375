import { connect, createServer, type Server, type Socket } from 'node:net';
import { track } from '../cleanup/registry.js';

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
  /** Port to listen on (127.0.0.1); a free one by default. */
  listenPort?: number;
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
  /** Forward normally again: listens if refused, releases blackholed sockets, clears latency and pending cuts. */
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
  /** A snapshot of the counters. */
  stats(): ProxyStats;
  /** Zeroes the counters (open connections keep being counted from zero). */
  resetStats(): void;
  /** Destroys every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

type Side = 'toServer' | 'toClient';

interface Delay {
  ms: number;
  jitterMs: number;
}

interface Pipe {
  delay: Delay;
  /** Bytes still allowed before the cut; undefined when no cut is pending. */
  budget: number | undefined;
  queue: { at: number; chunk: Buffer | undefined }[];
  timer: NodeJS.Timeout | undefined;
}

interface Link {
  stats: ProxyConnectionStats;
  client: Socket;
  server: Socket | undefined;
  closed: boolean;
  held: boolean;
  pipes: Record<Side, Pipe>;
}

const maxConnectionStats = 1000;
const noDelay: Delay = { ms: 0, jitterMs: 0 };

function rst(socket: Socket | undefined): void {
  if (socket === undefined || socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

class FaultProxyImpl implements FaultProxy {
  readonly host = '127.0.0.1';
  port: number;
  readonly target: { host: string; port: number };
  mode: ProxyMode = 'pass';
  #server: Server | undefined;
  #links = new Set<Link>();
  #nextId = 1;
  #stats: ProxyStats = { accepted: 0, active: 0, bytesToServer: 0, bytesToClient: 0, connections: [] };
  #latency: Record<Side, Delay> = { toServer: noDelay, toClient: noDelay };
  readonly #random: () => number;
  #cutForNew: Partial<Record<Side, number>> = {};
  #closed = false;
  #untrack: () => void;

  constructor(options: FaultProxyOptions) {
    this.target = { ...options.target };
    this.port = options.listenPort ?? 0;
    this.#random = options.random ?? Math.random;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter must read the port chosen at listen()
    const self = this;
    this.#untrack = track({
      get description() {
        return `fault proxy 127.0.0.1:${self.port} → ${self.target.host}:${self.target.port}`;
      },
      dispose: () => this.close(),
      disposeSync: () => {
        for (const link of this.#links) this.#destroy(link, 'close', true);
        this.#server?.close();
      },
    });
  }

  async listen(): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (typeof address === 'object' && address !== null) this.port = address.port;
    this.#server = server;
  }

  async pass(): Promise<void> {
    this.#assertOpen();
    const wasRefusing = this.mode === 'refuse';
    this.mode = 'pass';
    this.#latency = { toServer: noDelay, toClient: noDelay };
    this.#cutForNew = {};
    for (const link of this.#links) {
      for (const side of ['toServer', 'toClient'] as const) {
        link.pipes[side].budget = undefined;
        link.pipes[side].delay = noDelay;
      }
      if (link.held) this.#release(link);
    }
    if (wasRefusing) await this.listen();
  }

  async refuse(): Promise<void> {
    this.#assertOpen();
    this.mode = 'refuse';
    for (const link of this.#links) this.#destroy(link, 'refuse', true);
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  blackhole(): void {
    this.#assertOpen();
    this.#requireListening('blackhole');
    this.mode = 'blackhole';
    for (const link of this.#links) this.#hold(link);
  }

  reset({ persist = false }: { persist?: boolean } = {}): void {
    this.#assertOpen();
    for (const link of this.#links) this.#destroy(link, 'reset', true);
    if (persist) {
      this.#requireListening('reset');
      this.mode = 'reset';
    }
  }

  latency(ms: number, direction: Direction = 'both', { jitterMs = 0 }: LatencyOptions = {}): void {
    this.#assertOpen();
    if (!(ms >= 0) || !(jitterMs >= 0))
      throw new RangeError(
        `proxy.latency(${ms}, ${direction}, { jitterMs: ${jitterMs} }): delays must be ≥ 0`,
      );
    const delay: Delay = ms === 0 && jitterMs === 0 ? noDelay : { ms, jitterMs };
    for (const side of sides(direction)) {
      this.#latency[side] = delay;
      for (const link of this.#links) link.pipes[side].delay = delay;
    }
  }

  cutAfter(bytes: number, direction: Direction = 'both', { newConnections = false }: CutOptions = {}): void {
    this.#assertOpen();
    for (const side of sides(direction)) {
      if (newConnections) this.#cutForNew[side] = bytes;
      for (const link of this.#links) link.pipes[side].budget = bytes;
    }
  }

  stats(): ProxyStats {
    return {
      ...this.#stats,
      active: this.#links.size,
      connections: this.#stats.connections.map((c) => ({ ...c })),
    };
  }

  resetStats(): void {
    this.#stats.accepted = 0;
    this.#stats.bytesToServer = 0;
    this.#stats.bytesToClient = 0;
    this.#stats.connections = [...this.#links].map((l) => l.stats);
    for (const link of this.#links) {
      link.stats.bytesToServer = 0;
      link.stats.bytesToClient = 0;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links) this.#destroy(link, 'close', true);
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#untrack();
  }

  #accept(client: Socket): void {
    const stats: ProxyConnectionStats = {
      id: this.#nextId++,
      openedAt: Date.now(),
      closedAt: undefined,
      bytesToServer: 0,
      bytesToClient: 0,
      end: undefined,
    };
    this.#stats.accepted++;
    this.#stats.connections.push(stats);
    if (this.#stats.connections.length > maxConnectionStats) this.#stats.connections.shift();
    const pipe = (side: Side): Pipe => ({
      delay: this.#latency[side],
      budget: this.#cutForNew[side],
      queue: [],
      timer: undefined,
    });
    const link: Link = {
      stats,
      client,
      server: undefined,
      closed: false,
      held: false,
      pipes: { toServer: pipe('toServer'), toClient: pipe('toClient') },
    };
    this.#links.add(link);
    client.setNoDelay(true);
    client.on('error', () => this.#destroy(link, 'client', true));
    client.on('close', () => this.#destroy(link, 'client', false));
    client.on('end', () => link.server?.end());
    client.on('data', (chunk: Buffer) => this.#forward(link, 'toServer', chunk));
    if (this.mode === 'reset') {
      this.#destroy(link, 'reset', true);
      return;
    }
    if (this.mode === 'blackhole') {
      // Accepted, but nothing goes anywhere; the upstream connection is made once the hole closes.
      link.held = true;
      return;
    }
    this.#connectUpstream(link);
    client.resume();
  }

  #connectUpstream(link: Link): void {
    const server = connect({ host: this.target.host, port: this.target.port });
    link.server = server;
    server.setNoDelay(true);
    let connected = false;
    server.once('connect', () => (connected = true));
    server.on('data', (chunk: Buffer) => this.#forward(link, 'toClient', chunk));
    server.on('end', () => link.client.end());
    server.on('error', () => this.#destroy(link, connected ? 'server' : 'upstream-failed', true));
    server.on('close', () => this.#destroy(link, 'server', false));
  }

  #forward(link: Link, side: Side, data: Buffer): void {
    if (link.closed) return;
    const pipe = link.pipes[side];
    let chunk: Buffer | undefined = data;
    let cut = false;
    if (pipe.budget !== undefined) {
      if (chunk.length >= pipe.budget) {
        chunk = pipe.budget > 0 ? chunk.subarray(0, pipe.budget) : undefined;
        cut = true;
      }
      pipe.budget -= chunk?.length ?? 0;
    }
    const at = this.#due(pipe);
    if (chunk !== undefined) pipe.queue.push({ at, chunk });
    if (cut) {
      pipe.queue.push({ at, chunk: undefined });
      // Nothing more is read from the source: everything after the budget is lost.
      (side === 'toServer' ? link.client : link.server)?.pause();
    }
    this.#flush(link, side);
  }

  /** When a chunk arriving now leaves: after its delay and jitter, and not before the one ahead of it. */
  #due(pipe: Pipe): number {
    const { ms, jitterMs } = pipe.delay;
    const at = performance.now() + ms + (jitterMs > 0 ? this.#random() * jitterMs : 0);
    return Math.max(at, pipe.queue.at(-1)?.at ?? 0);
  }

  #flush(link: Link, side: Side): void {
    const pipe = link.pipes[side];
    clearTimeout(pipe.timer);
    pipe.timer = undefined;
    while (!link.closed && !link.held) {
      const head = pipe.queue[0];
      if (head === undefined) return;
      const wait = head.at - performance.now();
      if (wait > 0) {
        pipe.timer = setTimeout(() => this.#flush(link, side), wait);
        return;
      }
      pipe.queue.shift();
      if (head.chunk === undefined) {
        this.#cut(link, side);
        return;
      }
      const dest = side === 'toServer' ? link.server : link.client;
      const source = side === 'toServer' ? link.client : link.server;
      if (dest === undefined) return;
      link.stats[side === 'toServer' ? 'bytesToServer' : 'bytesToClient'] += head.chunk.length;
      this.#stats[side === 'toServer' ? 'bytesToServer' : 'bytesToClient'] += head.chunk.length;
      if (!dest.write(head.chunk)) {
        source?.pause();
        dest.once('drain', () => {
          if (!link.held && !link.closed) source?.resume();
        });
      }
    }
  }

  // The client gets an RST; the server gets a FIN after what was already written, so a request that
  // made it through is still executed, and its reply is thrown away.
  #cut(link: Link, side: Side): void {
    const { client, server } = link;
    const pending = side === 'toClient' && client.writableLength > 0;
    if (pending) client.write(Buffer.alloc(0), () => rst(client));
    else rst(client);
    if (server !== undefined && !server.destroyed) {
      // Keep reading (and discarding) so the server's own close is seen; its reply is the part that is lost.
      server.removeAllListeners('data');
      server.resume();
      server.end();
      const timer = setTimeout(() => server.destroy(), 2000);
      timer.unref();
      server.once('close', () => clearTimeout(timer));
    }
    this.#markClosed(link, 'cut');
  }

  #hold(link: Link): void {
    link.held = true;
    link.client.pause();
    link.server?.pause();
    for (const side of ['toServer', 'toClient'] as const) {
      clearTimeout(link.pipes[side].timer);
      link.pipes[side].timer = undefined;
    }
  }

  #release(link: Link): void {
    link.held = false;
    if (link.server === undefined) this.#connectUpstream(link);
    link.client.resume();
    link.server?.resume();
    this.#flush(link, 'toServer');
    this.#flush(link, 'toClient');
  }

  #destroy(link: Link, end: ConnectionEnd, reset: boolean): void {
    if (link.closed) {
      // A cut link still has its upstream socket finishing; a later close/refuse must not wait for it.
      if (reset && end !== 'client' && end !== 'server') link.server?.destroy();
      return;
    }
    if (reset) {
      rst(link.client);
      rst(link.server);
    } else {
      link.client.destroy();
      link.server?.destroy();
    }
    this.#markClosed(link, end);
  }

  #markClosed(link: Link, end: ConnectionEnd): void {
    if (link.closed) return;
    link.closed = true;
    link.stats.end = end;
    link.stats.closedAt = Date.now();
    for (const side of ['toServer', 'toClient'] as const) {
      clearTimeout(link.pipes[side].timer);
      link.pipes[side].queue = [];
    }
    this.#links.delete(link);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('The fault proxy is closed');
  }

  #requireListening(action: string): void {
    if (this.#server === undefined)
      throw new Error(`proxy.${action}(): the proxy is refusing; call pass() first`);
  }
}

function sides(direction: Direction): Side[] {
  return direction === 'both' ? ['toServer', 'toClient'] : [direction];
}

/**
 * Starts a TCP proxy on 127.0.0.1 in front of `target`, forwarding in `pass` mode.
 * Switch faults at run time; read `stats()` to see how much traffic reached the server.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxyImpl(options);
  try {
    await proxy.listen();
  } catch (error) {
    await proxy.close();
    throw error;
  }
  return proxy;
}
