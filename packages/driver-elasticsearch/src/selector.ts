import type { NodeAddress, NodeSelectorFn } from '@reconnect/core';

/**
 * The seed's "hostname selector" as a function for a TS/JS config (`pool: { selector: preferHostname('es1') }`):
 * round-robin over the nodes whose URL contains `pattern` (a string, or a RegExp tested on the URL); when none
 * of the alive nodes matches, the others are used rather than failing (go-elasticsearch's version fails).
 * In a YAML policy the same is `selector: { prefer: 'es1' }`.
 */
export function preferHostname(pattern: string | RegExp): NodeSelectorFn {
  const matches = (n: NodeAddress): boolean => {
    const text = n.url ?? `${n.host}:${n.port}`;
    return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
  };
  let cursor = 0;
  return (nodes) => {
    const preferred = nodes.filter(matches);
    const from = preferred.length > 0 ? preferred : nodes;
    if (cursor >= from.length) cursor = 0;
    return from[cursor++];
  };
}
