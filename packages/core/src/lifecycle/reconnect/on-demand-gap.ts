import type { ReconnectPolicy } from '../../policy/resolved.js';
import type { ReconnectorState } from './reconnector-state.js';

/**
 * On-demand attempts of a fleet, spread. Every instance of a service whose callers wait on a down server makes
 * on-demand attempts; after a long outage their callers' operations arrive in step (those that waited through it
 * time out together, and the next ones follow), and at one attempt per arrival after `minProbeGap` they would all
 * reach a returning server within one gap: a wall of connects. So once a target has been down for longer than a
 * blip, an on-demand attempt waits a random part of a window that grows with the time down, and the attempts
 * after it keep a gap of the same order. A caller's recovery is delayed by at most a tenth of the outage (by
 * nothing after a blip of up to ten `minProbeGap`s), never more than 5 s nor than the backoff's cap.
 */
type GapPolicy = Pick<ReconnectPolicy, 'minProbeGap' | 'backoff'>;

/** The share of the time down that the window (and the gap) grows to. */
export const onDemandGapShare = 0.1;

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

// A tenth of the time down, bounded.
const grown = (policy: GapPolicy, downForMs: number): number =>
  Math.min(Math.max(0, downForMs) * onDemandGapShare, onDemandGapCeiling, policy.backoff.max);

// Unjittered when the backoff is (`jitter: none`, the choice of a deterministic schedule).
const draw = (policy: GapPolicy, random: () => number): number =>
  policy.backoff.jitter === 'none' ? 1 : random();

/**
 * The least time from one connect attempt to the next on-demand one, drawn once per attempt:
 * `max(minProbeGap, grown × (0.5 + random / 2))`, `grown` a tenth of the time down, bounded. Jittered by half,
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
