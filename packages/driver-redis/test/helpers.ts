import { resolvePolicy, type ConnectContext, type PolicyInput, type ResolvedPolicy } from '@reconnect/core';
import type { ConnectionMonitor } from '@reconnect/core';
export { outcomeWithin, until } from '@reconnect/testkit';

/** A ConnectContext for calling the driver directly, as the lifecycle would. */
export function connectContext(
  policy: PolicyInput | ResolvedPolicy = {},
  signal = new AbortController().signal,
): ConnectContext {
  return { policy: resolvePolicy(policy), signal, target: 'test' };
}

/** A monitor that records what it was told, with times. */
export function recordingMonitor(): ConnectionMonitor & {
  events: { type: 'up' | 'down'; at: number; error?: unknown }[];
} {
  const events: { type: 'up' | 'down'; at: number; error?: unknown }[] = [];
  return {
    events,
    up: () => events.push({ type: 'up', at: Date.now() }),
    down: (error) => events.push({ type: 'down', at: Date.now(), error }),
  };
}
