import { UndiciConnection, type ConnectionOptions } from '@elastic/elasticsearch';

// The connection class of every client the driver makes: elastic-transport's UndiciConnection, seen at the one place
// it calls undici (`pool.request`).
//
// Its `timeout` (the client's `requestTimeout`: the policy's attemptTimeout) is undici's headers and body timeout for
// every request on the pool, whatever the request's own limit. A request that carries an attempt's signal is
// bounded by that signal (the call's own attemptTimeout, its deadline, the caller's abort: attempt-client.ts), so it
// runs without them. A per-request `requestTimeout` cannot do this: elastic-transport implements it as a timer that
// dispatches a synthetic 'abort' event on the request's signal (here the attempt's, which others listen to) and
// stops at the headers. Every other request (connect, probe, discover, the raw client) keeps the policy's limit.

const attemptSignals = new WeakSet<AbortSignal>();

/** Marks `signal` as an attempt's: a request that carries it is bounded by it, not by the policy's attemptTimeout. */
export function boundByAttempt(signal: AbortSignal): AbortSignal {
  attemptSignals.add(signal);
  return signal;
}

/** What UndiciConnection hands undici's `pool.request`, as far as this module reads and sets it. */
interface PoolRequest {
  signal?: unknown;
  headersTimeout?: number;
  bodyTimeout?: number;
}

type PoolRequestFn = (this: unknown, params: PoolRequest) => Promise<unknown>;

/** UndiciConnection whose requests bounded by an attempt's signal run without undici's timeouts (see above). */
export class DriverConnection extends UndiciConnection {
  constructor(options: ConnectionOptions) {
    super(options);
    // Also a pool from the user's `agent` function: anything with undici's `request(params)`.
    const pool = this.pool as unknown as { request: PoolRequestFn };
    const request = pool.request;
    pool.request = function requestFollowingAttempt(this: unknown, params: PoolRequest) {
      if (attemptSignals.has(params.signal as AbortSignal)) {
        // 0: no timer (undici's own meaning); the request object is UndiciConnection's, made for this request.
        params.headersTimeout = 0;
        params.bodyTimeout = 0;
      }
      return request.call(this, params);
    };
  }
}
