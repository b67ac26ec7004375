import type { Socket } from 'node:net';
import type { Direction, ProxyConnectionStats, ThrottleOptions } from './types.js';

// One proxied connection and its two pipes, and how a chunk is scheduled on a pipe: its delay and jitter,
// its pieces and their pacing, never before the piece ahead of it.

export type Side = 'toServer' | 'toClient';

export interface Delay {
  ms: number;
  jitterMs: number;
}

/** What leaves a pipe: bytes, a cut (the client gets an RST), or the server's FIN, late (a slow close). */
export interface Queued {
  at: number;
  chunk: Buffer | undefined;
  fin?: true;
}

export interface Pipe {
  delay: Delay;
  throttle: ThrottleOptions;
  /** Bytes still allowed before the cut; undefined when no cut is pending. */
  budget: number | undefined;
  queue: Queued[];
  timer: NodeJS.Timeout | undefined;
}

export interface Link {
  stats: ProxyConnectionStats;
  client: Socket;
  server: Socket | undefined;
  closed: boolean;
  held: boolean;
  /** The server closed and its FIN is held back (closeDelay): what the client sends now meets an RST. */
  serverGone: boolean;
  /** Dropped by dropIdle: held for good, reset (not released) when the dropping ends. */
  dropped: boolean;
  /** `performance.now()` when a byte last arrived either way (or the accept). */
  lastActive: number;
  pipes: Record<Side, Pipe>;
}

export const noDelay: Delay = { ms: 0, jitterMs: 0 };

/** Queues `data` (and then a cut, if `cut`) on `pipe`: delayed, jittered, split and paced, in order. */
export function schedule(pipe: Pipe, data: Buffer | undefined, cut: boolean, random: () => number): void {
  const { ms, jitterMs } = pipe.delay;
  let at = performance.now() + ms + (jitterMs > 0 ? random() * jitterMs : 0);
  // Never before what is ahead: TCP keeps order, so a short draw behind a long one waits for it.
  at = Math.max(at, pipe.queue.at(-1)?.at ?? 0);
  if (data !== undefined) {
    const { chunkBytes, bytesPerSecond } = pipe.throttle;
    const size = chunkBytes ?? data.length;
    for (let offset = 0; offset < data.length; offset += size) {
      const piece = data.subarray(offset, offset + size);
      if (bytesPerSecond !== undefined) at += (piece.length * 1000) / bytesPerSecond;
      pipe.queue.push({ at, chunk: piece });
    }
  }
  if (cut) pipe.queue.push({ at, chunk: undefined });
}

/** Sends an RST (falls back to a plain destroy where the platform cannot). */
export function rst(socket: Socket | undefined): void {
  if (socket === undefined || socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export function sides(direction: Direction): Side[] {
  return direction === 'both' ? ['toServer', 'toClient'] : [direction];
}

/** Throws unless every limit is a positive number (or absent). */
export function checkThrottle(options: ThrottleOptions): void {
  for (const [name, value] of Object.entries(options))
    if (value !== undefined && !(typeof value === 'number' && value > 0))
      throw new RangeError(`proxy.throttle(): ${name} must be a number > 0, not ${String(value)}`);
}
