import type { ConnectionMonitor, ResolvedPolicy } from '@reconnect/core';
import type { Redis } from 'ioredis';
import type { RedisClient } from './client.js';
import { redactRedisError, RedisDriverError } from './errors.js';

/** What the driver remembers about each client it created, beside the client itself. */
export interface ClientState {
  /** The last `error` event since the last `ready`, credentials removed. */
  lastError: unknown;
  /** Whether the monitor was last told `up`. */
  reportedUp: boolean;
  /** Set by the driver's close(): never reconnect this client again. */
  closing: boolean;
  /**
   * True while the lifecycle watches the client: its reconnector runs the policy's schedule and calls
   * `reconnectNow` for each attempt, so ioredis's own retry timer stands aside (one loop, not two).
   */
  watched: boolean;
  /** The server the current connect attempt reached over TCP (ioredis's `connect`), until the next attempt begins. */
  peer: Peer | undefined;
  /** The target's policy, set by the driver's connect and reconfigure (the probe's wait through a busy server). */
  policy: ResolvedPolicy | undefined;
  /** The `idempotencyKeyTtl` option in ms, when the target's options give one (guarded writes read it). */
  idempotencyKeyTtlMs: number | undefined;
  /** The `waitForReplicas` option (timeout in ms), when the target's options give one (attempt views read it). */
  waitForReplicas: { readonly replicas: number; readonly timeout: number } | undefined;
}

/** A server's address as a connection reached it. */
export interface Peer {
  readonly host: string;
  readonly port: number;
}

/** A fresh state, created before the client so its retry strategy can consult it. */
export function newClientState(): ClientState {
  return {
    lastError: undefined,
    reportedUp: false,
    closing: false,
    watched: false,
    peer: undefined,
    policy: undefined,
    idempotencyKeyTtlMs: undefined,
    waitForReplicas: undefined,
  };
}

const states = new WeakMap<RedisClient, ClientState>();

/**
 * Starts tracking a new client: records its errors (so ioredis never prints "Unhandled error event"
 * and the driver can say why a connect failed) and forgets them once the client is ready again.
 */
export function track(client: RedisClient, state: ClientState = newClientState()): ClientState {
  states.set(client, state);
  const record = (error: unknown) => {
    state.lastError = redactRedisError(error);
  };
  client.on('error', record);
  // Cluster: a node's connection failed; the cluster keeps going with the others.
  client.on('node error', record);
  client.on('ready', () => {
    state.lastError = undefined;
  });
  // Where this attempt's socket connected. The event comes a tick after the fact: a socket whose first write already
  // failed has forgotten its peer, so a standalone client's own address stands in (a Sentinel-resolved master's
  // cannot; a cluster has no stream of its own).
  client.on('connecting', () => {
    state.peer = undefined;
  });
  client.on('connect', () => {
    state.peer = peerOf(client);
  });
  return state;
}

function peerOf(client: RedisClient): Peer | undefined {
  if ('isCluster' in client && client.isCluster) return undefined;
  const redis = client as Redis;
  const stream = redis.stream as Redis['stream'] | undefined;
  if (stream?.remoteAddress !== undefined && stream.remotePort !== undefined)
    return { host: stream.remoteAddress, port: stream.remotePort };
  const { host, port, sentinels } = redis.options;
  if (sentinels !== undefined && sentinels !== null && sentinels.length > 0) return undefined;
  return host === undefined || port === undefined ? undefined : { host, port };
}

/** The state of a client created by this driver (a fresh one for a client from elsewhere). */
export function stateOf(client: RedisClient): ClientState {
  return states.get(client) ?? track(client);
}

/**
 * The state of the client behind `client`, which may be an attempt's view of it (a view inherits from its client), or
 * undefined for a client this driver did not create.
 */
export function knownStateOf(client: object): ClientState | undefined {
  for (let o: object | null = client; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const state = states.get(o as RedisClient);
    if (state !== undefined) return state;
  }
  return undefined;
}

/** Why the client is down: its last error, or `CONNECTION_CLOSED` when none was emitted. */
export function downReason(client: RedisClient): unknown {
  return stateOf(client).lastError ?? closedWithoutError();
}

/** The client closed without an error event: said in ioredis's words, with this driver's code. */
export function closedWithoutError(): RedisDriverError {
  return new RedisDriverError('CONNECTION_CLOSED', 'Connection is closed.');
}

/**
 * Follows the client's status for the lifecycle: `ready` → `up()`, `close` / `end` → `down(error)`,
 * each reported once per change. While watched, the lifecycle's reconnector owns the schedule (the
 * policy's backoff, `maxRetries`, the on-demand nudge) and makes each attempt through
 * {@link reconnectClient}; ioredis's retry strategy defers to it, so there is one reconnect loop.
 */
export function watchClient(client: RedisClient, monitor: ConnectionMonitor): () => void {
  const state = stateOf(client);
  state.reportedUp = true;
  state.watched = true;
  const onReady = () => {
    if (state.reportedUp) return;
    state.reportedUp = true;
    monitor.up();
  };
  const onDown = () => {
    if (!state.reportedUp || state.closing) return;
    state.reportedUp = false;
    monitor.down(downReason(client));
  };
  client.on('ready', onReady);
  client.on('close', onDown);
  client.on('end', onDown);
  // It may have dropped between connect() resolving and this subscription.
  if (client.status !== 'ready') onDown();
  return () => {
    client.off('ready', onReady);
    client.off('close', onDown);
    client.off('end', onDown);
    state.watched = false;
    // Nobody makes attempts for it any more: hand the schedule back to ioredis's own strategy — unless
    // the unsubscribe is part of a close (the lifecycle unwatches, then closes), checked a tick later.
    setImmediate(() => {
      if (!state.watched && !state.closing && client.status === 'reconnecting') reconnectClient(client);
    });
  };
}

// The pending backoff timer lives in a private field of both Redis and Cluster (`reconnectTimeout`,
// unchanged since ioredis 1.x); ioredis's own disconnect() clears it the same way. Clearing it before
// connect() keeps a single reconnect chain: otherwise the stale timer fires later and, if that attempt
// fails, a second chain of timers runs beside the first.
function cancelPendingReconnect(client: RedisClient): void {
  const c = client as unknown as { reconnectTimeout?: ReturnType<typeof setTimeout> | null };
  if (c.reconnectTimeout !== undefined && c.reconnectTimeout !== null) {
    clearTimeout(c.reconnectTimeout);
    c.reconnectTimeout = null;
  }
}

const noop = () => {};

/**
 * Reconnects now instead of at the next backoff timer:
 * - `reconnecting` (waiting on the backoff timer) or `end` (gave up): cancel the timer, `connect()` now;
 * - `ready` although the lifecycle was told `up` and still asks (its health check found the server
 *   hung, which ioredis cannot see): drop the socket, so ioredis reconnects through its strategy;
 * - `connecting` / `connect`: an attempt is already running; nothing to do.
 */
export function reconnectClient(client: RedisClient): void {
  const state = stateOf(client);
  if (state.closing) return;
  switch (client.status) {
    case 'reconnecting':
    case 'close':
    case 'end':
      cancelPendingReconnect(client);
      client.connect().catch(noop);
      return;
    case 'ready':
      if (!state.reportedUp) return;
      if ('isCluster' in client && client.isCluster)
        (client as unknown as { disconnect(r: boolean): void }).disconnect(true);
      // destroy(), not end(): a hung server never answers the FIN that end() waits for.
      else (client as Redis).stream?.destroy();
      return;
    default:
      return;
  }
}
