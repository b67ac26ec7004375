import { maxTimerMs, reconnectDelays, type RandomSource, type ResolvedPolicy } from '@reconnect/core';
import { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import { replyCode } from './classify.js';

/**
 * The longest timer Node accepts (~24.8 days): while the lifecycle owns the reconnect schedule, ioredis
 * waits in `reconnecting` on this timer and the lifecycle's attempts (`reconnectNow`) cancel it.
 */
export const deferredReconnectMs = maxTimerMs;

/** Options of {@link reconnectStrategy}. */
export interface ReconnectStrategyOptions {
  random?: RandomSource;
  /**
   * True while someone else (the lifecycle, through `watch` / `reconnectNow`) runs the policy's reconnect
   * schedule for this client: ioredis then waits instead of running a second schedule beside it.
   */
  deferred?: () => boolean;
}

/**
 * A retry strategy in ioredis's shape (`times` is 1-based and resets on `ready`) that follows the
 * policy's `reconnect` section: the backoff (or `reconnect.delay`) for `maxRetries` attempts, then
 * the backoff cap for ever (`onExhausted: keep-probing`) or give up (`stop`, the client ends).
 */
export function reconnectStrategy(
  policy: Pick<ResolvedPolicy, 'reconnect'>,
  options: ReconnectStrategyOptions | RandomSource = {},
): (times: number) => number | null {
  const { random = Math.random, deferred } =
    typeof options === 'function' ? { random: options, deferred: undefined } : options;
  // The schedule itself is the driver kit's; what is ioredis's own is standing aside while watched.
  const delays = reconnectDelays(policy, random);
  return (times) => (deferred?.() === true ? deferredReconnectMs : delays(times));
}

/**
 * READONLY means we reached a replica (a Sentinel or manual failover demoted our master): reconnect
 * so the connector asks for the master again. `1` reconnects without re-sending the failed command.
 */
export function reconnectOnReadonly(error: Error): 1 | false {
  return replyCode(error.message) === 'READONLY' ? 1 : false;
}

/** How often a client whose server answers LOADING asks again whether it is ready (ioredis's `maxLoadingRetryTime`). */
export const loadingRecheckMs = 500;

/**
 * The ioredis options a policy decides, for one connection (standalone, Sentinel, or a cluster node).
 *
 * - `enableOfflineQueue: false`: while disconnected a command fails at once, unsent, and the lifecycle
 *   waits for the reconnect bounded by the operation's deadline; nothing queues without bound.
 * - `maxRetriesPerRequest: 0`: every command in flight when the connection drops is rejected at that
 *   moment (`MaxRetriesPerRequestError`, outcome unknown) instead of hanging — with
 *   `autoResendUnfulfilledCommands: false` ioredis would otherwise drop them unsettled.
 * - `commandTimeout = retry.attemptTimeout`: no command waits for a reply longer than one attempt may. None for
 *   `attemptTimeout: 0` (no limit): ioredis would take 0 as a timer of 0 ms and time out nearly every command.
 *   Commands an operation sends through its target get their own attempt's limit instead (attempt-client.ts).
 */
export function connectionOptions(policy: ResolvedPolicy): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableReadyCheck: true,
    // A server still loading its dataset is asked again within this, not after its own ETA (up to ioredis's 10 s):
    // the fault matrix's `loading` cell came back 7–8 s after the load had finished.
    maxLoadingRetryTime: loadingRecheckMs,
    ...commandTimeout(policy),
    connectTimeout: policy.reconnect.connectTimeout,
    // A graceful close waits this long for the server's FIN; a hung server never sends it.
    disconnectTimeout: Math.min(policy.reconnect.connectTimeout, 2000),
    reconnectOnError: reconnectOnReadonly,
  };
}

function commandTimeout(policy: ResolvedPolicy): { commandTimeout?: number } {
  const ms = policy.retry.attemptTimeout;
  return ms > 0 ? { commandTimeout: ms } : {};
}

/** Sets (or, for no limit, removes) `options.commandTimeout`. */
function setCommandTimeout(options: RedisOptions, policy: ResolvedPolicy): void {
  const { commandTimeout: ms } = commandTimeout(policy);
  if (ms === undefined) delete options.commandTimeout;
  else options.commandTimeout = ms;
}

/**
 * A reloaded policy on a live client: ioredis reads `options.commandTimeout` as it sends each command, so the
 * new `retry.attemptTimeout` applies from the next command, without a reconnect. A Cluster's live node
 * connections and the options it gives nodes it connects later both follow.
 */
export function reconfigureClient(client: Redis | Cluster, policy: ResolvedPolicy): void {
  setTimeouts(client, policy);
}

/**
 * While the first connect runs, no command timeout at all: the connect (ioredis's ready check included) is
 * bounded by `reconnect.connectTimeout` through the connect's signal, like every other driver's, so a silent
 * server reads the same on every store (`reconnect check`: the connect did not finish within connectTimeout)
 * instead of "Command timed out" at the shorter attemptTimeout. {@link reconfigureClient} sets it once ready.
 */
export function withoutCommandTimeout(client: Redis | Cluster): void {
  setTimeouts(client, undefined);
}

function setTimeouts(client: Redis | Cluster, policy: ResolvedPolicy | undefined): void {
  const set = (options: RedisOptions): void => {
    if (policy === undefined) delete options.commandTimeout;
    else setCommandTimeout(options, policy);
  };
  if (client instanceof Cluster) {
    const nodeOptions = (client.options as { redisOptions?: RedisOptions }).redisOptions;
    if (nodeOptions !== undefined) set(nodeOptions);
    for (const node of client.nodes()) set(node.options);
    return;
  }
  set(client.options);
}

/** The Redis Cluster options a policy decides; node connections get {@link connectionOptions}. */
export function clusterOptions(
  policy: ResolvedPolicy,
  strategy: ReconnectStrategyOptions = {},
): ClusterOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    clusterRetryStrategy: reconnectStrategy(policy, strategy),
  };
}
