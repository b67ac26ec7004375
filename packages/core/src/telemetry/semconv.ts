import type { Attributes } from '@opentelemetry/api';
import { kindMeanings, type Classification } from '../error-kinds.js';
import { AttributeNames as A, DeprecatedAttributeNames as D } from './names.js';

// The OpenTelemetry database conventions as Reconnect applies them: which names to emit, a span's name, the
// query text's sanitising, and what `error.type` / `db.response.status_code` say of a failure.

/** What a target's telemetry says of its database: the driver's word, completed by the target's nodes. */
export interface DbFacts {
  /** `db.system.name`. */
  readonly system: string;
  /** `db.namespace`. */
  readonly namespace?: string | undefined;
  /** `server.address` of a single-server target. */
  readonly serverAddress?: string | undefined;
  /** `server.port`, with `serverAddress`. */
  readonly serverPort?: number | undefined;
  /** `network.peer.address` of a single-server target's connection (the socket's peer), when the driver knows it. */
  readonly peerAddress?: string | undefined;
  /** `network.peer.port`, with `peerAddress`. */
  readonly peerPort?: number | undefined;
}

/** Which names to emit, read from the environment when a target's telemetry is made. */
export interface TelemetrySettings {
  /**
   * `OTEL_SEMCONV_STABILITY_OPT_IN` lists `database/dup`: the experimental database names (`db.system`,
   * `db.name`, `db.operation`, `db.statement`, `db.client.connections.*`) beside the stable ones.
   */
  readonly dup: boolean;
  /** `RECONNECT_OTEL_QUERY_TEXT=true`: record `execute(fn, { query })` as `db.query.text`, sanitised. */
  readonly queryText: boolean;
}

/** The settings `env` asks for (the process's environment by default). */
export function telemetrySettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): TelemetrySettings {
  const optIn = (env.OTEL_SEMCONV_STABILITY_OPT_IN ?? '').split(',').map((s) => s.trim());
  const query = (env.RECONNECT_OTEL_QUERY_TEXT ?? '').trim().toLowerCase();
  return { dup: optIn.includes('database/dup'), queryText: query === 'true' || query === '1' };
}

/**
 * The database span name of the conventions: `{db.operation.name} {target}`, where the target is the collection,
 * else the namespace (not Redis's: a bare number), else `server.address:server.port`; the target alone without an
 * operation name; `db.system.name` when neither is known.
 */
export function dbSpanName(
  facts: DbFacts,
  operation: string | undefined,
  collection: string | undefined,
): string {
  const namespace = facts.system === 'redis' ? undefined : facts.namespace;
  const server =
    facts.serverAddress === undefined
      ? undefined
      : facts.serverPort === undefined
        ? facts.serverAddress
        : `${facts.serverAddress}:${facts.serverPort}`;
  const target = collection ?? namespace ?? server;
  if (operation !== undefined && operation !== '')
    return target === undefined ? operation : `${operation} ${target}`;
  return target ?? facts.system;
}

/** An operation name as the conventions want it: consecutive spaces made one. */
export function normaliseOperationName(name: string): string {
  // Most names need nothing: test without allocating first.
  return /\s\s|[^\S ]|^ | $/.test(name) ? name.replace(/\s+/g, ' ').trim() : name;
}

// Literals of SQL and most query languages: quoted strings (with doubled or escaped quotes), hex and bit
// literals, numbers (not inside identifiers), and the boolean keywords.
const literal =
  /'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|\b[xXbB]'[0-9a-fA-F]*'|\b0[xX][0-9a-fA-F]+\b|(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b|\b(?:TRUE|FALSE|true|false)\b/g;
const inList = /\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)/gi;
/** The longest query text recorded, in characters (sanitising has a cost; a longer text is cut). */
export const maxQueryTextLength = 2048;

/**
 * `text` with every literal replaced by `?` and `IN (?, ?, …)` collapsed to `IN (?)`, cut at
 * {@link maxQueryTextLength}: what `db.query.text` records. Placeholders of a parameterised query stay as they are.
 */
export function sanitizeQueryText(text: string): string {
  const clean = text.replace(literal, '?').replace(inList, 'IN (?)');
  return clean.length > maxQueryTextLength ? clean.slice(0, maxQueryTextLength) : clean;
}

/**
 * The store's own status for a failure (`db.response.status_code`): the HTTP status, or the code of an error the
 * server answered with (a MySQL error number, a Redis error prefix); `undefined` when no server answered.
 */
export function responseStatusCode(classification: Classification | undefined): string | undefined {
  if (classification === undefined) return undefined;
  if (classification.statusCode !== undefined) return String(classification.statusCode);
  const code = classification.code;
  if (code === undefined || code === '' || !kindMeanings[classification.kind].serverAnswered)
    return undefined;
  return String(code);
}

/** An error's own stable string code (`ECONNRESET`, `ERR_NOT_CONNECTED`), if it has one. */
export function ownCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * `error.type` of a failure, per the conventions: the store's status when it answered, else the error's own code,
 * else the code the driver classified it with, else `_OTHER`. Never a class name: `Error` or `ReplyError` tells a
 * reader nothing and splits one failure into as many values as a client has classes.
 */
export function dbErrorType(error: unknown, classification: Classification | undefined): string {
  const status = responseStatusCode(classification);
  if (status !== undefined) return status;
  const own = ownCode(error);
  if (own !== undefined) return own;
  const code = classification?.code;
  return code === undefined || code === '' ? '_OTHER' : String(code);
}

/**
 * `attributes` with the experimental names added beside the stable ones they replace (`database/dup`):
 * `db.system`, `db.name`, `db.operation`, `db.statement`.
 */
export function withDeprecatedNames(attributes: Attributes): Attributes {
  const renamed: [string, string][] = [
    [A.DB_SYSTEM_NAME, D.DB_SYSTEM],
    [A.DB_NAMESPACE, D.DB_NAME],
    [A.DB_OPERATION_NAME, D.DB_OPERATION],
    [A.DB_QUERY_TEXT, D.DB_STATEMENT],
  ];
  const out: Attributes = { ...attributes };
  for (const [stable, old] of renamed) if (attributes[stable] !== undefined) out[old] = attributes[stable];
  return out;
}
