import {
  classifySocketError,
  ErrorCodes,
  isAbortError,
  isAttemptEndedError,
  type Classification,
} from '@reconnect/core';
import { driverErrorCodes, isRedisDriverError } from './errors.js';

/**
 * Redis error replies that pass by themselves. The server refused to run the command, so a retry
 * is safe even for writes (`sent: false`: it never ran, which is what `sent` protects).
 */
export const transientReplyCodes: readonly string[] = [
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
];
/** Redis error replies that mean the credentials or permissions are wrong; retrying will not help. */
export const authReplyCodes: readonly string[] = ['NOAUTH', 'WRONGPASS', 'NOPERM'];

/**
 * Node's codes for a server certificate the client refused during the TLS handshake, and what each means. The
 * server was not reached (nothing was sent) and retrying will not help until the certificate or the client's `ca`
 * changes: `auth`, like a refused password.
 */
export const tlsCertificateErrors: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is not signed by a CA this client trusts",
  UNABLE_TO_GET_ISSUER_CERT: "the server's certificate is not signed by a CA this client trusts",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is not signed by a CA this client trusts",
  SELF_SIGNED_CERT_IN_CHAIN:
    "the server's certificate chain ends in a self-signed CA this client does not trust",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed and this client does not trust it",
  CERT_UNTRUSTED: "the server's certificate is not trusted",
  CERT_SIGNATURE_FAILURE: "the server's certificate signature is invalid",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
  CERT_REVOKED: "the server's certificate was revoked",
  INVALID_PURPOSE: "the server's certificate is not meant for a TLS server (its key usage)",
  UNABLE_TO_GET_CRL:
    "the server's certificate has an issuer whose revocation list is not among this client's `crl`",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name the host this client connected to",
};

const transientSet = new Set(transientReplyCodes);
const authSet = new Set(authReplyCodes);

// ioredis's errors that have neither a code nor a class of their own, matched by prefix: ioredis throws them as
// plain Errors, or as redis-errors' AbortError / RedisError, classes it also uses for other meanings (an AbortError
// is also "No subscriber for the cluster"), so the text is the only thing that tells them apart.
const messageRules: readonly { prefix: string; classification: Classification }[] = [
  // enableOfflineQueue is off: rejected before writing while disconnected.
  {
    prefix: "Stream isn't writeable",
    classification: { kind: 'connection', code: 'NOT_CONNECTED', sent: false },
  },
  {
    prefix: "Cluster isn't ready",
    classification: { kind: 'connection', code: 'NOT_CONNECTED', sent: false },
  },
  {
    prefix: 'None of startup nodes is available',
    classification: { kind: 'connection', code: 'NO_NODE', sent: false },
  },
  {
    prefix: 'All sentinels are unreachable',
    classification: { kind: 'connection', code: 'NO_SENTINEL', sent: false },
  },
  { prefix: 'Connection is closed', classification: { kind: 'connection', code: 'CONNECTION_CLOSED' } },
  {
    prefix: 'Command aborted due to connection close',
    classification: { kind: 'connection', code: 'CONNECTION_CLOSED' },
  },
  { prefix: 'Cluster is ended', classification: { kind: 'connection', code: 'CONNECTION_CLOSED' } },
  { prefix: 'Cluster is disconnected', classification: { kind: 'connection', code: 'CONNECTION_CLOSED' } },
  { prefix: 'Connection is aborted', classification: { kind: 'connection', code: 'CONNECTION_CLOSED' } },
  { prefix: 'Connection is discarded', classification: { kind: 'connection', code: 'CONNECTION_CLOSED' } },
  { prefix: 'Command timed out', classification: { kind: 'timeout', code: 'COMMAND_TIMEOUT' } },
  { prefix: 'Socket timeout', classification: { kind: 'timeout', code: 'SOCKET_TIMEOUT' } },
  {
    prefix: 'Too many Cluster redirections',
    classification: { kind: 'transient', code: 'TOO_MANY_REDIRECTIONS' },
  },
];

/** The first word of a Redis error reply (`LOADING`, `READONLY`, `ERR`), or undefined. */
export function replyCode(message: string): string | undefined {
  const m = /^([A-Z][A-Z0-9_-]*)(?:\s|$)/.exec(message);
  return m?.[1];
}

/**
 * Maps any error ioredis (or this driver) throws onto the policy's vocabulary.
 * `code` is the reply's first word for Redis replies, the Node code for socket errors, `ERR_ATTEMPT_ENDED`
 * for core's `AttemptEndedError`, or one of this driver's labels (`NOT_CONNECTED`, `CONNECTION_CLOSED`,
 * `COMMAND_TIMEOUT`, `MAX_RETRIES_PER_REQUEST`).
 */
export function classifyRedisError(error: unknown): Classification {
  // Refused by the attempt-bound client (attempt-client.ts) because its attempt had ended: never written.
  if (isAttemptEndedError(error)) return { kind: 'timeout', code: ErrorCodes.ATTEMPT_ENDED, sent: false };
  if (isRedisDriverError(error)) return { ...driverErrorCodes[error.code], code: error.code };
  if (!(error instanceof Error)) return { kind: 'unknown' };
  const e = error as Error & { code?: unknown };

  // Not exported by ioredis: matched by name. With maxRetriesPerRequest 0 every command in flight
  // at a disconnect gets it, so it may have run.
  // Its text speaks of an option this driver does not let users set: health and logs say what happened.
  if (e.name === 'MaxRetriesPerRequestError')
    return {
      kind: 'connection',
      code: 'MAX_RETRIES_PER_REQUEST',
      message: 'The connection to Redis was lost with the command in flight; it may have run',
    };
  // Not exported by ioredis either: every node of the cluster failed to answer CLUSTER SLOTS.
  if (e.name === 'ClusterAllFailedError') return { kind: 'connection', code: 'CLUSTER_ALL_FAILED' };
  // A reply's code is its first word (the protocol has no other place for it): the text is the code here.
  if (e.name === 'ReplyError') {
    const code = replyCode(e.message);
    if (code === undefined) return { kind: 'fatal' };
    const known = byReplyCode(code);
    if (known !== undefined) return known;
    // The server's only word for it is the generic ERR: its text says which.
    if (code === 'ERR' && /max number of clients reached/i.test(e.message)) {
      return { kind: 'throttled', code: 'MAXCLIENTS', sent: false };
    }
    return { kind: 'fatal', code };
  }

  // The TLS handshake refused the server's certificate: nothing was sent, and retrying will not help.
  if (typeof e.code === 'string' && e.code in tlsCertificateErrors) {
    return {
      kind: 'auth',
      code: e.code,
      sent: false,
      message: `TLS: ${tlsCertificateErrors[e.code]} (${e.code}: ${e.message})`,
    };
  }

  // Socket errors (the driver kit's table): refused before send, or lost with a command in flight.
  const socket = classifySocketError(e);
  if (socket !== undefined) return socket;

  const rule = messageRules.find((r) => e.message.startsWith(r.prefix));
  if (rule !== undefined) return { ...rule.classification };
  // An AbortSignal fired (attempt timeout, deadline) while waiting on the client: the reply may still come.
  if (isAbortError(e)) return { kind: 'timeout', code: 'ABORTED' };

  // Reply errors re-thrown by wrappers (pipelines, scripts) keep the reply text.
  const code = replyCode(e.message);
  if (code === undefined) return { kind: 'fatal' };
  return byReplyCode(code) ?? { kind: 'fatal', code };
}

// A reply the server refused unrun: transient (a read-only node's READONLY says so: it is alive) or auth.
function byReplyCode(code: string): Classification | undefined {
  if (code === 'READONLY') return { kind: 'transient', code, sent: false, readOnlyNode: true };
  if (transientSet.has(code)) return { kind: 'transient', code, sent: false };
  if (authSet.has(code)) return { kind: 'auth', code, sent: false };
  return undefined;
}
