import { ErrorCodes, ReconnectError } from '../errors.js';

/**
 * What the signal of a hedged read's losing attempt aborts with: another attempt of the same operation answered
 * first, so this one is cancelled (an aborted HTTP request, a `KILL QUERY`). It never reaches the caller.
 */
export class HedgeCancelledError extends ReconnectError {
  constructor() {
    super(ErrorCodes.HEDGE_CANCELLED, 'Cancelled: another attempt of this read answered first', {
      kind: 'unknown',
    });
  }
}
