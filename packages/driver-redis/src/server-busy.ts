import { connect as netConnect } from 'node:net';
import { sleep, systemClock, type Clock, type RandomSource, type ResolvedPolicy } from '@reconnect/core';
import { classifyRedisError } from './classify.js';
import type { RedisClient } from './client.js';
import { stateOf, type Peer } from './client-state.js';
import { RedisDriverError } from './errors.js';

// A server at `maxclients` is busy, not down (issue #26). Redis answers every connection over the limit with
// "-ERR max number of clients reached" and closes it at once. ioredis writes its handshake (HELLO or CLIENT SETNAME,
// INFO) the moment the socket connects, so the write usually meets the closed socket first: the connect fails as
// EPIPE or "Connection is closed." and the reply, already in the kernel's buffer, is never read (28 of 30 refused
// connects measured so; the reply is seen only when an AUTH or a proxy delays the close). A connection that fails
// during its handshake is therefore checked: a second socket that writes nothing reads the server's first bytes,
// which are the refusal when the server is full and nothing at all otherwise.
//
// A refused connect is then waited out inside the connect attempt: a jittered wait, another connect, until a slot
// frees or the attempt's own time (reconnect.connectTimeout) runs out. The lifecycle sees one attempt in progress,
// so busy refusals do not use up reconnect.maxRetries nor end the target in `failed`, and operations waiting for the
// reconnect (within their deadline) are served as soon as a connection is accepted.

const refusalText = '-ERR max number of clients reached';

/** How long the check waits for the server's first bytes: a full server answers as soon as it accepts. */
export const busyCheckMs = 250;

/**
 * Whether the Redis server at `peer` refuses new connections for being at `maxclients`: connects, writes nothing,
 * and reads the first bytes for at most `waitMs` (a server with room sends nothing until asked).
 */
export function refusedAsBusy(peer: Peer, waitMs = busyCheckMs): Promise<boolean> {
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    const socket = netConnect({ host: peer.host, port: peer.port });
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(received.startsWith(refusalText));
    };
    const timer = setTimeout(done, waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.length >= refusalText.length || !refusalText.startsWith(received)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

/** The error a connect refused by a full server fails with (classified `throttled`, `MAXCLIENTS`, not sent). */
export function maxClientsError(cause?: unknown): RedisDriverError {
  return new RedisDriverError(
    'MAXCLIENTS',
    'The server is at maxclients: it refused the connection (ERR max number of clients reached)',
    { cause },
  );
}

/** Whether `error` is a refusal by a full server: the reply itself, or this driver's {@link maxClientsError}. */
export function isBusyRefusal(error: unknown): boolean {
  return classifyRedisError(error).code === 'MAXCLIENTS';
}

/**
 * What a failed connect of `client` reports: {@link maxClientsError} when it failed as a lost connection during its
 * handshake and the server turns out to be at `maxclients`; otherwise `error` unchanged. Not checked over TLS (the
 * check speaks plain TCP) nor for a cluster (its node connections are its own).
 */
export async function refusalOf(client: RedisClient, error: unknown): Promise<unknown> {
  const peer = stateOf(client).peer;
  if (peer === undefined || isBusyRefusal(error)) return error;
  if ((client.options as { tls?: unknown }).tls !== undefined) return error;
  if (classifyRedisError(error).kind !== 'connection') return error;
  return (await refusedAsBusy(peer)) ? maxClientsError(error) : error;
}

/**
 * The wait before connect `n + 1` after `n` busy refusals: full jitter over the policy's reconnect backoff envelope
 * (`min(max, base · factor^(n-1))`), and never below `minProbeGap`.
 */
export function busyDelayMs(
  policy: Pick<ResolvedPolicy, 'reconnect'>,
  n: number,
  random: RandomSource = Math.random,
): number {
  const { base, factor, max } = policy.reconnect.backoff;
  const envelope = Math.min(max, base * factor ** (n - 1));
  return Math.max(policy.reconnect.minProbeGap, Math.round(random() * envelope));
}

/** Options of {@link connectThroughBusy}. */
export interface BusyWaitOptions {
  /**
   * The time the caller's attempt has: a wait that, with a connect and its check ({@link busyCheckMs}), would end
   * later is not begun, and the refusal is thrown.
   */
  withinMs: number;
  clock?: Clock;
  random?: RandomSource;
}

/**
 * Runs `connect(n)` (n = 1, 2, …) until it succeeds or fails otherwise than by a busy refusal, waiting
 * {@link busyDelayMs} after each refusal. When the next wait would outlast `withinMs`, or `signal` ends it, the last
 * refusal is what it throws: the attempt failed because the server was full (the lifecycle's health and logs then
 * say `MAXCLIENTS`, not the attempt's timeout).
 */
export async function connectThroughBusy<T>(
  connect: (n: number) => Promise<T>,
  policy: Pick<ResolvedPolicy, 'reconnect'>,
  signal: AbortSignal,
  { withinMs, clock = systemClock, random = Math.random }: BusyWaitOptions,
): Promise<T> {
  const end = clock.now() + withinMs;
  let refusal: unknown;
  for (let n = 1; ; n++) {
    try {
      return await connect(n);
    } catch (error) {
      if (signal.aborted) throw refusal ?? error;
      if (!isBusyRefusal(error)) throw error;
      refusal = error;
      // The next try needs the wait, a connect and maybe a check: begun only if all of it fits.
      const delay = busyDelayMs(policy, n, random);
      if (clock.now() + delay + busyCheckMs >= end) throw refusal;
      await sleep(clock, delay, signal).catch(() => {
        throw refusal;
      });
    }
  }
}
