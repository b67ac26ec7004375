// Generic: nothing here is MySQL's. Candidates for core's driver kit.

/** Resolves `true` when `promise` settles within `ms`, `false` otherwise; never rejects; leaves no timer. */
export function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/**
 * Closes something gracefully, bounded: `graceful()` gets `graceMs` to finish; if it has not, `force()`
 * runs (destroy the sockets left) and gets `forceMs` more. Resolves `'graceful'`, `'forced'`, or `'abandoned'`
 * (neither finished in time); never rejects.
 */
export async function closeWithin(
  graceful: () => Promise<unknown>,
  force: () => void,
  { graceMs, forceMs = 500 }: { graceMs: number; forceMs?: number },
): Promise<'graceful' | 'forced' | 'abandoned'> {
  let closing: Promise<unknown>;
  try {
    closing = graceful();
  } catch (error) {
    closing = Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  closing.catch(() => undefined);
  if (graceMs > 0 && (await settledWithin(closing, graceMs))) return 'graceful';
  try {
    force();
  } catch {
    // forcing is best effort: the sockets may already be gone
  }
  return (await settledWithin(closing, forceMs)) ? 'forced' : 'abandoned';
}
