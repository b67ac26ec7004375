import type { CircuitBreakerPolicy } from '../../policy/resolved.js';

/** The public state of a circuit breaker. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Outcomes in one slice of the failure-rate window (rate mode). */
export interface RateBucket {
  /** Which slice of time (`floor(at / sliceMs)`). */
  readonly slice: number;
  readonly calls: number;
  readonly failures: number;
}

/**
 * The breaker's inner state, a tagged union: what each state needs to decide the next one.
 * - `closed`: `consecutive` failures so far (consecutive mode) and the rate-window buckets (rate mode);
 * - `open`: since when, and for how long (`openMs`); calls are refused until `openedAt + openMs`;
 * - `half-open`: trial calls admitted (`inFlight`), trial successes so far, and how long the opening before them
 *   lasted (a failed trial opens the breaker for twice that, up to `openFor`).
 */
export type BreakerState =
  | { readonly kind: 'closed'; readonly consecutive: number; readonly buckets: readonly RateBucket[] }
  | { readonly kind: 'open'; readonly openedAt: number; readonly openMs: number }
  | {
      readonly kind: 'half-open';
      readonly inFlight: number;
      readonly successes: number;
      readonly openMs: number;
    };

/**
 * How long a breaker opened from closed stays open before its first trial: 1 s, or `openFor` if shorter. Each
 * failed trial doubles the next opening, up to `openFor`. A server that answers again after a short spell (a lock
 * released, a restart of a few seconds) gets its trial within a second or two instead of after all of `openFor`
 * (30 s in the presets), while one that keeps failing its trials is left alone longer and longer: one trial per
 * opening, so the load a sick server gets from the breaker's trials only falls.
 */
export const FIRST_OPEN_MS = 1000;

function firstOpening(policy: CircuitBreakerPolicy): number {
  return Math.min(policy.openFor, FIRST_OPEN_MS);
}

function nextOpening(policy: CircuitBreakerPolicy, previousMs: number): number {
  return Math.min(policy.openFor, previousMs * 2);
}

/**
 * What happens to a breaker: a call asks to go through (`admit`), a call ends with a verdict on the
 * server's health (`success` / `failure`), or a call ends without a verdict (`release`, e.g. aborted).
 */
export type BreakerEvent =
  | { readonly type: 'admit'; readonly at: number }
  | { readonly type: 'success'; readonly at: number }
  | { readonly type: 'failure'; readonly at: number }
  | { readonly type: 'release'; readonly at: number }
  /** The server was proven healthy out of band (a reconnect's connect + probe succeeded): close. */
  | { readonly type: 'reset'; readonly at: number }
  /**
   * An active health probe passed: the server answers. A breaker open for at least `minOpenMs` (one probe interval)
   * lets its trial calls through now instead of at the end of `openFor` (they, not the probe, prove the operations
   * work again); otherwise nothing changes.
   */
  | { readonly type: 'probeOk'; readonly at: number; readonly minOpenMs: number };

/** A freshly closed breaker. */
export const closedState: BreakerState = Object.freeze({
  kind: 'closed',
  consecutive: 0,
  buckets: Object.freeze([]),
});

/** The rate window is kept as this many slices, so old outcomes age out in steps of window/10. */
export const RATE_SLICES = 10;

function sliceMs(policy: CircuitBreakerPolicy): number {
  return Math.max(1, policy.window / RATE_SLICES);
}

// The buckets after one more outcome at `slice`: those that aged out dropped (buckets are in slice order, the clock
// being monotonic), the outcome counted in the bucket of its slice, which is the last one if it exists.
function addOutcome(buckets: readonly RateBucket[], slice: number, failed: boolean): readonly RateBucket[] {
  const oldest = slice - RATE_SLICES + 1;
  let first = 0;
  while (first < buckets.length && buckets[first]!.slice < oldest) first++;
  const f = failed ? 1 : 0;
  const last = buckets[buckets.length - 1];
  if (last !== undefined && last.slice === slice) {
    const out = buckets.slice(first, -1);
    out.push({ slice, calls: last.calls + 1, failures: last.failures + f });
    return out;
  }
  const out = buckets.slice(first);
  out.push({ slice, calls: 1, failures: f });
  return out;
}

function rateTripped(policy: CircuitBreakerPolicy, buckets: readonly RateBucket[]): boolean {
  let calls = 0;
  let failures = 0;
  for (const b of buckets) {
    calls += b.calls;
    failures += b.failures;
  }
  return calls >= policy.minimumCalls && failures / calls >= policy.failureRate;
}

/**
 * The breaker's pure transition function: the state after `event`, given the policy. Returns the same
 * object when nothing changes, so the hot path (a success on a closed breaker) allocates nothing.
 */
export function transition(
  state: BreakerState,
  event: BreakerEvent,
  policy: CircuitBreakerPolicy,
): BreakerState {
  if (event.type === 'reset') return closedState;
  if (event.type === 'probeOk')
    return state.kind === 'open' && event.at >= state.openedAt + event.minOpenMs
      ? { kind: 'half-open', inFlight: 0, successes: 0, openMs: state.openMs }
      : state;
  switch (state.kind) {
    case 'closed': {
      if (event.type === 'admit' || event.type === 'release') return state;
      if (policy.mode === 'consecutive') {
        if (event.type === 'success') return state.consecutive === 0 ? state : closedState;
        const consecutive = state.consecutive + 1;
        return consecutive >= policy.failureThreshold
          ? { kind: 'open', openedAt: event.at, openMs: firstOpening(policy) }
          : { kind: 'closed', consecutive, buckets: state.buckets };
      }
      const buckets = addOutcome(
        state.buckets,
        Math.floor(event.at / sliceMs(policy)),
        event.type === 'failure',
      );
      // Only a failure can trip the breaker; a success never opens it even if the rate is still high.
      if (event.type === 'failure' && rateTripped(policy, buckets))
        return { kind: 'open', openedAt: event.at, openMs: firstOpening(policy) };
      return { kind: 'closed', consecutive: 0, buckets };
    }
    case 'open': {
      // Outcomes of calls admitted before the breaker opened say nothing new: ignore them.
      if (event.type !== 'admit' || event.at < state.openedAt + state.openMs) return state;
      return { kind: 'half-open', inFlight: 1, successes: 0, openMs: state.openMs };
    }
    case 'half-open': {
      switch (event.type) {
        case 'admit':
          return state.inFlight < policy.halfOpenMaxCalls
            ? { ...state, inFlight: state.inFlight + 1 }
            : state;
        case 'release':
          return { ...state, inFlight: Math.max(0, state.inFlight - 1) };
        case 'failure':
          return { kind: 'open', openedAt: event.at, openMs: nextOpening(policy, state.openMs) };
        case 'success': {
          const successes = state.successes + 1;
          return successes >= policy.halfOpenMaxCalls
            ? closedState
            : { ...state, inFlight: Math.max(0, state.inFlight - 1), successes };
        }
      }
    }
  }
}

/**
 * Whether an `admit` event let the call through: the state after it admitted one more call.
 * (A closed breaker always admits; an open one admits only by turning half-open.)
 */
export function admitted(before: BreakerState, after: BreakerState): boolean {
  if (after.kind === 'closed') return true;
  if (after.kind === 'open') return false;
  return before.kind === 'open' || (before.kind === 'half-open' && after.inFlight > before.inFlight);
}
