import { defineDriver, type ConnectContext, type ProbeContext } from '@reconnect/core';
import { classifyRedisError } from './classify.js';
import { createRedisClient, type RedisClient } from './client.js';
import { reconnectClient, stateOf, track, watchClient } from './client-state.js';
import { redactRedisError } from './errors.js';
import {
  describeRedisOptions,
  redisOptionsSchema,
  redisSecretKeys,
  type RedisDriverOptions,
} from './options.js';

const noop = () => {};

// Rejects with the signal's reason when it aborts first; the losing promise's rejection is swallowed.
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(noop);
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the client's own error through
        reject(e);
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('The operation was aborted', 'AbortError');
}

// Resolves after `ms` or when `promise` settles, whichever is first; never rejects; leaves no timer.
function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

async function connect(options: RedisDriverOptions, ctx: ConnectContext): Promise<RedisClient> {
  const client = createRedisClient(options, { policy: ctx.policy, target: ctx.target });
  const state = track(client);
  try {
    await raceSignal(client.connect(), ctx.signal);
    return client;
  } catch (error) {
    // connect() rejects at the first close, but ioredis would keep retrying in the background:
    // this client is abandoned, the lifecycle's next attempt makes a new one.
    state.closing = true;
    client.disconnect();
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    throw redactRedisError(state.lastError ?? error);
  }
}

async function probe(client: RedisClient, ctx: ProbeContext): Promise<void> {
  const [command = 'PING', ...args] = (ctx.query ?? 'PING').trim().split(/\s+/);
  try {
    await raceSignal(client.call(command, ...args), ctx.signal);
  } catch (error) {
    throw redactRedisError(error);
  }
}

async function close(client: RedisClient): Promise<void> {
  const state = stateOf(client);
  state.closing = true;
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  // QUIT lets in-flight replies arrive; a hung server gets a short grace, then the socket is dropped.
  if (client.status === 'ready') await settleWithin(client.quit(), 500);
  client.disconnect();
  await settleWithin(ended, 2500);
}

/**
 * The Redis driver (ioredis 6): single node, Sentinel and Cluster.
 *
 * ioredis owns the socket and its reconnect loop, driven by the policy's `reconnect` backoff; the
 * lifecycle follows its status through {@link Driver.watch} and asks for an immediate attempt through
 * {@link Driver.reconnectNow}. The offline queue is off and in-flight commands settle at a disconnect,
 * so no command waits longer than its attempt, and none is replayed behind the caller's back.
 */
export const redisDriver = defineDriver<RedisDriverOptions, RedisClient>({
  name: 'redis',
  system: 'redis',
  options: redisOptionsSchema,
  connect,
  probe,
  close,
  classify: classifyRedisError,
  watch: watchClient,
  reconnectNow: reconnectClient,
  describe: describeRedisOptions,
  secretKeys: redisSecretKeys,
});
