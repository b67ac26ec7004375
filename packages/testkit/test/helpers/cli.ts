import { execFile } from 'node:child_process';

/** Runs a database CLI (psql, mariadb) with a hard time limit; resolves with stdout, rejects on failure or timeout. */
export function cli(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`, { cause: error }));
      else resolve(stdout.trim());
    });
  });
}

/** `psql` against a throwaway server, one statement, unaligned output. */
export function psql(port: number, sql: string, timeoutMs = 5000): Promise<string> {
  return cli(
    'psql',
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-Atqc', sql],
    timeoutMs,
  );
}

/** `mariadb` CLI against a throwaway server as root (empty password). */
export function mariadb(port: number, sql: string, timeoutMs = 5000): Promise<string> {
  return cli(
    'mariadb',
    ['-h', '127.0.0.1', '-P', String(port), '-uroot', '-N', '-B', '-e', sql, 'test'],
    timeoutMs,
  );
}

/** Tracks whether a promise settled, without awaiting it. */
export function track<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}
