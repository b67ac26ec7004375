import {
  abortable,
  abortReason,
  defineDriver,
  settledWithin,
  type ConnectContext,
  type ProbeContext,
} from '@reconnect/core';
import { bindClientToAttempt } from './attempt-client.js';
import { classifyRedisError } from './classify.js';
import { createRedisClient, type RedisClient } from './client.js';
import {
  closedWithoutError,
  newClientState,
  reconnectClient,
  stateOf,
  track,
  watchClient,
} from './client-state.js';
import { redactRedisError } from './errors.js';
import { connectThroughBusy, refusalOf } from './server-busy.js';
import { reconfigureClient, withoutCommandTimeout } from './policy-mapping.js';
import {
  describeRedisOptions,
  redisOptionsSchema,
  redisSecretKeys,
  type RedisDriverOptions,
} from './options.js';
import { reconfigureReads } from './read-selector.js';
import { redisTelemetry } from './telemetry.js';

async function connect(options: RedisDriverOptions, ctx: ConnectContext): Promise<RedisClient> {
  // A server at maxclients is waited out within the attempt: a new client after each jittered wait (issue #26).
  return connectThroughBusy(() => connectOnce(options, ctx), ctx.policy, ctx.signal, {
    withinMs: ctx.policy.reconnect.connectTimeout,
  });
}

async function connectOnce(options: RedisDriverOptions, ctx: ConnectContext): Promise<RedisClient> {
  const state = newClientState();
  state.policy = ctx.policy;
  state.idempotencyKeyTtlMs = options.idempotencyKeyTtl;
  state.waitForReplicas = options.waitForReplicas;
  const client = createRedisClient(options, {
    policy: ctx.policy,
    target: ctx.target,
    deferReconnect: () => state.watched,
  });
  track(client, state);
  withoutCommandTimeout(client);
  try {
    await abortable(client.connect(), ctx.signal);
    reconfigureClient(client, ctx.policy);
    return client;
  } catch (error) {
    // connect() rejects at the first close, but ioredis would keep retrying in the background:
    // this client is abandoned, the lifecycle's next attempt makes a new one.
    state.closing = true;
    client.disconnect();
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    throw redactRedisError(await refusalOf(client, state.lastError ?? error));
  }
}

// Resolves when a connect attempt in progress ends ready; rejects when it ends closed.
function attemptOutcome(client: RedisClient): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      client.off('ready', onReady);
      client.off('close', onClose);
      client.off('end', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = () => done();
    const onClose = () => {
      const last = stateOf(client).lastError;
      done(last instanceof Error ? last : closedWithoutError());
    };
    client.on('ready', onReady);
    client.on('close', onClose);
    client.on('end', onClose);
  });
}

// The reconnect attempt in progress, through a busy server: each connect refused at maxclients is followed by a
// jittered wait and another connect, within the attempt's signal (issue #26).
async function reconnected(client: RedisClient, signal: AbortSignal): Promise<void> {
  const once = async (n: number): Promise<void> => {
    if (n > 1) reconnectClient(client);
    try {
      await abortable(attemptOutcome(client), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      throw await refusalOf(client, error);
    }
  };
  const policy = stateOf(client).policy;
  if (policy === undefined) return once(1);
  // The lifecycle bounds each probe of a reconnect attempt by the health check's timeout, within connectTimeout.
  const withinMs = Math.min(policy.healthCheck.timeout, policy.reconnect.connectTimeout);
  await connectThroughBusy(once, policy, signal, { withinMs });
}

async function probe(client: RedisClient, ctx: ProbeContext): Promise<void> {
  const [command = 'PING', ...args] = (ctx.query ?? 'PING').trim().split(/\s+/);
  try {
    // A reconnect attempt is running (the lifecycle's attempt is reconnectNow + probe): its outcome is
    // the probe's, rather than an instant "Stream isn't writeable".
    if (client.status === 'connecting' || client.status === 'connect') await reconnected(client, ctx.signal);
    await abortable(client.call(command, ...args), ctx.signal);
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
  if (client.status === 'ready') await settledWithin(client.quit(), 500);
  // Between attempts there is no socket: disconnect() only cancels the timer, and ioredis then never
  // emits `end` (its status stays `reconnecting`), so there is nothing to wait for.
  const socketOpen =
    client.status !== 'reconnecting' && client.status !== 'close' && client.status !== 'wait';
  client.disconnect();
  if (socketOpen) await settledWithin(ended, 2500);
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
  // Commands an operation sends follow its attempt: refused once it has ended, timed out at its own limit.
  bindAttempt: bindClientToAttempt,
  watch: watchClient,
  reconnectNow: reconnectClient,
  reconfigure: (client, policy) => {
    stateOf(client).policy = policy;
    reconfigureClient(client, policy);
    reconfigureReads(client, policy);
  },
  describe: describeRedisOptions,
  // db.namespace (the database index), the server's address, the connection's peer.
  telemetry: redisTelemetry,
  secretKeys: redisSecretKeys,
});
