import type { ReconnectPolicy } from '../../policy/resolved.js';

/**
 * The reconnector's state, a tagged union on `status`. `attempt` counts the backoff schedule's connect
 * attempts made in the current connecting / reconnecting period (on-demand ones do not count);
 * `downSince` is when the connection was lost.
 */
export type ReconnectorState =
  | { readonly status: 'idle'; readonly since: number }
  | {
      readonly status: 'connecting';
      readonly since: number;
      readonly attempt: number;
      readonly error: unknown;
      /** Attempts a busy server refused (throttled: too many connections): they do not count toward maxRetries. */
      readonly busy?: number;
    }
  | { readonly status: 'connected'; readonly since: number }
  | {
      readonly status: 'reconnecting';
      readonly since: number;
      readonly attempt: number;
      readonly downSince: number;
      readonly error: unknown;
      /** As in `connecting`: refusals of a busy server, not counted toward maxRetries. */
      readonly busy?: number;
    }
  | {
      readonly status: 'failed';
      readonly since: number;
      readonly attempt: number;
      readonly downSince: number;
      readonly error: unknown;
      /** The first connect failed with an error retrying cannot fix (bad credentials): no attempt follows. */
      readonly final?: boolean;
    }
  | { readonly status: 'stopped'; readonly since: number };

/** What happens to a reconnector; `at` is the clock time it happened. */
export type ReconnectorInput =
  | { readonly type: 'start'; readonly at: number }
  /**
   * A connect attempt begins. `scheduled: false` marks an on-demand attempt (a waiting operation asked for it):
   * it does not count toward `maxRetries`; only the backoff schedule's attempts do.
   */
  | { readonly type: 'attempt'; readonly at: number; readonly scheduled?: boolean }
  /** The connection is (back) up: an attempt succeeded, or a self-reconnecting client said so. */
  | { readonly type: 'up'; readonly at: number }
  /**
   * A connect attempt failed. `final`: the error cannot be fixed by retrying (auth, fatal); during the first
   * connect it ends in `failed` at once with no further attempt. A reconnect keeps trying per policy.
   */
  | {
      readonly type: 'attemptFailed';
      readonly at: number;
      readonly error: unknown;
      readonly final?: boolean;
      /** False for an on-demand attempt: its failure never exhausts `maxRetries`. */
      readonly scheduled?: boolean;
      /**
       * The server is busy, not down (it refused the connection as full: max connections, maxclients): the
       * attempt is backed off like any other but not counted toward `maxRetries`.
       */
      readonly busy?: boolean;
    }
  /** The connection was lost (health checks, passive failures, or the client's own monitor). */
  | { readonly type: 'lost'; readonly at: number; readonly error: unknown }
  | { readonly type: 'stop'; readonly at: number };

/** The part of the reconnect policy the transition function needs. */
export type TransitionLimits = Pick<ReconnectPolicy, 'maxRetries'>;

/** The initial state. */
export const idleState: ReconnectorState = { status: 'idle', since: 0 };

// `maxRetries: unlimited` arrives as Infinity.
const exhausted = (attempts: number, allowed: number): boolean => attempts >= allowed;

/**
 * The reconnector's state machine, pure: the next state for one input. Inputs that do not apply to
 * a state leave it unchanged (the same object), which callers use to tell "nothing happened".
 * The first connect gets one attempt plus `maxRetries` retries; a reconnect gets `maxRetries` attempts.
 */
export function transition(
  state: ReconnectorState,
  input: ReconnectorInput,
  limits: TransitionLimits,
): ReconnectorState {
  if (state.status === 'stopped') return state;
  if (input.type === 'stop') return { status: 'stopped', since: input.at };

  switch (state.status) {
    case 'idle':
      return input.type === 'start'
        ? { status: 'connecting', since: input.at, attempt: 0, error: undefined }
        : state;

    case 'connecting':
      switch (input.type) {
        case 'attempt':
          return input.scheduled === false ? state : { ...state, attempt: state.attempt + 1 };
        case 'up':
          return { status: 'connected', since: input.at };
        case 'attemptFailed':
          if (input.final === true) {
            return {
              status: 'failed',
              since: input.at,
              attempt: state.attempt,
              downSince: state.since,
              error: input.error,
              final: true,
            };
          }
          if (input.busy === true) return { ...state, error: input.error, busy: (state.busy ?? 0) + 1 };
          // attempt 1 is the connect itself, not a retry.
          return input.scheduled !== false &&
            exhausted(state.attempt - 1 - (state.busy ?? 0), limits.maxRetries)
            ? {
                status: 'failed',
                since: input.at,
                attempt: state.attempt,
                downSince: state.since,
                error: input.error,
              }
            : { ...state, error: input.error };
        default:
          return state;
      }

    case 'connected':
      if (input.type !== 'lost') return state;
      // maxRetries 0: no reconnect attempt is allowed at all.
      return limits.maxRetries === 0
        ? { status: 'failed', since: input.at, attempt: 0, downSince: input.at, error: input.error }
        : { status: 'reconnecting', since: input.at, attempt: 0, downSince: input.at, error: input.error };

    case 'reconnecting':
      switch (input.type) {
        case 'attempt':
          return input.scheduled === false ? state : { ...state, attempt: state.attempt + 1 };
        case 'up':
          return { status: 'connected', since: input.at };
        case 'attemptFailed':
          if (input.busy === true) return { ...state, error: input.error, busy: (state.busy ?? 0) + 1 };
          return input.scheduled !== false && exhausted(state.attempt - (state.busy ?? 0), limits.maxRetries)
            ? {
                status: 'failed',
                since: input.at,
                attempt: state.attempt,
                downSince: state.downSince,
                error: input.error,
              }
            : { ...state, error: input.error };
        case 'lost':
          return { ...state, error: input.error };
        default:
          return state;
      }

    case 'failed':
      switch (input.type) {
        // Keep-probing after exhaustion: attempts go on at the cap, and success still brings it back.
        case 'attempt':
          return input.scheduled === false ? state : { ...state, attempt: state.attempt + 1 };
        case 'up':
          return { status: 'connected', since: input.at };
        case 'attemptFailed':
          return { ...state, error: input.error };
        default:
          return state;
      }
  }
}
