import {
  errors,
  UndiciConnection,
  type ConnectionOptions,
  type ConnectionRequestOptions,
  type ConnectionRequestOptionsAsStream,
  type ConnectionRequestParams,
  type ConnectionRequestResponse,
  type ConnectionRequestResponseAsStream,
} from '@elastic/elasticsearch';
import { pacedConnector, SocketPacer, type Connector, type PacedConnector } from './connect-pacer.js';
import { poolGate, type PoolGate } from './pool-gate.js';
import type { RecoveryWindow } from './recovery-window.js';
import { ElasticsearchDriverError } from './errors.js';

// The connection class of every client the driver makes: elastic-transport's UndiciConnection, seen at the one place
// it calls undici (`pool.request`), for two things.
//
// 1. Time limits. Its `timeout` (the client's `requestTimeout`: the policy's attemptTimeout) is undici's headers and
//    body timeout for every request on the pool, whatever the request's own limit. A request that carries an
//    attempt's signal is bounded by that signal (the call's own attemptTimeout, its deadline, the caller's abort:
//    attempt-client.ts), so it runs without them. A per-request `requestTimeout` cannot do this: elastic-transport
//    implements it as a timer that dispatches a synthetic 'abort' event on the request's signal (here the
//    attempt's, which others listen to) and stops at the headers. Every other request (connect, probe, discover,
//    the raw client) keeps the policy's limit.
// 2. Causes. UndiciConnection rethrows undici's failure as `new ConnectionError(err.message)`: the code that says
//    whether anything was sent (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT, UND_ERR_SOCKET) is lost, and with it any way
//    but the message text to tell. The failed request is rethrown here with the failure as its `cause`, built
//    complete, so `classify` reads codes: the failure of undici's request (before the answer's headers), or the
//    error the answer's body stream was destroyed with (after them); a request cut by its signal becomes a
//    RequestAbortedError caused by the signal's reason; a RequestAbortedError raised after the headers is the
//    response size limit (`maxResponseSize`), caused by a RESPONSE_TOO_LARGE driver error.
// 3. Pacing (issue #26). undici's pool makes a socket per request in flight (up to `connections`), so a client whose
//    callers come back together after a restart opens as many sockets at once. Its connector (kept in the pool's
//    options, which it hands every client it makes) is wrapped so each new socket waits its turn (connect-pacer.ts)
//    when `connectRate` is set. By default only while the node recovers (`recoveryConnectRate`, recovery-window.ts),
//    and then on the pool's cap instead (pool-gate.ts: requests wait for the first free socket, not for their own
//    paced one), the connector only reporting what it sees. The driver's own requests (connect, probe, discover)
//    are never held back. A pool from the user's `agent` function has no such options and is not paced.

/**
 * What a request's signal says of it (one lookup per request): ATTEMPT_BOUND, bounded by the signal instead of the
 * policy's attemptTimeout (an operation's attempt, and the driver's connect, bounded by the connect's own limit);
 * DRIVER_OWN, one of the driver's own requests (connect, probe, discover), whose socket is never paced (see
 * {@link PacedConnector.unpaced}). A signal may carry both.
 */
const signalMarks = new WeakMap<AbortSignal, number>();
const ATTEMPT_BOUND = 1;
const DRIVER_OWN = 2;

function mark(signal: AbortSignal, flag: number): AbortSignal {
  signalMarks.set(signal, (signalMarks.get(signal) ?? 0) | flag);
  return signal;
}

/** Marks `signal` as an attempt's: a request that carries it is bounded by it, not by the policy's attemptTimeout. */
export function boundByAttempt(signal: AbortSignal): AbortSignal {
  return mark(signal, ATTEMPT_BOUND);
}

/** Marks `signal` as one of the driver's own requests (connect, probe, discover): its socket is not paced. */
export function notPaced(signal: AbortSignal): AbortSignal {
  return mark(signal, DRIVER_OWN);
}

/** What UndiciConnection hands undici's `pool.request`, as far as this module reads and sets it. */
interface PoolRequest {
  signal?: unknown;
  headersTimeout?: number;
  bodyTimeout?: number;
}

type PoolRequestFn = (this: unknown, params: PoolRequest) => Promise<unknown>;

/** How undici's request ended: its answer (headers received) or its failure. */
type Started = { response: unknown } | { failure: unknown };

// Errors built here carry no request metadata, so nothing to redact; elastic-transport's default, for its type.
const withCause = (cause: unknown) => ({
  cause,
  redaction: { type: 'replace' as const, additionalKeys: [] },
});

const responded = (response: unknown): Started => ({ response });
const ignore = (): void => {};
const failed = (failure: unknown): Started => ({ failure });

/** The error the answer's body stream was destroyed with, if any (Node's `readable.errored`). */
function bodyError(response: unknown): unknown {
  const body = (response as { body?: { errored?: unknown } } | null)?.body;
  return body?.errored ?? undefined;
}

/** `error` (what UndiciConnection threw) rebuilt with what it lost: see 2. above. */
async function explained(
  error: unknown,
  started: Promise<unknown> | undefined,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const e = error as { name?: unknown; message?: unknown; cause?: unknown } | null;
  const name = e?.name;
  if ((name !== 'ConnectionError' && name !== 'RequestAbortedError') || e?.cause !== undefined) return error;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (signal?.aborted === true)
    return new errors.RequestAbortedError(
      'Request aborted by its signal',
      undefined,
      withCause(signal.reason),
    );
  if (started === undefined) return error;
  const outcome = await started.then(responded, failed);
  if ('failure' in outcome)
    return name === 'ConnectionError'
      ? new errors.ConnectionError(message, undefined, withCause(outcome.failure))
      : error;
  if (name === 'RequestAbortedError') {
    // UndiciConnection destroyed the body without an error listener: undici then emits one (an AbortError) that
    // would be an uncaught exception, which ends the process.
    (outcome.response as { body?: { on?(event: 'error', fn: () => void): unknown } } | null)?.body?.on?.(
      'error',
      ignore,
    );
    const cause = new ElasticsearchDriverError('RESPONSE_TOO_LARGE', message, {
      kind: 'fatal',
      code: 'RESPONSE_TOO_LARGE',
    });
    return new errors.RequestAbortedError(message, undefined, withCause(cause));
  }
  const cause = bodyError(outcome.response);
  return cause === undefined ? error : new errors.ConnectionError(message, undefined, withCause(cause));
}

/**
 * undici's Pool keeps the options it makes each client with (the connector among them) under a symbol of its own;
 * undefined for anything else (a pool from the user's `agent` function).
 */
function poolClientOptions(pool: unknown): { connect?: unknown } | undefined {
  if (typeof pool !== 'object' || pool === null) return undefined;
  const key = Object.getOwnPropertySymbols(pool).find((s) => s.description === 'options');
  const found = key === undefined ? undefined : (pool as Record<symbol, unknown>)[key];
  return typeof found === 'object' && found !== null ? found : undefined;
}

/** How a client's new sockets are paced (0 rates: not at all). */
export interface Pacing {
  /** New sockets per second at all times (`connectRate`); when above 0, recovery is not consulted. */
  readonly connectRate: number;
  /** New sockets per second while `recovery` is active (`recoveryConnectRate`). */
  readonly recoveryConnectRate: number;
  /** The node's recovery window (shared by its successive clients). */
  readonly recovery?: RecoveryWindow | undefined;
}

const unpaced: Pacing = { connectRate: 0, recoveryConnectRate: 0 };

/**
 * Paces `pool`'s new sockets as `pacing` says (see 3. above): the connector, and while recovering the pool's gate
 * (pool-gate.ts) when undici's Pool is as expected; undefined when not paced or it cannot be.
 */
function pacePool(
  pool: unknown,
  pacing: Pacing,
): { connector: PacedConnector; gate: PoolGate | undefined } | undefined {
  const options = poolClientOptions(pool);
  if (typeof options?.connect !== 'function') return undefined;
  const connector = options.connect as Connector;
  if (pacing.connectRate > 0) {
    const paced = pacedConnector(connector, new SocketPacer({ perSecond: pacing.connectRate }));
    options.connect = paced.connect;
    return { connector: paced, gate: undefined };
  }
  const recovery = pacing.recovery;
  if (pacing.recoveryConnectRate <= 0 || recovery === undefined) return undefined;
  const pacer = new SocketPacer({ perSecond: pacing.recoveryConnectRate });
  const gate = poolGate(pool, pacer, recovery);
  const paced = pacedConnector(connector, pacer, recovery, gate !== undefined);
  options.connect = paced.connect;
  return { connector: paced, gate };
}

/** UndiciConnection whose requests follow their attempt and whose failures keep their cause (see above). */
export class DriverConnection extends UndiciConnection {
  /** The undici request `pool.request` last started: `super.request` calls it synchronously, then awaits it. */
  #started: Promise<unknown> | undefined;
  /** The pacer of the pool's new sockets, when paced. */
  readonly #paced: PacedConnector | undefined;
  /** The gate of the pool's new undici Clients while the node recovers, when paced so. */
  readonly #gate: PoolGate | undefined;

  /** `pacing`: how new sockets are paced (none by default); see {@link withPacing}. */
  constructor(options: ConnectionOptions, pacing: Pacing = unpaced) {
    super(options);
    const paced = pacePool(this.pool, pacing);
    this.#paced = paced?.connector;
    this.#gate = paced?.gate;
    // Also a pool from the user's `agent` function: anything with undici's `request(params)`.
    const pool = this.pool as unknown as { request: PoolRequestFn };
    const request = pool.request;
    pool.request = (params: PoolRequest) => {
      const marks = signalMarks.get(params.signal as AbortSignal) ?? 0;
      if ((marks & ATTEMPT_BOUND) !== 0) {
        // 0: no timer (undici's own meaning); the request object is UndiciConnection's, made for this request.
        params.headersTimeout = 0;
        params.bodyTimeout = 0;
      }
      const paced = this.#paced;
      const urgent = (marks & DRIVER_OWN) !== 0;
      this.#gate?.admit(urgent);
      const started =
        paced !== undefined && urgent
          ? paced.unpaced(() => request.call(pool, params))
          : request.call(pool, params);
      this.#gate?.settled();
      this.#started = started;
      return started;
    };
  }

  /** Sockets held back by the pacer so far (0 when not paced). */
  get pacedConnects(): number {
    return this.#paced?.held() ?? 0;
  }

  override async close(): Promise<void> {
    this.#gate?.stop();
    this.#paced?.cancel(
      new ElasticsearchDriverError(
        'CLIENT_CLOSED',
        "The client closed before this socket's turn to connect",
        { kind: 'connection', code: 'CLIENT_CLOSED', sent: false },
      ),
    );
    await super.close();
  }

  override request(
    params: ConnectionRequestParams,
    options: ConnectionRequestOptions,
  ): Promise<ConnectionRequestResponse>;
  override request(
    params: ConnectionRequestParams,
    options: ConnectionRequestOptionsAsStream,
  ): Promise<ConnectionRequestResponseAsStream>;
  override async request(
    params: ConnectionRequestParams,
    options: ConnectionRequestOptions | ConnectionRequestOptionsAsStream,
  ): Promise<ConnectionRequestResponse | ConnectionRequestResponseAsStream> {
    this.#started = undefined;
    const pending = super.request(params, options);
    const started = this.#started;
    this.#started = undefined;
    try {
      return await pending;
    } catch (error) {
      throw await explained(error, started, options.signal);
    }
  }
}

/** The connection class of a client whose pool paces its new sockets as `pacing` says. */
export function withPacing(pacing: Pacing): typeof DriverConnection {
  return class PacedConnection extends DriverConnection {
    constructor(options: ConnectionOptions) {
      super(options, pacing);
    }
  };
}
