import type { ConnectionEnd } from './types.js';
import { rst, schedule, type Link, type Side } from './pipe.js';

// The proxied connections and what happens on them: bytes forwarded (delayed, split, paced, cut), a server's FIN
// passed on or held back, connections held (blackhole), released, reset and closed. The proxy decides; this acts.

/** How long after the last bytes of a reply torn by a cut its RST is sent. */
const tornResetDelayMs = 20;

/** What the links need from their proxy. */
export interface LinkHost {
  random: () => number;
  /** The close delay now in force (closeDelay). */
  closeDelayMs(): number;
  /** Bytes forwarded on `side`, for the proxy-wide counters. */
  counted(side: Side, bytes: number): void;
  /** Opens the upstream connection of `link` (a blackholed accept, released). */
  connectUpstream(link: Link): void;
}

/** The open connections of one proxy. */
export class Links {
  readonly #host: LinkHost;
  readonly #all = new Set<Link>();

  constructor(host: LinkHost) {
    this.#host = host;
  }

  get size(): number {
    return this.#all.size;
  }

  add(link: Link): void {
    this.#all.add(link);
  }

  [Symbol.iterator](): IterableIterator<Link> {
    return [...this.#all][Symbol.iterator]();
  }

  serverEnded(link: Link): void {
    // A cut link's client is being reset: the server's FIN (after the cut) is not passed on.
    if (link.closed) return;
    if (this.#host.closeDelayMs() <= 0) {
      link.client.end();
      return;
    }
    link.serverGone = true;
    const pipe = link.pipes.toClient;
    const at = Math.max(performance.now() + this.#host.closeDelayMs(), pipe.queue.at(-1)?.at ?? 0);
    pipe.queue.push({ at, chunk: undefined, fin: true });
    this.flush(link, 'toClient');
  }

  forward(link: Link, side: Side, data: Buffer): void {
    if (link.closed) return;
    link.lastActive = performance.now();
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
    schedule(pipe, chunk, cut, this.#host.random);
    if (cut) {
      // Nothing more is read from the source: everything after the budget is lost.
      (side === 'toServer' ? link.client : link.server)?.pause();
    }
    this.flush(link, side);
  }

  flush(link: Link, side: Side): void {
    const pipe = link.pipes[side];
    clearTimeout(pipe.timer);
    pipe.timer = undefined;
    let wrote = false;
    while (!link.closed && !link.held) {
      const head = pipe.queue[0];
      if (head === undefined) return;
      const wait = head.at - performance.now();
      if (wait > 0) {
        pipe.timer = setTimeout(() => this.flush(link, side), wait);
        return;
      }
      pipe.queue.shift();
      if (head.fin === true) {
        link.client.end();
        continue;
      }
      if (side === 'toServer' && link.serverGone) {
        // Bytes sent into a connection the server has closed: a closed socket answers with an RST.
        this.destroy(link, 'server', true);
        return;
      }
      if (head.chunk === undefined) {
        this.cut(link, side, wrote);
        return;
      }
      const dest = side === 'toServer' ? link.server : link.client;
      const source = side === 'toServer' ? link.client : link.server;
      if (dest === undefined) return;
      link.stats[side === 'toServer' ? 'bytesToServer' : 'bytesToClient'] += head.chunk.length;
      this.#host.counted(side, head.chunk.length);
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
  cut(link: Link, side: Side, wrote = false): void {
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
    this.markClosed(link, 'cut');
  }

  hold(link: Link): void {
    link.held = true;
    link.client.pause();
    link.server?.pause();
    for (const side of ['toServer', 'toClient'] as const) {
      clearTimeout(link.pipes[side].timer);
      link.pipes[side].timer = undefined;
    }
  }

  release(link: Link): void {
    link.held = false;
    if (link.server === undefined) this.#host.connectUpstream(link);
    link.client.resume();
    link.server?.resume();
    this.flush(link, 'toServer');
    this.flush(link, 'toClient');
  }

  destroy(link: Link, end: ConnectionEnd, reset: boolean): void {
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
    this.markClosed(link, end);
  }

  markClosed(link: Link, end: ConnectionEnd): void {
    if (link.closed) return;
    link.closed = true;
    link.stats.end = end;
    link.stats.closedAt = Date.now();
    for (const side of ['toServer', 'toClient'] as const) {
      clearTimeout(link.pipes[side].timer);
      link.pipes[side].queue = [];
    }
    this.#all.delete(link);
  }
}
