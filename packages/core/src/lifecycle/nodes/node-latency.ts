import type { NodeAddress } from '../../node-address.js';
import type { Clock } from '../../time/clock.js';

/** Weight of the newest sample in a node's average. */
const ALPHA = 0.3;
/**
 * How fast a node's average fades while it gets no traffic (time constant, ms): a node that was slow, and so is
 * no longer chosen, looks fast again after a few seconds (a 10× slower node after about 2.3 s) and gets one call,
 * which tells the truth again. One slow reply of a healthy node is forgotten as fast.
 */
export const LATENCY_DECAY_MS = 1000;
/** The most one sample may count for, as a multiple of the node's (unfaded) average before it. */
const CLIP = 3;

interface Sample {
  value: number;
  at: number;
}

/**
 * The recent latency of each node of a pool (for `pool.selector: least-latency`): an exponentially weighted
 * average of its calls' durations (successes; attempts cut at their timeout and the losers of hedged reads, whose
 * time is a lower bound, only where they raise it), fading toward zero with the time since its last call. A node never called costs 0, so
 * it is tried first.
 */
export class NodeLatency {
  readonly #samples = new Map<string, Sample>();

  constructor(readonly clock: Clock) {}

  /**
   * A call on `node` took `ms`. With `atLeast`, `ms` is only a lower bound (an attempt cut at its timeout, the loser
   * of a hedged read, cut when the other answered): it may raise the node's cost, never lower it. Counted as a
   * sample, a cut loser's short time made a slow node look fast, and with two nodes every hedge from the fast one
   * went to the slow one, which took more reads each time it lost.
   */
  observe(node: NodeAddress, ms: number, atLeast = false): void {
    const now = this.clock.now();
    const s = this.#samples.get(node.id);
    if (s === undefined) {
      this.#samples.set(node.id, { value: ms, at: now });
      return;
    }
    if (atLeast && ms <= this.#faded(s, now)) return;
    // One reply counts for at most CLIP × the node's average before it: a single slow reply (the client's own event
    // loop stalled) cannot make the fastest node look slower than a slow one, which would then take every call
    // until the fast node's cost faded. A node that really slowed down climbs ×1.6 per call and is left within a few.
    // An attempt cut at its timeout is not clipped: the node left it unanswered for that long.
    const sample = atLeast ? ms : Math.min(ms, CLIP * s.value);
    s.value = this.#faded(s, now) * (1 - ALPHA) + sample * ALPHA;
    s.at = now;
  }

  /** The node's latency estimate now (ms). */
  cost(node: NodeAddress): number {
    const s = this.#samples.get(node.id);
    return s === undefined ? 0 : this.#faded(s, this.clock.now());
  }

  #faded(s: Sample, now: number): number {
    const idle = now - s.at;
    return idle <= 0 ? s.value : s.value * Math.exp(-idle / LATENCY_DECAY_MS);
  }
}
