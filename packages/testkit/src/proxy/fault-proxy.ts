import { connect, createServer, type Server, type Socket } from 'node:net';
import { track } from '../cleanup/registry.js';
import { Links } from './links.js';
import type {
  CutOptions,
  Direction,
  FaultProxy,
  FaultProxyOptions,
  LatencyOptions,
  ProxyConnectionStats,
  ProxyMode,
  ProxyStats,
  ThrottleOptions,
} from './types.js';
import { checkThrottle, noDelay, sides, type Delay, type Link, type Pipe, type Side } from './pipe.js';

export type {
  ConnectionEnd,
  CutOptions,
  Direction,
  FaultProxy,
  FaultProxyOptions,
  LatencyOptions,
  ProxyConnectionStats,
  ProxyMode,
  ProxyStats,
  ThrottleOptions,
} from './types.js';

const maxConnectionStats = 1000;

class FaultProxyImpl implements FaultProxy {
  readonly host: string;
  port: number;
  readonly target: { host: string; port: number };
  mode: ProxyMode = 'pass';
  #server: Server | undefined;
  readonly #links = new Links({
    random: () => this.#random(),
    closeDelayMs: () => this.#closeDelayMs,
    counted: (side, bytes) => {
      this.#stats[side === 'toServer' ? 'bytesToServer' : 'bytesToClient'] += bytes;
    },
    connectUpstream: (link) => this.#connectUpstream(link),
  });
  #nextId = 1;
  #stats: ProxyStats = {
    accepted: 0,
    active: 0,
    dropped: 0,
    bytesToServer: 0,
    bytesToClient: 0,
    connections: [],
  };
  #latency: Record<Side, Delay> = { toServer: noDelay, toClient: noDelay };
  #throttle: Record<Side, ThrottleOptions> = { toServer: {}, toClient: {} };
  #closeDelayMs = 0;
  #idleSweep: NodeJS.Timeout | undefined;
  readonly #random: () => number;
  #cutForNew: Partial<Record<Side, number>> = {};
  #closed = false;
  #untrack: () => void;

  constructor(options: FaultProxyOptions) {
    this.target = { ...options.target };
    this.host = options.listenHost ?? '127.0.0.1';
    this.port = options.listenPort ?? 0;
    this.#random = options.random ?? Math.random;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter must read the port chosen at listen()
    const self = this;
    this.#untrack = track({
      get description() {
        return `fault proxy ${self.host}:${self.port} → ${self.target.host}:${self.target.port}`;
      },
      dispose: () => this.close(),
      disposeSync: () => {
        for (const link of this.#links) this.#links.destroy(link, 'close', true);
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
    this.#throttle = { toServer: {}, toClient: {} };
    this.#closeDelayMs = 0;
    this.#cutForNew = {};
    for (const link of this.#links) {
      for (const side of ['toServer', 'toClient'] as const) {
        link.pipes[side].budget = undefined;
        link.pipes[side].delay = noDelay;
        link.pipes[side].throttle = {};
      }
      if (link.held && !link.dropped) this.#links.release(link);
    }
    this.#stopDropping();
    if (wasRefusing) await this.listen();
  }

  async refuse(): Promise<void> {
    this.#assertOpen();
    this.mode = 'refuse';
    for (const link of this.#links) this.#links.destroy(link, 'refuse', true);
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  blackhole(): void {
    this.#assertOpen();
    this.#requireListening('blackhole');
    this.mode = 'blackhole';
    for (const link of this.#links) this.#links.hold(link);
  }

  reset({ persist = false }: { persist?: boolean } = {}): void {
    this.#assertOpen();
    for (const link of this.#links) this.#links.destroy(link, 'reset', true);
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

  throttle(options: ThrottleOptions, direction: Direction = 'both'): void {
    this.#assertOpen();
    checkThrottle(options);
    for (const side of sides(direction)) {
      this.#throttle[side] = { ...options };
      for (const link of this.#links) link.pipes[side].throttle = { ...options };
    }
  }

  closeDelay(ms: number): void {
    this.#assertOpen();
    if (!(ms >= 0)) throw new RangeError(`proxy.closeDelay(${ms}): the delay must be ≥ 0`);
    this.#closeDelayMs = ms;
  }

  dropIdle(ms: number): void {
    this.#assertOpen();
    if (!(ms >= 0)) throw new RangeError(`proxy.dropIdle(${ms}): the idle time must be ≥ 0`);
    this.#stopDropping();
    if (ms === 0) return;
    const sweep = () => {
      const now = performance.now();
      for (const link of this.#links)
        if (!link.held && now - link.lastActive >= ms) {
          link.dropped = true;
          this.#stats.dropped++;
          this.#links.hold(link);
        }
    };
    this.#idleSweep = setInterval(sweep, Math.max(10, Math.min(100, ms / 4)));
    this.#idleSweep.unref();
  }

  // Ends idle dropping: the connections it dropped are reset, as the next packet of a forgotten flow is.
  #stopDropping(): void {
    clearInterval(this.#idleSweep);
    this.#idleSweep = undefined;
    for (const link of this.#links) if (link.dropped) this.#links.destroy(link, 'reset', true);
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
    this.#stats.dropped = 0;
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
    clearInterval(this.#idleSweep);
    for (const link of this.#links) this.#links.destroy(link, 'close', true);
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
      throttle: { ...this.#throttle[side] },
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
      serverGone: false,
      dropped: false,
      lastActive: performance.now(),
      pipes: { toServer: pipe('toServer'), toClient: pipe('toClient') },
    };
    this.#links.add(link);
    client.setNoDelay(true);
    client.on('error', () => this.#links.destroy(link, 'client', true));
    client.on('close', () => this.#links.destroy(link, 'client', false));
    client.on('end', () => link.server?.end());
    client.on('data', (chunk: Buffer) => this.#links.forward(link, 'toServer', chunk));
    if (this.mode === 'reset') {
      this.#links.destroy(link, 'reset', true);
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
    server.on('data', (chunk: Buffer) => this.#links.forward(link, 'toClient', chunk));
    server.on('end', () => this.#links.serverEnded(link));
    server.on('error', () => this.#links.destroy(link, connected ? 'server' : 'upstream-failed', true));
    // After a FIN held back by closeDelay the client still sees an open connection until it arrives.
    server.on('close', () => {
      if (!link.serverGone) this.#links.destroy(link, 'server', false);
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('The fault proxy is closed');
  }

  #requireListening(action: string): void {
    if (this.#server === undefined)
      throw new Error(`proxy.${action}(): the proxy is refusing; call pass() first`);
  }
}

/**
 * Starts a TCP proxy on 127.0.0.1 (or `listenHost`) in front of `target`, forwarding in `pass` mode.
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
