import type { PoolPolicy, ResolvedPolicy } from '../../policy/resolved.js';
import type { Discovery, DiscoveryOptions } from './discovery.js';
import type { HealthChecker } from '../health/health-checker.js';
import type { Reconnector } from '../reconnect/reconnector.js';

/** The sections of a policy, each applied to a live target on its own. */
export type PolicySection = 'retry' | 'healthCheck' | 'reconnect' | 'circuitBreaker' | 'pool' | 'concurrency';

const sections: readonly PolicySection[] = [
  'retry',
  'healthCheck',
  'reconnect',
  'circuitBreaker',
  'pool',
  'concurrency',
];

/** The parts of a live target a new policy reaches. */
export interface LiveParts<Options, Client> {
  health: HealthChecker;
  reconnector: Reconnector;
  slots: { setPolicy(policy: ResolvedPolicy): void };
  source: { setPolicy(policy: ResolvedPolicy): void };
  /** The live node pool, for multi-node targets. */
  pool: { setPolicy(policy: PoolPolicy): void } | undefined;
  /** Discovery, and the options object it reads its policy from. */
  discovery: { options: DiscoveryOptions<Options, Client>; live: Discovery<Options, Client> } | undefined;
  /** Whether the target is connected now (discovery's interval runs only then). */
  connected: boolean;
  /** Builds the executor for the new policy (keeping the breaker and budget whose sections did not change). */
  rebuildRunner: () => void;
}

/** The sections whose values differ between two resolved policies (functions compare by identity). */
export function changedSections(before: ResolvedPolicy, after: ResolvedPolicy): Set<PolicySection> {
  return new Set(sections.filter((s) => !sameValue(before[s], after[s])));
}

/**
 * Puts `after` in force on a live target, section by section, and returns the sections it changed:
 * - `retry`, `circuitBreaker` (and the budget inside `retry`), `concurrency`: a new executor for the next
 *   operation; the breaker, budget and concurrency limiter are kept, state and all, unless their own section changed;
 * - `healthCheck`: the next probe is rescheduled on the new interval, thresholds apply to the counters as they are;
 * - `reconnect`: limits and timeouts from the next attempt; backoff from the next wait;
 * - `pool`: the live pool's rules (thresholds, dead times, resurrection) and discovery's interval; a node that
 *   is dead stays dead until its time is up under the new rule.
 * Every part reads the policy it is given for the rest (connect timeouts, probe queries, `successThreshold`).
 */
export function applyPolicy<Options, Client>(
  before: ResolvedPolicy,
  after: ResolvedPolicy,
  parts: LiveParts<Options, Client>,
): Set<PolicySection> {
  const changed = changedSections(before, after);
  parts.slots.setPolicy(after);
  parts.source.setPolicy(after);
  if (changed.has('retry') || changed.has('circuitBreaker') || changed.has('concurrency'))
    parts.rebuildRunner();
  if (changed.has('healthCheck')) parts.health.setPolicy(after.healthCheck);
  if (changed.has('reconnect')) parts.reconnector.setPolicy(after.reconnect);
  if (changed.has('pool')) {
    parts.pool?.setPolicy(after.pool);
    const discovery = parts.discovery;
    if (discovery !== undefined) {
      discovery.options.policy = after;
      if (!sameValue(before.pool.discovery, after.pool.discovery)) {
        // The interval timer restarts on the new interval (connected() starts it only while connected).
        discovery.live.stop();
        if (parts.connected) discovery.live.connected();
      }
    }
  } else if (parts.discovery !== undefined) {
    // Discovery also reads healthCheck.timeout and reconnect.connectTimeout.
    parts.discovery.options.policy = after;
  }
  return changed;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    return ka.length === kb.length && ka.every((k) => sameValue(ra[k], rb[k]));
  }
  return false;
}
