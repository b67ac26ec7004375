import type { Classification, ErrorKind } from '../driver/driver.js';
import { ErrorCodes, isReconnectError } from '../errors.js';

/**
 * Error kinds that say something about the server's health. Only these feed the circuit breaker and
 * spend the retry budget: a `fatal` or `auth` reply proves the server is up and answering.
 */
export function reflectsServerHealth(kind: ErrorKind): boolean {
  return kind === 'connection' || kind === 'timeout' || kind === 'transient' || kind === 'throttled';
}

/**
 * The classification of an attempt's error. Reconnect's own errors (thrown by `source.acquire()` or
 * raised by the executor, such as an attempt timeout) carry their kind and outcome; a `not_sent`
 * outcome means the request provably never left, and a stopped target is never worth retrying.
 * Everything else goes to the driver's `classify`. `beforeSend` marks failures before the operation
 * ran (inside `acquire`): nothing was sent, whatever the error says.
 */
export function classifyFailure(
  error: unknown,
  classify: (error: unknown) => Classification,
  beforeSend: boolean,
): Classification {
  let c: Classification;
  if (isReconnectError(error)) {
    const kind: ErrorKind = error.kind ?? (error.code === ErrorCodes.STOPPED ? 'fatal' : 'connection');
    c = error.outcome === 'not_sent' ? { kind, sent: false } : { kind };
  } else {
    try {
      c = classify(error);
    } catch {
      // A driver whose classify throws must not turn a retryable fault into a crash of the executor.
      c = { kind: 'unknown' };
    }
  }
  return beforeSend && c.sent !== false ? { ...c, sent: false } : c;
}
