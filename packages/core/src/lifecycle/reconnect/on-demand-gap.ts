import type { ReconnectPolicy } from '../../policy/resolved.js';
import type { ReconnectorState } from './reconnector-state.js';

/**
 * On-demand attempts of a fleet, spread. Every instance of a service whose callers wait on a down server makes
 * on-demand attempts; after a long outage their callers' operations arrive in step (those that waited through it
 * time out together, and the next ones follow), and at one attempt per arrival after `minProbeGap` they would all
 * reach a returning server within one gap: a wall of connects. So once a target has been down for longer than a
 * blip, an on-demand attempt waits a random part of a window that grows with the time down, and the attempts
 * after it keep a gap of the same order. The window is a fifth of the time down past a grace of ten
 * `minProbeGap`s and at least 5 s (so nothing changes for outages up to 5.5 s — a single instance's recovery from a
 * crash or restart of a few seconds is not slowed: the drivers' acceptance tests want the first success within
 * 300 ms of the server accepting again — and a 10 s one gains at most 1 s), at most 5 s (reached 30 s down) and
 * never more than the backoff's cap. Measured with 250 MariaDB
 * instances after a 30 s outage (BENCHMARKS.md, the MariaDB fleet): a tenth of the time down with no grace left
 * the fleet's peak of new connections at about a third of raw mysql2's; this brings it to about a fifth.
 */
type GapPolicy = Pick<ReconnectPolicy, 'minProbeGap' | 'backoff'>;

/** The share of the time down (past the grace) that the window (and the gap) grows to. */
export const onDemandGapShare = 0.2;

/** How many `minProbeGap`s of time down pass before the window grows at all, and at least {@link onDemandGapGraceMs}. */
export const onDemandGapGrace = 10;

/** The least time down before the window grows at all: outages of a few seconds recover at full speed. */
export const onDemandGapGraceMs = 5_000;

/**
 * The longest window: what spreading may add to the wait of an operation whose target just came back, well
 * within the presets' 10 s deadlines. It is also never longer than the backoff's cap (`backoff.max`), so a
 * target with callers comes back no later than an idle one would.
 */
export const onDemandGapCeiling = 5_000;

/** When the target went down, for the states that make attempts (the first connect: since it began). */
export function downSince(state: ReconnectorState): number | undefined {
  if (state.status === 'reconnecting' || state.status === 'failed') return state.downSince;
  return state.status === 'connecting' ? state.since : undefined;
}

/**
 * The time down that the spread counts, across a recovery that did not hold. A target dropped again soon after it
 * came back (a server that restarts twice, a fleet's pools filling the server they just reached) is still in the
 * aftermath of the same outage, with its fleet's callers in step: counting its time down from zero would shrink its
 * window to nothing just then. So the time down it had when it came back carries over into the next loss, less the
 * time it then held up: 30 s down, up 2 s, lost again: 28 s down at once; up as long as it had been down (or only
 * the first connect behind it): from zero, as before.
 */
export class TimeDown {
  // The time down (carried over included) at the last recovery, and when it came.
  #atRecovery = 0;
  #upAt = 0;
  // What the current loss starts from.
  #carried = 0;

  /** Connected: after a loss (`downSince` its start) or, `undefined`, after the first connect (nothing to carry). */
  up(now: number, downSince: number | undefined): void {
    this.#atRecovery = downSince === undefined ? 0 : now - downSince + this.#carried;
    this.#upAt = now;
  }

  /** The connection was lost at `now`. */
  lost(now: number): void {
    this.#carried = Math.max(0, this.#atRecovery - (now - this.#upAt));
  }

  /** The time down at `now` in `state`, carried-over time included (0 in a state that makes no attempts). */
  at(state: ReconnectorState, now: number): number {
    const since = downSince(state);
    if (since === undefined) return 0;
    return now - since + (state.status === 'connecting' ? 0 : this.#carried);
  }
}

// A fifth of the time down past the grace, bounded.
const grown = (policy: GapPolicy, downForMs: number): number =>
  Math.min(
    Math.max(0, downForMs - Math.max(onDemandGapGrace * policy.minProbeGap, onDemandGapGraceMs)) *
      onDemandGapShare,
    onDemandGapCeiling,
    policy.backoff.max,
  );

// Unjittered when the backoff is (`jitter: none`, the choice of a deterministic schedule).
const draw = (policy: GapPolicy, random: () => number): number =>
  policy.backoff.jitter === 'none' ? 1 : random();

/**
 * The least time from one connect attempt to the next on-demand one, drawn once per attempt:
 * `max(minProbeGap, grown × (0.5 + random / 2))`, `grown` the window above. Jittered by half,
 * not to zero: the gap is what keeps one target's attempts apart under steady traffic. `minProbeGap: 0` asks for
 * no gap at all and gets none.
 */
export function onDemandGap(policy: GapPolicy, downForMs: number, random: () => number): number {
  if (policy.minProbeGap <= 0) return 0;
  const spread = 0.5 + draw(policy, random) / 2;
  return Math.max(policy.minProbeGap, Math.round(grown(policy, downForMs) * spread));
}

/**
 * How long an on-demand attempt for operations that just arrived waits, at the least: 0 after a blip (while
 * `grown` is no more than `minProbeGap`), then a random part of `grown` (full jitter: operations that arrive in
 * step across a fleet bring their attempts over the whole window, not to its end). 0 when the backoff is not
 * jittered (nothing to spread with) or `minProbeGap` is 0.
 */
export function onDemandDelay(policy: GapPolicy, downForMs: number, random: () => number): number {
  const window = grown(policy, downForMs);
  if (policy.backoff.jitter === 'none' || policy.minProbeGap <= 0 || window <= policy.minProbeGap) return 0;
  return Math.round(window * random());
}
