import type { ReconnectError } from '../errors.js';
import type { Driver } from '../driver/driver.js';
import type { NodeAddress } from '../node-address.js';
import type { ExecuteOptions, Operation } from '../engine/types.js';
import type { PolicyInput } from '../policy/schema.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import type { Clock, RandomSource } from '../time/clock.js';
import type { Listener } from '../util/typed-emitter.js';
import type { BreakerStateChangeEvent, GiveUpEvent, RetryEvent } from '../engine/events.js';

export type { BreakerStateChangeEvent, GiveUpEvent, RetryEvent } from '../engine/events.js';

/**
 * The state of a target's connection.
 * `idle` before `start()`; `connecting` during the first connect; `connected`; `reconnecting` after a loss;
 * `failed` when `reconnect.maxRetries` is exhausted; `stopped` after `stop()`.
 */
export type TargetState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'stopped';

/** Payload of `stateChange`. */
export interface StateChangeEvent {
  from: TargetState;
  to: TargetState;
  /** The error that caused the change, if any. */
  error: unknown;
  /** The reconnect attempt number, 0 when not reconnecting. */
  attempt: number;
  /** Wall-clock time of the change (ms since the epoch). */
  at: number;
}
/** Payload of `disconnect`: the connection was lost. */
export interface DisconnectEvent {
  error: unknown;
  at: number;
}
/** Payload of `reconnect`: the connection is back. */
export interface ReconnectEvent {
  /** Scheduled connect attempts it took (the backoff schedule's; the same count as `stateChange.attempt`). */
  attempts: number;
  /** Extra attempts that waiting operations brought forward (at most one per `minProbeGap`). */
  onDemandAttempts: number;
  /** From the loss to the reconnect. */
  downtimeMs: number;
  at: number;
}
/**
 * Payload of `reconnectFailed`: one attempt of the backoff schedule failed (the 1 s, 2 s, 4 s … that
 * `reconnect explain` shows). On-demand attempts that waiting operations brought forward in between are
 * not reported one by one; `onDemandAttempts` counts those that failed since the previous report.
 */
export interface ReconnectFailedEvent {
  error: unknown;
  /** The schedule's attempt number (as in `stateChange.attempt`). */
  attempt: number;
  /** On-demand attempts that failed since the previous `reconnectFailed`. */
  onDemandAttempts: number;
  /** Milliseconds until the next scheduled attempt, or `undefined` when none is scheduled. */
  nextDelayMs: number | undefined;
}
/** Payload of `healthCheck`: one active probe finished. */
export interface HealthCheckEvent {
  ok: boolean;
  durationMs: number;
  error: unknown;
  node: NodeAddress | undefined;
}

/** Every event a target emits, by name. */
export interface TargetEvents {
  stateChange: StateChangeEvent;
  disconnect: DisconnectEvent;
  reconnect: ReconnectEvent;
  reconnectFailed: ReconnectFailedEvent;
  healthCheck: HealthCheckEvent;
  retry: RetryEvent;
  giveUp: GiveUpEvent;
  breakerStateChange: BreakerStateChangeEvent;
  nodeDead: NodeEvent;
  nodeResurrected: NodeEvent;
  allNodesDead: AllNodesDeadEvent;
}

/**
 * Payload of `allNodesDead`: every node of a multi-node target is dead; `offered` (the one whose dead time
 * ends first) is tried anyway so the target never deadlocks. Emitted once, again only after a node came back.
 */
export interface AllNodesDeadEvent {
  offered: NodeAddress;
  nodes: number;
}

/** Payload of `nodeDead` and `nodeResurrected`. */
export interface NodeEvent {
  node: NodeAddress;
  deadCount: number;
  /** For `nodeDead`: when it may be tried again (ms on the target's clock). */
  retryAt?: number;
}

/** A snapshot of one target's health. */
export interface TargetHealth {
  name: string;
  state: TargetState;
  connected: boolean;
  required: boolean;
  /** Since when (ms since the epoch) the target is in `state`. */
  since: number;
  lastError: { code?: string; message: string } | undefined;
  /** What the last successful probe reported of the server (a cluster's `green` / `yellow` / `red`), if the driver says. */
  serverStatus?: string;
  /**
   * Per node: alive, how often it died in a row, what its last probe reported (`status`), if anything, and for a
   * dead node whose last probe failed, why (`error`, redacted: a replica behind its primary, a refused connection).
   */
  nodes: {
    id: string;
    alive: boolean;
    deadCount: number;
    status?: string;
    error?: { code?: string; message: string };
  }[];
  /**
   * Nodes the last discovery found that did not answer their probe (kept out of the pool until a later discovery
   * finds them reachable), with the error and when (epoch ms). Only on targets whose driver discovers nodes.
   */
  unreachable?: { id: string; error: { code?: string; message: string } | undefined; at: number }[];
}

/** Options of `createTarget`. */
export interface TargetOptions<Options, Client> {
  name: string;
  driver: Driver<Options, Client>;
  /** Driver options (already validated, or validated here with the driver's schema). */
  options: Options;
  /** A resolved policy, or a partial one merged over the built-in defaults. */
  policy?: ResolvedPolicy | PolicyInput;
  /** Counted by readiness: `/readyz` is 200 only when every required target is connected. Default true. */
  required?: boolean;
  clock?: Clock;
  random?: RandomSource;
  /** Set to false when `options` already went through the driver's schema (the manager does this). Default true. */
  validateOptions?: boolean;
  /** Logs state changes, reconnect attempts, node and breaker changes (and give-ups at `debug`), secrets redacted. */
  logger?: Logger;
  /** The lowest level `logger` receives. Default `info`. */
  logLevel?: LogLevel;
}

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A logger Reconnect can write to: pino- and bunyan-shaped (`logger.warn(fields, message)`), or the global
 * `console` (called as `console.warn(message, fields)`). `debug` is optional.
 */
export interface Logger {
  debug?(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Options of {@link Target.start}. */
export interface StartOptions {
  /** Stops waiting for the first connect (the target keeps trying in the background). */
  signal?: AbortSignal;
  /** Overrides the policy's `reconnect.startTimeout` (milliseconds; 0 waits until connected or given up). */
  timeout?: number;
}

/** One named connection kept alive by policy. */
export interface Target<Client = unknown> {
  readonly name: string;
  readonly state: TargetState;
  /**
   * The live client, for direct use (the first node's, for multi-node targets). Throws NotConnectedError when
   * there is none: before the first connect, or while a lost client is being replaced (self-reconnecting
   * clients such as ioredis are never replaced, so theirs stays available).
   */
  readonly client: Client;
  readonly policy: ResolvedPolicy;
  /** Whether readiness (`/readyz`) waits for this target. */
  readonly required: boolean;
  /**
   * Connects (per the reconnect policy); resolves when connected, rejects if the first connect fails for good
   * (`reconnect.maxRetries` exhausted) or the target is stopped. With `maxRetries: unlimited` it waits until the
   * server is reachable; pass `signal` to stop waiting (the target keeps trying in the background).
   */
  start(options?: StartOptions): Promise<void>;
  /** Stops health checks and reconnects, closes the clients; leaves no timer or socket behind. */
  stop(): Promise<void>;
  /** Runs `op` with the policy's retries, timeouts, breaker and budget. */
  execute<T>(op: Operation<Client, T>, options?: ExecuteOptions): Promise<T>;
  isConnected(): boolean;
  lastError(): ReconnectError | Error | undefined;
  health(): TargetHealth;
  on<K extends keyof TargetEvents>(event: K, listener: Listener<TargetEvents[K]>): () => void;
  once<K extends keyof TargetEvents>(event: K, listener: Listener<TargetEvents[K]>): () => void;
  off<K extends keyof TargetEvents>(event: K, listener: Listener<TargetEvents[K]>): void;
}
