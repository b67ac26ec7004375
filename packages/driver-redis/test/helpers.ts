import { resolvePolicy, type ConnectContext, type PolicyInput, type ResolvedPolicy } from '@reconnect/core';
import type { ConnectionMonitor } from '@reconnect/core';

/** A ConnectContext for calling the driver directly, as the lifecycle would. */
export function connectContext(
  policy: PolicyInput | ResolvedPolicy = {},
  signal = new AbortController().signal,
): ConnectContext {
  return { policy: resolvePolicy(policy), signal, target: 'test' };
}

/** Resolves when `predicate` holds, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  everyMs = 5,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
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

/** How a promise ended within `ms`: settled (with value or error) or still pending. */
export async function settledWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ state: 'fulfilled'; value: T } | { state: 'rejected'; error: unknown } | { state: 'pending' }> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<{ state: 'pending' }>((r) => {
    timer = setTimeout(() => r({ state: 'pending' }), ms);
  });
  const result = await Promise.race([
    promise.then(
      (value) => ({ state: 'fulfilled' as const, value }),
      (error: unknown) => ({ state: 'rejected' as const, error }),
    ),
    pending,
  ]);
  clearTimeout(timer);
  return result;
}
