/** What a throwaway server is doing right now. */
export type ServerStatus = 'running' | 'hung' | 'killed' | 'stopped';

/**
 * A real server process on 127.0.0.1 with its own temporary data directory.
 * Every method is bounded in time; `stop()` removes the process group and the directory.
 */
export interface ServerHandle {
  /** `redis`, `redis-sentinel`, `mariadb`, `postgres`, or a custom server's kind. */
  readonly kind: string;
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The TCP port; the same after `restart()`. */
  readonly port: number;
  /** The current server process id (the process-group leader), undefined while killed or stopped. */
  readonly pid: number | undefined;
  /** The server's temporary directory (data, config, log); removed by `stop()`. */
  readonly dir: string;
  /** The server's data directory inside `dir`; kept across `kill()` and `restart()`. */
  readonly dataDir: string;
  /** `running`, `hung` (SIGSTOP), `killed` (SIGKILL, restartable) or `stopped` (gone for good). */
  readonly status: ServerStatus;
  /** A connection URL without a password, e.g. `redis://127.0.0.1:41234`. */
  readonly url: string;
  /** SIGKILL to every process of the server (its group and all descendants): a crash. Resolves once all are gone; the port is then refused. */
  kill(): Promise<void>;
  /** SIGSTOP to every process of the server: it keeps its sockets but stops answering, on open and new connections. */
  hang(): Promise<void>;
  /** SIGCONT after `hang()`. */
  resume(): Promise<void>;
  /** Starts the server again on the same port with the same data (after `kill()`, or gracefully if running). */
  restart(): Promise<void>;
  /** Graceful shutdown, SIGKILL of every process after `graceMs` (default 5 s); removes the temp directory. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Waits until the server answers its protocol's readiness check (default 20 s). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The tail of the server's own output (stdout, stderr, log file), for failure messages. */
  logs(maxBytes?: number): string;
}
