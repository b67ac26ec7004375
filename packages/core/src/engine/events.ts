// The engine's events: what the executor and the breaker report, which a target passes on as its own.

/** Payload of `retry`: an attempt failed and another follows after `delayMs`. */
export interface RetryEvent {
  operation: string | undefined;
  attempt: number;
  delayMs: number;
  error: unknown;
  reason: string;
}
/** Payload of `giveUp`: the operation failed for good. */
export interface GiveUpEvent {
  operation: string | undefined;
  attempt: number;
  reason: string;
  error: unknown;
}
/** Payload of `breakerStateChange`. */
export interface BreakerStateChangeEvent {
  from: 'closed' | 'open' | 'half-open';
  to: 'closed' | 'open' | 'half-open';
  at: number;
}

/** Callbacks for code that does not use OpenTelemetry. A callback that throws does not affect the operation. */
export interface RetryExecutorEvents {
  /** An attempt failed and another follows after `delayMs`. */
  retry?(event: RetryEvent): void;
  /** The operation failed for good. */
  giveUp?(event: GiveUpEvent): void;
}

/**
 * Calls the `name` listener, if any. One that throws is surfaced the way an EventEmitter would (rethrown
 * in a microtask), without failing the operation.
 */
export function notify<K extends keyof RetryExecutorEvents>(
  events: RetryExecutorEvents | undefined,
  name: K,
  event: Parameters<NonNullable<RetryExecutorEvents[K]>>[0],
): void {
  const listener = events?.[name];
  if (listener === undefined) return;
  try {
    (listener as (e: typeof event) => void).call(events, event);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
