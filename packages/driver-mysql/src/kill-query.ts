import mysql, { type ConnectionOptions } from 'mysql2';
import { noop, type CoreConnection } from './mysql2-internals.js';

/** The counters a {@link Killer} keeps (a pool's `MySqlPoolStats` is one). */
export interface KillCounters {
  killed: number;
  killFailed: number;
}

/** One connection at a time sends `KILL QUERY` for abandoned statements; bounded by the connect timeout. */
export class Killer {
  readonly #options: ConnectionOptions;
  readonly #timeoutMs: number;
  readonly #stats: KillCounters;
  #queue: number[] = [];
  #running: Promise<void> | undefined;
  #current: CoreConnection | undefined;
  #closed = false;

  constructor(options: ConnectionOptions, timeoutMs: number, stats: KillCounters) {
    this.#options = { ...options, connectTimeout: timeoutMs };
    this.#timeoutMs = timeoutMs;
    this.#stats = stats;
  }

  kill(threadId: number): void {
    if (this.#closed) return;
    this.#queue.push(threadId);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves when no kill is pending (for tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
    const c = this.#current;
    if (c !== undefined) {
      c.destroy();
      c.stream.destroy();
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      const ids = this.#queue.splice(0);
      await this.#killAll(ids);
    }
  }

  #killAll(ids: number[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const conn = mysql.createConnection(this.#options) as unknown as CoreConnection;
      this.#current = conn;
      conn.on('error', noop);
      let pending = ids.length;
      let settled = false;
      const end = (failedRest: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (failedRest) this.#stats.killFailed += pending;
        this.#current = undefined;
        conn.destroy();
        conn.stream.destroy();
        resolve();
      };
      // A hung server accepts the TCP connection and never answers: bounded like one connect + one statement.
      const timer = setTimeout(() => end(true), this.#timeoutMs * 2);
      timer.unref();
      for (const id of ids) {
        conn.query(`KILL QUERY ${Number(id)}`, (error) => {
          pending--;
          // 1094 ER_NO_SUCH_THREAD: the statement (and its thread) already ended — nothing left to stop.
          const errno = (error as { errno?: unknown } | null)?.errno;
          if (error === null || error === undefined || errno === 1094) this.#stats.killed++;
          else this.#stats.killFailed++;
          if (pending === 0) end(false);
        });
      }
    });
  }
}
