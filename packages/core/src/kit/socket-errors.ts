// Driver kit: the Node socket errors every driver meets, mapped once onto kind and "sent".
import type { Classification } from '../error-kinds.js';

/**
 * Node socket error codes raised before a request could be written: the connection was never made,
 * so nothing reached the server (`sent: false`).
 */
export const refusedBeforeSendCodes: readonly string[] = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
];

/**
 * Node socket error codes on a connection that was open: a request in flight may or may not have run.
 */
export const lostInFlightCodes: readonly string[] = [
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
];

const refused = new Set(refusedBeforeSendCodes);
const lost = new Set(lostInFlightCodes);

/**
 * Classifies a Node socket error by its `code` (and `syscall`: a `connect` timeout sent nothing), or
 * returns undefined when `error` is not one.
 */
export function classifySocketError(error: unknown): Classification | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string') return undefined;
  if (refused.has(code)) return { kind: 'connection', code, sent: false };
  if (code === 'ETIMEDOUT' && syscall === 'connect') return { kind: 'connection', code, sent: false };
  if (lost.has(code)) return { kind: 'connection', code };
  return undefined;
}

/**
 * Whether `error` is what an AbortSignal rejects with (an abort, or a timeout signal): the attempt was cut by its
 * timeout, the deadline or the caller while waiting on the client; the reply may still come.
 */
export function isAbortError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'AbortError' || name === 'TimeoutError' || code === 'ABORT_ERR';
}
