// Idempotency keys: a write the caller names runs at most once, and a replay of it learns that it ran. The
// fence is a row in a key table with the key as its primary key, inserted in the same transaction as the
// caller's statements. A replay's INSERT of the same key waits on the row lock of a transaction still open
// (even one stuck on a hung server, until the server rolls it back or commits it), then either finds the
// row — the first run committed: "already applied" — or inserts it — the first run rolled back.
import { parseDuration, type Target } from '@reconnect/core';
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { MySqlPool } from './pool.js';
import { transaction, type TransactionContext, type TransactionOptions } from './transaction.js';

/** The key table's name when none is given. */
export const defaultIdempotencyTable = 'reconnect_idempotency_keys';
/** How long a key fences its write when no `ttl` is given: a day. */
export const defaultIdempotencyTtlMs = 24 * 60 * 60 * 1000;
/** The longest key: the table's primary key is a `VARCHAR(191)` (191 × 4 bytes fits InnoDB's index limit). */
export const maxIdempotencyKeyLength = 191;

/** Where the keys live and how long they fence their write. */
export interface IdempotencyKeyOptions {
  /** The key table, `name` or `database.name` (default {@link defaultIdempotencyTable}). */
  table?: string;
  /**
   * How long a key keeps fencing its write, as a duration (`'24h'`, `'15m'`) or milliseconds (default a day).
   * Longer than any replay can come: the operation's deadline, and a caller's own retries of the whole call.
   */
  ttl?: string | number;
}

/** Options of {@link transactionOnce}: those of {@link transaction} and of the key. */
export interface TransactionOnceOptions
  extends Omit<TransactionOptions, 'idempotent'>, IdempotencyKeyOptions {}

/**
 * What a write with an idempotency key ended as. `alreadyApplied: true`: a run with this key committed before
 * (this call's own earlier attempt whose answer was lost, or an earlier call): nothing ran now, and the first
 * run's return value is not known here.
 */
export type OnceResult<T> =
  { readonly alreadyApplied: false; readonly value: T } | { readonly alreadyApplied: true };

const identifierPart = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

/** The table name, checked and quoted: it is written into SQL, so nothing but plain identifiers. */
function quotedTable(table: string = defaultIdempotencyTable): string {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => identifierPart.test(p)))
    throw new TypeError(
      `idempotency key table: "${table}" is not a table name (letters, digits, _ and $, optionally database.table)`,
    );
  return parts.map((p) => `\`${p}\``).join('.');
}

function checkedKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new TypeError('idempotency key: expected a non-empty string');
  if (key.length > maxIdempotencyKeyLength)
    throw new RangeError(
      `idempotency key: ${key.length} characters, at most ${maxIdempotencyKeyLength} (hash a longer one)`,
    );
  return key;
}

function ttlMs(ttl: string | number | undefined): number {
  if (ttl === undefined) return defaultIdempotencyTtlMs;
  const ms = parseDuration(ttl);
  if (ms === undefined || ms < 1)
    throw new RangeError(
      `idempotency key ttl: ${JSON.stringify(ttl)} is not a duration of at least 1ms ('24h', '15m', or milliseconds)`,
    );
  return ms;
}

/** The key table's DDL: create it once (a migration), or let {@link ensureIdempotencyKeyTable} do it. */
export function idempotencyKeyTableDdl(table?: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${quotedTable(table)} (\n` +
    `  idempotency_key VARCHAR(${maxIdempotencyKeyLength}) NOT NULL PRIMARY KEY,\n` +
    '  expires_at DATETIME(3) NOT NULL,\n' +
    '  KEY expires_at (expires_at)\n' +
    ') ENGINE=InnoDB'
  );
}

/** Creates the key table when it does not exist (an opt-in convenience; a migration may run the DDL instead). */
export async function ensureIdempotencyKeyTable(target: Target<MySqlPool>, table?: string): Promise<void> {
  const ddl = idempotencyKeyTableDdl(table);
  await target.execute((pool) => pool.query(ddl), {
    idempotent: true,
    name: 'idempotency keys: create table',
  });
}

/**
 * Deletes up to `limit` expired keys (default 1 000) and says how many. Run it from a periodic job: an expired
 * key that is still in the table fences nothing (a new run with it proceeds), it only takes space.
 */
export async function pruneIdempotencyKeys(
  target: Target<MySqlPool>,
  options: { table?: string; limit?: number } = {},
): Promise<number> {
  const table = quotedTable(options.table);
  const limit = options.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`pruneIdempotencyKeys: limit ${String(limit)} is not a positive integer`);
  const [result] = await target.execute(
    (pool) => pool.query(`DELETE FROM ${table} WHERE expires_at < NOW(3) LIMIT ${limit}`),
    { idempotent: true, name: 'idempotency keys: prune' },
  );
  return (result as { affectedRows: number }).affectedRows;
}

/**
 * Claims `key` inside the open transaction of `conn`: true when this run may go on, false when a run with the key
 * committed before and has not expired. An expired key is taken over (its write is older than any replay).
 */
async function claim(conn: PoolConnection, table: string, key: string, ttl: number): Promise<boolean> {
  const expiresAt = `NOW(3) + INTERVAL ${ttl * 1000} MICROSECOND`;
  try {
    // Waits on the row lock while another transaction holding the key is open.
    await conn.query(`INSERT INTO ${table} (idempotency_key, expires_at) VALUES (?, ${expiresAt})`, [key]);
    return true;
  } catch (error) {
    if ((error as { errno?: unknown }).errno !== 1062) throw error;
  }
  // The key is taken by a committed run: still fencing, or expired and not yet pruned.
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT expires_at <= NOW(3) AS expired FROM ${table} WHERE idempotency_key = ? FOR UPDATE`,
    [key],
  );
  const row = rows[0];
  // Pruned between the two statements: the key is free again; the INSERT is tried once more.
  if (row === undefined) return claim(conn, table, key, ttl);
  if (Number(row['expired']) !== 1) return false;
  await conn.query(`UPDATE ${table} SET expires_at = ${expiresAt} WHERE idempotency_key = ?`, [key]);
  return true;
}

/**
 * Runs `fn` in a {@link transaction} fenced by the idempotency key `key`: the write runs at most once, a
 * replay — of an attempt whose COMMIT got no answer, or of the whole call — answers `alreadyApplied: true`
 * instead of running again. With the key the transaction is retried like an idempotent operation (through a
 * lost COMMIT and a reconnect, within the deadline), so it ends applied or not applied, never unknown. The
 * key table must exist ({@link idempotencyKeyTableDdl}).
 *
 * ```ts
 * const r = await transactionOnce(db, `order:${orderId}`, async (conn) => {
 *   await conn.query('INSERT INTO orders (id, sku) VALUES (?, ?)', [orderId, sku]);
 *   await conn.query('UPDATE stock SET n = n - 1 WHERE sku = ?', [sku]);
 * });
 * if (r.alreadyApplied) log.info('order already placed');
 * ```
 */
export async function transactionOnce<T>(
  target: Target<MySqlPool>,
  key: string,
  fn: (conn: PoolConnection, ctx: TransactionContext) => Promise<T>,
  options: TransactionOnceOptions = {},
): Promise<OnceResult<T>> {
  const { table: tableName, ttl: ttlOption, ...rest } = options;
  const table = quotedTable(tableName);
  const checked = checkedKey(key);
  const ttl = ttlMs(ttlOption);
  return await transaction(
    target,
    async (conn, ctx): Promise<OnceResult<T>> => {
      if (!(await claim(conn, table, checked, ttl))) return { alreadyApplied: true };
      return { alreadyApplied: false, value: await fn(conn, ctx) };
    },
    { ...rest, idempotent: true, name: rest.name ?? 'transaction once' },
  );
}

/**
 * One statement fenced by the idempotency key `key` (a {@link transactionOnce} of that statement): `value` is
 * mysql2's `[result, fields]`.
 *
 * ```ts
 * await statementOnce(db, `audit:${eventId}`, 'INSERT INTO audit (event, msg) VALUES (?, ?)', [eventId, msg]);
 * ```
 */
export function statementOnce(
  target: Target<MySqlPool>,
  key: string,
  sql: string,
  values?: Parameters<PoolConnection['query']>[1],
  options: TransactionOnceOptions = {},
): Promise<OnceResult<Awaited<ReturnType<PoolConnection['query']>>>> {
  return transactionOnce(target, key, (conn) => conn.query(sql, values), {
    ...options,
    name: options.name ?? 'statement once',
  });
}
