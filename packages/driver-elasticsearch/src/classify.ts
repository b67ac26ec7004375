import { classifySocketError, isAbortError, isAttemptEndedError, type Classification } from '@reconnect/core';
import { isElasticsearchDriverError } from './errors.js';

/** What the client's errors carry (`ResponseError.meta`, `ConnectionError`), as far as classification reads it. */
interface EsErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  meta?: { statusCode?: unknown; headers?: Record<string, unknown> | null; body?: unknown } | null;
}

/**
 * Error types of a 503 that Elasticsearch answers before touching any document: no master, no active primary,
 * a cluster block. The request did not run, so even a `POST _doc` may be retried.
 */
export const notAppliedErrorTypes: readonly string[] = [
  'unavailable_shards_exception',
  'master_not_discovered_exception',
  'cluster_block_exception',
  'no_shard_available_action_exception',
  'node_not_connected_exception',
  'node_closed_exception',
  'circuit_breaking_exception',
  'es_rejected_execution_exception',
];
// Holds strings only; typed to take an answer without a type (`undefined`), which it never holds.
const notApplied: ReadonlySet<string | undefined> = new Set(notAppliedErrorTypes);

// undici's own codes, kept as the cause of a failed request by the driver's connection (connection.ts); Node's socket
// codes (ECONNREFUSED, ECONNRESET…) are the core kit's.
// A Map, not an object: a code is looked up as it is (a code that is not a string finds nothing), and a code such as
// `constructor` or `toString` is not an Object.prototype member.
const undiciCodes: ReadonlyMap<unknown, Classification> = new Map<string, Classification>([
  // The TCP (or TLS) connection was never made: nothing was written.
  ['UND_ERR_CONNECT_TIMEOUT', { kind: 'connection', code: 'CONNECT_TIMEOUT', sent: false }],
  // The pool was closed before the request was dispatched.
  ['UND_ERR_CLOSED', { kind: 'connection', code: 'CLIENT_CLOSED', sent: false }],
  // The socket closed with the request in flight ("other side closed"): it may have run.
  ['UND_ERR_SOCKET', { kind: 'connection', code: 'SOCKET_CLOSED' }],
  // The pool was destroyed (a hung node's client closed): a request in flight may have run.
  ['UND_ERR_DESTROYED', { kind: 'connection', code: 'CLIENT_DESTROYED' }],
  ['UND_ERR_HEADERS_TIMEOUT', { kind: 'timeout', code: 'REQUEST_TIMEOUT' }],
  ['UND_ERR_BODY_TIMEOUT', { kind: 'timeout', code: 'REQUEST_TIMEOUT' }],
]);

/** The causes of `error`, outermost first (elastic-transport wraps the connection's error once more). */
function* causesOf(error: object): Generator<unknown> {
  let cause = (error as { cause?: unknown }).cause;
  for (let depth = 0; depth < 4 && typeof cause === 'object' && cause !== null; depth++) {
    yield cause;
    cause = (cause as { cause?: unknown }).cause;
  }
}

/** A ConnectionError by the code of its cause: refused / DNS / connect timeout (not sent) vs. lost in flight. */
function classifyConnectionError(error: object): Classification {
  for (const cause of causesOf(error)) {
    // The driver's own (a socket that never connected: its client closed while the pacer held it back).
    if (isElasticsearchDriverError(cause)) return { ...cause.classification };
    const socket = classifySocketError(cause);
    if (socket !== undefined) return socket;
    const undici = undiciCodes.get((cause as { code?: unknown }).code);
    if (undici !== undefined) return { ...undici };
    if (isAbortError(cause)) return { kind: 'timeout', code: 'ABORTED' };
  }
  // No code to read (a client the driver did not make): it may have been sent.
  return { kind: 'connection', code: 'CONNECTION_ERROR' };
}

/** The `error.type` of an Elasticsearch error body (`version_conflict_engine_exception`), if any. */
export function errorType(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null) {
    const type = (error as { type?: unknown }).type;
    return typeof type === 'string' ? type : undefined;
  }
  return undefined;
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date (relative to `now`); undefined when absent or
 * unreadable.
 */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
  const text: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof text !== 'string' && typeof text !== 'number') return undefined;
  const s = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Whether an answer came from Elasticsearch itself: every answer of Elasticsearch 8 and 9 (errors and HEAD included)
 * carries `x-elastic-product: Elasticsearch`; a proxy's own error page does not.
 */
function fromElasticsearch(headers: unknown): boolean {
  const product = (headers as Record<string, unknown> | null | undefined)?.['x-elastic-product'];
  return (Array.isArray(product) ? (product as unknown[])[0] : product) === 'Elasticsearch';
}

/**
 * A 502/503/504 with neither an Elasticsearch error body nor its product header: a proxy or load balancer in front
 * of the node answered for it, because it could not reach Elasticsearch behind it (502, 503) or not in time (504).
 * For the node pool that is the node being unreachable, so it is a `connection` (502, 503) or `timeout` (504)
 * failure, which passive health counts: repeated, the node is marked dead and traffic goes to the others. (As
 * `transient`, what Elasticsearch's own 503s are, the node took its share of the traffic for ever.)
 *
 * `sent` stays unknown for all three, because nothing in the answer proves that the proxy refused before forwarding:
 * - 502: nginx says it when the upstream "prematurely closed connection while reading response header", that is,
 *   with the request already written to it (and also when the connect was refused, which it cannot be told from);
 * - 503: HAProxy's "no server is available" and an ingress without endpoints never forwarded, but Envoy's 503
 *   "upstream connect error or disconnect/reset before headers" also covers a reset after the request went out;
 * - 504: the upstream took the request and did not answer in time; it may well have run it.
 * So a non-idempotent write so answered ends `outcome: unknown` (it may have landed), and idempotent requests are
 * retried on another node; what keeps the count of unknown writes small is routing away from the node quickly.
 */
function proxyAnswer(statusCode: 502 | 503 | 504): Classification {
  return {
    kind: statusCode === 504 ? 'timeout' : 'connection',
    code: statusCode,
    statusCode,
    message:
      statusCode === 504
        ? 'A proxy in front of the node answered 504 (its Elasticsearch did not answer in time); the request may have run'
        : `A proxy in front of the node answered ${statusCode} (it could not reach its Elasticsearch); the request may have reached it`,
  };
}

/**
 * Whether an error body holds a `circuit_breaking_exception` whose `durability` is `PERMANENT` — at its top, down
 * its `caused_by` chain or among its `root_cause`s. Elasticsearch says PERMANENT when the request alone would trip
 * the breaker (a request or fielddata breaker's limit, not the parent's momentary memory use): the same request
 * trips it again however long one waits.
 */
function isPermanentCircuitBreak(body: unknown): boolean {
  // Bodies, causes and roots are whatever the answer holds (a proxy's text, null): read with `?.`, never assumed.
  type Cause =
    { type?: unknown; durability?: unknown; caused_by?: unknown; root_cause?: unknown } | null | undefined;
  const permanent = (cause: unknown): boolean => {
    const c = cause as Cause;
    return c?.type === 'circuit_breaking_exception' && c.durability === 'PERMANENT';
  };
  const top = (body as { error?: unknown } | null | undefined)?.error;
  // The cause chain (five deep; past its end `cause` is undefined) and the roots are bounded: an answer is not
  // trusted to be small.
  let cause: unknown = top;
  for (let depth = 0; depth < 5; depth++) {
    if (permanent(cause)) return true;
    cause = (cause as Cause)?.caused_by;
  }
  const roots = (top as Cause)?.root_cause;
  return Array.isArray(roots) && roots.slice(0, 10).some(permanent);
}

/** The server's `Retry-After`, as a classification's `retryAfterMs` (nothing when absent or unreadable). */
function pushback(headers: unknown): { retryAfterMs?: number } {
  const wait = retryAfterMs((headers as Record<string, unknown> | null | undefined)?.['retry-after']);
  return wait === undefined ? {} : { retryAfterMs: wait };
}

/** A ResponseError: the server answered with an error status. */
export function classifyResponse(statusCode: number, body: unknown, headers: unknown): Classification {
  const type = errorType(body);
  const code = type ?? statusCode;
  const base = { code, statusCode };
  if (statusCode === 429) {
    // A breaker the request itself trips (PERMANENT) trips again on any node after any wait: retrying only adds
    // load. It is `fatal` (never in a retryOn's kinds; the server is up, as for the breaker and health) and keeps
    // its type and status. It was refused before it ran, so it is not sent.
    if (isPermanentCircuitBreak(body))
      return {
        kind: 'fatal',
        ...base,
        sent: false,
        message:
          'Elasticsearch refused the request with a PERMANENT circuit_breaking_exception: the request alone exceeds a memory limit, so it is not retried',
      };
    // Rejected before it ran (the node's queue is full, a TRANSIENT breaker): never applied.
    return { kind: 'throttled', ...base, sent: false, ...pushback(headers) };
  }
  if (statusCode === 401 || statusCode === 403) {
    // A cluster block (read-only index, no master) is a 403 with its own type; it is not about credentials.
    if (type === 'cluster_block_exception') return { kind: 'transient', ...base, sent: false };
    return { kind: 'auth', ...base, sent: false };
  }
  if (statusCode === 502 || statusCode === 503 || statusCode === 504) {
    // A 503's Retry-After (a load balancer in maintenance, a server shedding load) is a floor on the wait.
    const hint = statusCode === 503 ? pushback(headers) : {};
    if (type === undefined && !fromElasticsearch(headers)) return { ...proxyAnswer(statusCode), ...hint };
    // Elasticsearch's own 503s refused the request before it ran; others (a type not listed, or no body) may not have.
    const refused = notApplied.has(type);
    return { kind: 'transient', ...base, ...(refused ? { sent: false } : {}), ...hint };
  }
  if (statusCode === 408) return { kind: 'timeout', ...base };
  if (statusCode === 400 && type === 'media_type_header_exception') {
    return {
      kind: 'fatal',
      ...base,
      sent: false,
      message:
        'The server refused the compatible-with header: it is an older major version; set the option compatibility: 8',
    };
  }
  if (statusCode === 500 && notApplied.has(type)) return { kind: 'transient', ...base, sent: false };
  return { kind: 'fatal', ...base };
}

/**
 * Maps any error @elastic/elasticsearch (or this driver) throws onto the policy's vocabulary, by the error's class
 * (`err.name`) or code, the code of its cause, the HTTP status and the body's `error.type`; never by message text.
 * The table is in the README.
 */
export function classifyElasticsearchError(error: unknown): Classification {
  // A request an abandoned operation sent after its attempt ended: refused before anything was written.
  if (isAttemptEndedError(error)) return { kind: 'timeout', code: error.code, sent: false };
  // The driver's own errors say what they are, from construction.
  if (isElasticsearchDriverError(error)) return { ...error.classification };
  // Anything may be thrown: a primitive or null reads as an object with nothing to classify it by.
  const e = Object(error) as EsErrorShape;
  switch (e.name) {
    case 'ResponseError': {
      // The HTTP status: the answer's own (its body may say anything, e.g. a proxy's JSON page).
      const { statusCode, body, headers } = e.meta ?? {};
      if (typeof statusCode !== 'number') return { kind: 'unknown' };
      return classifyResponse(statusCode, body, headers);
    }
    case 'ConnectionError':
      return classifyConnectionError(e);
    case 'TimeoutError':
      // The client's requestTimeout (or undici's headers timeout) — or an AbortSignal.timeout() DOMException.
      return { kind: 'timeout', code: 'REQUEST_TIMEOUT' };
    case 'RequestAbortedError':
      // Also raised for an answer larger than maxResponseSize (the request's fault): its cause says so.
      for (const cause of causesOf(e))
        if (isElasticsearchDriverError(cause)) return { ...cause.classification };
      return { kind: 'timeout', code: 'ABORTED' };
    case 'NoLivingConnectionsError':
      return { kind: 'connection', code: 'NO_LIVING_CONNECTIONS', sent: false };
    case 'ProductNotSupportedError':
      return {
        kind: 'fatal',
        code: 'PRODUCT_NOT_SUPPORTED',
        message: 'The server did not identify itself as Elasticsearch (no x-elastic-product header)',
      };
    // The request could not be built: nothing was sent.
    case 'SerializationError':
      return { kind: 'fatal', code: 'SERIALIZATION', sent: false };
    case 'ConfigurationError':
      return { kind: 'fatal', code: 'CONFIGURATION', sent: false };
    // The answer could not be read: the request ran.
    case 'DeserializationError':
      return { kind: 'fatal', code: 'DESERIALIZATION' };
  }
  const socket = classifySocketError(e);
  if (socket !== undefined) return socket;
  if (isAbortError(e)) return { kind: 'timeout', code: 'ABORTED' };
  return { kind: 'unknown' };
}
