import { kindMeanings, type Classification, type ErrorKind } from '../error-kinds.js';
import { ErrorCodes, isReconnectError } from '../errors.js';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { BreakerStateChangeEvent } from './events.js';
import type { InterruptWhy } from './operation-run.js';

/**
 * Error kinds that say something about the server's health (the kinds table's `breakerFailure`). Only these
 * feed the circuit breaker: a `fatal` or `auth` reply proves the server is up and answering.
 */
export function reflectsServerHealth(kind: ErrorKind): boolean {
  return kindMeanings[kind].breakerFailure;
}

/**
 * The classification of an attempt's error. `beforeSend` marks failures of `source.acquire()`,
 * before the operation ran: nothing was sent, whatever the error says, and Reconnect's own errors
 * there carry their kind (`connection` by default; a stopped target is `fatal`, never retried).
 *
 * Errors thrown by the operation go to the driver's `classify` only, Reconnect's own included: an
 * operation may write, then call another target whose breaker is open, and that `BreakerOpenError`'s
 * `outcome: 'not_sent'` is about the other call, not this one. A driver that cannot classify such an
 * error says `unknown` with nothing known about the send, so a non-idempotent operation is not repeated.
 */
export function classifyFailure(
  error: unknown,
  classify: (error: unknown) => Classification,
  beforeSend: boolean,
): Classification {
  if (beforeSend && isReconnectError(error)) {
    return { kind: error.kind ?? (error.code === ErrorCodes.STOPPED ? 'fatal' : 'connection'), sent: false };
  }
  let c: Classification;
  try {
    c = classify(error);
  } catch {
    // A driver whose classify throws must not turn a retryable fault into a crash of the executor.
    c = { kind: 'unknown' };
  }
  return beforeSend && c.sent !== false ? { ...c, sent: false } : c;
}

/**
 * The classification of an attempt the executor itself cut short: at the attempt timeout or the
 * deadline it is a `timeout`, on the caller's abort `unknown` (it says nothing about the server).
 * Either may have reached the server once the operation ran (`beforeSend` false).
 */
export function interruptClassification(why: InterruptWhy, beforeSend: boolean): Classification {
  const kind: ErrorKind = why === 'aborted' || why === 'hedged' ? 'unknown' : 'timeout';
  return beforeSend ? { kind, sent: false } : { kind };
}

/**
 * Feeds `breaker` what a failed attempt says of the server; the state change it made, if any. The caller's abort,
 * its deadline, a hedge answering first, or a failure the client itself caused before sending (its pool closing, a
 * wait in its own queue) says nothing of it; nor does a read-only node's refusal. A server that answered with an
 * error (fatal, auth) is up, whatever was wrong with the request.
 */
export function judgeFailure(
  breaker: CircuitBreaker,
  classification: Classification,
  interrupt: InterruptWhy | undefined,
): BreakerStateChangeEvent | undefined {
  if (interrupt === 'aborted' || interrupt === 'deadline' || interrupt === 'hedged' || classification.local) {
    breaker.release();
    return undefined;
  }
  if (reflectsServerHealth(classification.kind) && classification.readOnlyNode !== true)
    return breaker.failure();
  if (classification.kind !== 'unknown') return breaker.success();
  breaker.release();
  return undefined;
}
