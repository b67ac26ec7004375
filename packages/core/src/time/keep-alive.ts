// Every library timer is unref'd, so a service never stays up because of Reconnect alone. But while a caller
// awaits the library (start(), an operation waiting for a connection), the process must not exit under it:
// with nothing else keeping the event loop alive, Node would quit on the unsettled await, silently.

let holders = 0;
let handle: ReturnType<typeof setInterval> | undefined;

/**
 * Keeps the process alive until the returned function is called (idempotent). One ref'd timer serves every
 * holder; it is cleared when the last one lets go.
 */
export function holdProcess(): () => void {
  hold();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    letGo();
  };
}

/** {@link holdProcess} without the function: each `hold()` must be matched by exactly one {@link letGo}. */
export function hold(): void {
  if (holders++ === 0) handle = setInterval(() => undefined, 1 << 30);
}

/** Ends one {@link hold}. */
export function letGo(): void {
  if (--holders === 0 && handle !== undefined) {
    clearInterval(handle);
    handle = undefined;
  }
}

/** How many callers currently hold the process alive (for tests). */
export function processHolders(): number {
  return holders;
}
