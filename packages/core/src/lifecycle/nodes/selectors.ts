import type { NodeAddress } from '../../node-address.js';
import type { PoolPolicy } from '../../policy/resolved.js';
import type { NodeSelectorFn } from '../../policy/schema.js';
import type { RandomSource } from '../../time/clock.js';

/**
 * Picks one node out of the usable ones. `nodes` is never empty; returning `undefined` means none
 * of them is acceptable. Built-in selectors keep their own state (the round-robin cursor).
 */
export type NodeSelector = (nodes: readonly NodeAddress[]) => NodeAddress | undefined;

/** Cycles through the nodes in order; the default, as in go-elasticsearch and elastic-transport. */
export function roundRobinSelector(): NodeSelector {
  let cursor = 0;
  return (nodes) => {
    // The list may shrink between calls (a node died): wrap rather than index past the end.
    if (cursor >= nodes.length) cursor = 0;
    return nodes[cursor++];
  };
}

/** Picks a node uniformly at random. */
export function randomSelector(random: RandomSource): NodeSelector {
  return (nodes) => nodes[Math.floor(random() * nodes.length)] ?? nodes[0];
}

/**
 * The seed's "hostname selector" (go-elasticsearch): round-robin over the nodes whose URL (or `host:port` when it
 * has none) contains `text`; when none of the nodes offered matches, round-robin over all of them, so a preference
 * never becomes an outage.
 */
export function preferSelector(text: string): NodeSelector {
  const preferred = roundRobinSelector();
  const others = roundRobinSelector();
  const matches = (n: NodeAddress): boolean => (n.url ?? `${n.host}:${n.port}`).includes(text);
  return (nodes) => {
    const wanted = nodes.filter(matches);
    return wanted.length > 0 ? preferred(wanted) : others(nodes);
  };
}

/**
 * Latency-aware: of two nodes picked at random, the one whose recent latency (`cost`) is lower — the "power of two
 * choices" of Finagle's and linkerd's balancers, which sends a slow node little traffic without herding every call
 * onto the single fastest node.
 */
export function leastLatencySelector(
  cost: (node: NodeAddress) => number,
  random: RandomSource,
): NodeSelector {
  return (nodes) => {
    if (nodes.length < 2) return nodes[0];
    const i = Math.floor(random() * nodes.length);
    let j = Math.floor(random() * (nodes.length - 1));
    if (j >= i) j++;
    const a = nodes[i]!;
    const b = nodes[j]!;
    return cost(b) < cost(a) ? b : a;
  };
}

/**
 * Builds the selector a pool policy names: `round-robin`, `random`, `least-latency` (with the pool's `cost` of a
 * node), `{ prefer: 'text' }` (a file can say it), or a function from a code config.
 */
export function createSelector(
  selector: PoolPolicy['selector'],
  random: RandomSource,
  cost: (node: NodeAddress) => number = () => 0,
): NodeSelector {
  if (typeof selector === 'function') return selector satisfies NodeSelectorFn;
  if (typeof selector === 'object') return preferSelector(selector.prefer);
  if (selector === 'least-latency') return leastLatencySelector(cost, random);
  return selector === 'random' ? randomSelector(random) : roundRobinSelector();
}
