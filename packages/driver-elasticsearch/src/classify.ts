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
const notApplied = new Set(notAppliedErrorTypes);

// ConnectionError has no undici code (elastic-transport rewraps the error with the message only): what the
// message says is all there is. Before a connection existed nothing was sent.
const notSentMessages: readonly { pattern: RegExp; code: string }[] = [
  { pattern: /ECONNREFUSED/, code: 'ECONNREFUSED' },
  { pattern: /ENOTFOUND|getaddrinfo/, code: 'ENOTFOUND' },
  { pattern: /EAI_AGAIN/, code: 'EAI_AGAIN' },
  { pattern: /EHOSTUNREACH/, code: 'EHOSTUNREACH' },
  { pattern: /ENETUNREACH/, code: 'ENETUNREACH' },
  { pattern: /EADDRNOTAVAIL/, code: 'EADDRNOTAVAIL' },
  { pattern: /Connect Timeout Error|UND_ERR_CONNECT_TIMEOUT/i, code: 'CONNECT_TIMEOUT' },
];
// Lost with the request in flight: it may have run.
const lostMessages: readonly { pattern: RegExp; code: string }[] = [
  { pattern: /other side closed/i, code: 'SOCKET_CLOSED' },
  { pattern: /ECONNRESET/, code: 'ECONNRESET' },
  { pattern: /socket hang up/i, code: 'ECONNRESET' },
  { pattern: /EPIPE/, code: 'EPIPE' },
  { pattern: /^terminated/i, code: 'SOCKET_CLOSED' },
];

// The request's AbortSignal fired (attempt timeout, deadline, the caller): undici rejects with the signal's reason
// and elastic-transport rewraps it as a ConnectionError carrying only the reason's message.
const abortedMessages = /\baborted\b|timed out|deadline of \d+ ms exceeded/i;

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

function statusOf(e: EsErrorShape): number | undefined {
  const body = e.meta?.body;
  if (typeof body === 'object' && body !== null) {
    const status = (body as { status?: unknown }).status;
    if (typeof status === 'number') return status;
  }
  return typeof e.meta?.statusCode === 'number' ? e.meta.statusCode : undefined;
}

/** A ResponseError: the server answered with an error status. */
export function classifyResponse(statusCode: number, body: unknown, headers: unknown): Classification {
  const type = errorType(body);
  const code = type ?? statusCode;
  const base = { code, statusCode };
  if (statusCode === 429) {
    const wait = retryAfterMs((headers as Record<string, unknown> | null | undefined)?.['retry-after']);
    // Rejected before it ran (the node's queue is full): never applied.
    return { kind: 'throttled', ...base, sent: false, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
  if (statusCode === 401 || statusCode === 403) {
    // A cluster block (read-only index, no master) is a 403 with its own type; it is not about credentials.
    if (type === 'cluster_block_exception') return { kind: 'transient', ...base, sent: false };
    return { kind: 'auth', ...base, sent: false };
  }
  if (statusCode === 502 || statusCode === 503 || statusCode === 504) {
    // Elasticsearch's own 503s refused the request before it ran; a proxy's 502/504 may have forwarded it.
    const refused = type !== undefined && notApplied.has(type);
    return { kind: 'transient', ...base, ...(refused ? { sent: false } : {}) };
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
  if (statusCode === 500 && type !== undefined && notApplied.has(type))
    return { kind: 'transient', ...base, sent: false };
  return { kind: 'fatal', ...base };
}

/** A ConnectionError (no undici code): refused / DNS / connect timeout (not sent) vs. lost in flight. */
export function classifyConnectionMessage(message: string): Classification {
  if (abortedMessages.test(message)) return { kind: 'timeout', code: 'ABORTED' };
  for (const r of notSentMessages)
    if (r.pattern.test(message)) return { kind: 'connection', code: r.code, sent: false };
  for (const r of lostMessages) if (r.pattern.test(message)) return { kind: 'connection', code: r.code };
  return { kind: 'connection', code: 'CONNECTION_ERROR' };
}

/**
 * Maps any error @elastic/elasticsearch (or this driver) throws onto the policy's vocabulary, by `err.name`, the
 * message, the HTTP status and the body's `error.type`. The table is in the README.
 */
export function classifyElasticsearchError(error: unknown): Classification {
  if (typeof error !== 'object' || error === null) return { kind: 'unknown' };
  // A request an abandoned operation sent after its attempt ended: refused before anything was written.
  if (isAttemptEndedError(error)) return { kind: 'timeout', code: error.code, sent: false };
  // The driver's own errors say what they are, from construction.
  if (isElasticsearchDriverError(error)) return { ...error.classification };
  const e = error as EsErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  switch (name) {
    case 'ResponseError': {
      const status = statusOf(e);
      if (status === undefined) return { kind: 'unknown' };
      return classifyResponse(status, e.meta?.body, e.meta?.headers);
    }
    case 'ConnectionError': {
      // A wrapped error may still carry the socket's code in its cause chain.
      const socket = classifySocketError(e.cause);
      return socket ?? classifyConnectionMessage(message);
    }
    case 'TimeoutError':
      // The client's requestTimeout (or undici's headers timeout) — or an AbortSignal.timeout() DOMException.
      return { kind: 'timeout', code: 'REQUEST_TIMEOUT' };
    case 'RequestAbortedError':
      // Also raised for an answer larger than maxResponseSize: that one is the request's fault.
      if (/content length/i.test(message)) return { kind: 'fatal', code: 'RESPONSE_TOO_LARGE' };
      return { kind: 'timeout', code: 'ABORTED' };
    case 'NoLivingConnectionsError':
      return { kind: 'connection', code: 'NO_LIVING_CONNECTIONS', sent: false };
    case 'ProductNotSupportedError':
      return {
        kind: 'fatal',
        code: 'PRODUCT_NOT_SUPPORTED',
        message: 'The server did not identify itself as Elasticsearch (no x-elastic-product header)',
      };
    case 'SerializationError':
    case 'ConfigurationError':
      return {
        kind: 'fatal',
        code: name === 'SerializationError' ? 'SERIALIZATION' : 'CONFIGURATION',
        sent: false,
      };
    case 'DeserializationError':
      return { kind: 'fatal', code: 'DESERIALIZATION' };
    case 'ClusterRedError':
      // The probe's verdict when `redIsDown` is set: the node answered, its cluster cannot serve.
      return { kind: 'transient', code: 'CLUSTER_RED', sent: false };
    default:
      break;
  }
  const socket = classifySocketError(e);
  if (socket !== undefined) return socket;
  if (isAbortError(e)) return { kind: 'timeout', code: 'ABORTED' };
  return { kind: 'unknown' };
}
