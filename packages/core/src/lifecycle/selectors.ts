import type { NodeAddress } from '../driver/node-address.js';
import type { PoolPolicy } from '../policy/resolved.js';
import type { NodeSelectorFn } from '../policy/schema.js';
import type { RandomSource } from '../time/clock.js';

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

/** Builds the selector a pool policy names: `round-robin`, `random` or a function from a code config. */
export function createSelector(selector: PoolPolicy['selector'], random: RandomSource): NodeSelector {
  if (typeof selector === 'function') return selector satisfies NodeSelectorFn;
  return selector === 'random' ? randomSelector(random) : roundRobinSelector();
}
