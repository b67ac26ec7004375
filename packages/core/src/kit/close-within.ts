// Driver kit: closing a client within a grace period. A graceful close (QUIT, pool.end()) waits behind in-flight
// requests and never finishes on a hung server; a driver's close() must still end, and free every socket.

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
 * Closes something gracefully, bounded: `graceful()` gets `graceMs` to finish; if it has not (or it failed),
 * `force()` runs (destroy the sockets left) and gets `forceMs` more. Resolves `'graceful'`, `'forced'`, or
 * `'abandoned'` (nothing finished in time); never rejects, never waits longer than `graceMs + forceMs`.
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
  // A close that failed may have left sockets open: it is forced like one that hung.
  const succeeded = closing.then(
    () => true,
    () => false,
  );
  let ended = false;
  void succeeded.then((ok) => (ended = ok));
  if (graceMs > 0 && (await settledWithin(succeeded, graceMs)) && ended) return 'graceful';
  try {
    force();
  } catch {
    // forcing is best effort: the sockets may already be gone
  }
  return (await settledWithin(closing, forceMs)) ? 'forced' : 'abandoned';
}
