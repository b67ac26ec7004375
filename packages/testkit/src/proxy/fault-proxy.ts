import { connect, createServer, type Server, type Socket } from 'node:net';
import { track } from '../cleanup/registry.js';
import type {
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
import {
  checkThrottle,
  noDelay,
  rst,
  schedule,
  sides,
  type Delay,
  type Link,
  type Pipe,
  type Side,
} from './pipe.js';

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
/** How long after the last bytes of a reply torn by a cut its RST is sent. */
const tornResetDelayMs = 20;

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
  #throttle: Record<Side, ThrottleOptions> = { toServer: {}, toClient: {} };
  #closeDelayMs = 0;
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
    this.#throttle = { toServer: {}, toClient: {} };
    this.#closeDelayMs = 0;
    this.#cutForNew = {};
    for (const link of this.#links) {
      for (const side of ['toServer', 'toClient'] as const) {
        link.pipes[side].budget = undefined;
        link.pipes[side].delay = noDelay;
        link.pipes[side].throttle = {};
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
    server.on('end', () => this.#serverEnded(link));
    server.on('error', () => this.#destroy(link, connected ? 'server' : 'upstream-failed', true));
    // After a FIN held back by closeDelay the client still sees an open connection until it arrives.
    server.on('close', () => {
      if (!link.serverGone) this.#destroy(link, 'server', false);
    });
  }

  #serverEnded(link: Link): void {
    // A cut link's client is being reset: the server's FIN (after the cut) is not passed on.
    if (link.closed) return;
    if (this.#closeDelayMs <= 0) {
      link.client.end();
      return;
    }
    link.serverGone = true;
    const pipe = link.pipes.toClient;
    const at = Math.max(performance.now() + this.#closeDelayMs, pipe.queue.at(-1)?.at ?? 0);
    pipe.queue.push({ at, chunk: undefined, fin: true });
    this.#flush(link, 'toClient');
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
    schedule(pipe, chunk, cut, this.#random);
    if (cut) {
      // Nothing more is read from the source: everything after the budget is lost.
      (side === 'toServer' ? link.client : link.server)?.pause();
    }
    this.#flush(link, side);
  }

  #flush(link: Link, side: Side): void {
    const pipe = link.pipes[side];
    clearTimeout(pipe.timer);
    pipe.timer = undefined;
    let wrote = false;
    while (!link.closed && !link.held) {
      const head = pipe.queue[0];
      if (head === undefined) return;
      const wait = head.at - performance.now();
      if (wait > 0) {
        pipe.timer = setTimeout(() => this.#flush(link, side), wait);
        return;
      }
      pipe.queue.shift();
      if (head.fin === true) {
        link.client.end();
        continue;
      }
      if (side === 'toServer' && link.serverGone) {
        // Bytes sent into a connection the server has closed: a closed socket answers with an RST.
        this.#destroy(link, 'server', true);
        return;
      }
      if (head.chunk === undefined) {
        this.#cut(link, side, wrote);
        return;
      }
      const dest = side === 'toServer' ? link.server : link.client;
      const source = side === 'toServer' ? link.client : link.server;
      if (dest === undefined) return;
      link.stats[side === 'toServer' ? 'bytesToServer' : 'bytesToClient'] += head.chunk.length;
      this.#stats[side === 'toServer' ? 'bytesToServer' : 'bytesToClient'] += head.chunk.length;
      wrote = true;
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
  // Bytes written just before the cut and the RST must not arrive together: a peer that reads both at once sees
  // an orderly close, not a reset. So the RST follows them by a moment.
  #cut(link: Link, side: Side, wrote = false): void {
    const { client, server } = link;
    const torn = side === 'toClient' && (wrote || client.writableLength > 0);
    if (torn)
      client.write(Buffer.alloc(0), () => {
        setTimeout(() => rst(client), tornResetDelayMs).unref();
      });
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
