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
