import { TestkitTimeoutError } from '../errors.js';

/** Resolves after `ms` (a real timer: the testkit measures real servers). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than `undefined`/`false`;
 * rejects with TestkitTimeoutError after `timeoutMs`. Bounded: never loops forever.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 5000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() - start >= timeoutMs) throw new TestkitTimeoutError(what, timeoutMs);
    await delay(intervalMs);
  }
}

/** Races `promise` against a timer; the timer is cleared either way. */
export async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestkitTimeoutError(what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves when `predicate` holds, polling every `everyMs`; rejects with TestkitTimeoutError after `timeoutMs`.
 * {@link waitFor} for a condition rather than a value, in the drivers' tests' short form.
 */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  everyMs = 5,
): Promise<void> {
  await waitFor('a condition', predicate, { timeoutMs, intervalMs: everyMs });
}

/**
 * How a promise ended within `ms`: settled (with its value or error) or still pending. The timer is cleared.
 * (Core's `settledWithin` answers only whether it settled, for closing clients.)
 */
export async function outcomeWithin<T>(
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
