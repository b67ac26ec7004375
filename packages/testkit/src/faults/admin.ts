import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { TestkitTimeoutError } from '../errors.js';

// Admin sessions that faults use to change a server at run time (CONFIG SET, KILL, SET GLOBAL …), with no client
// library: Redis spoken in RESP on a socket, MariaDB through its own `mariadb` command-line client in batch mode.
// Each session is opened before the fault and kept: a fault that fills the server's connection slots
// (maxclients, max_connections) must not lock out the session that heals it.

/** One open admin session on a server. Every command is bounded in time. */
export interface AdminSession {
  /** Runs one command (Redis: its words; MariaDB: one SQL statement) and returns its reply as text. */
  run(command: string | readonly string[], timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** A Redis reply read from `buf` at `at`: the value as text and where it ends, or undefined when incomplete. */
function readReply(buf: Buffer, at: number): { text: string; end: number; error: boolean } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol === -1) return undefined;
  const type = String.fromCharCode(buf[at] ?? 0);
  const line = buf.toString('latin1', at + 1, eol);
  if (type === '+' || type === ':') return { text: line, end: eol + 2, error: false };
  if (type === '-') return { text: line, end: eol + 2, error: true };
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return { text: '', end: eol + 2, error: false };
    if (buf.length < eol + 2 + n + 2) return undefined;
    return { text: buf.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2, error: false };
  }
  if (type === '*') {
    const n = Number(line);
    const parts: string[] = [];
    let end = eol + 2;
    for (let i = 0; i < n; i++) {
      const r = readReply(buf, end);
      if (r === undefined) return undefined;
      parts.push(r.text);
      end = r.end;
    }
    return { text: parts.join('\n'), end, error: false };
  }
  return { text: line, end: eol + 2, error: true };
}

/** Opens a RESP session on a Redis server (AUTH first when a password is given). */
export async function openRedisAdmin(server: {
  host: string;
  port: number;
  password?: string;
}): Promise<AdminSession> {
  const socket: Socket = connect({ host: server.host, port: server.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  let buffer = Buffer.alloc(0);
  let pending: { resolve: (t: string) => void; reject: (e: Error) => void } | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    const r = readReply(buffer, 0);
    if (r === undefined || pending === undefined) return;
    buffer = buffer.subarray(r.end);
    const p = pending;
    pending = undefined;
    if (r.error) p.reject(new Error(`redis admin: ${r.text}`));
    else p.resolve(r.text);
  });
  let queue = Promise.resolve();
  const run = (command: string | readonly string[], timeoutMs = 5000): Promise<string> => {
    const words = typeof command === 'string' ? command.split(' ') : command;
    const result = queue.then(
      () =>
        new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => {
            pending = undefined;
            reject(new TestkitTimeoutError(`the reply to redis admin ${words[0] ?? ''}`, timeoutMs));
          }, timeoutMs);
          pending = {
            resolve: (t) => {
              clearTimeout(timer);
              resolve(t);
            },
            reject: (e) => {
              clearTimeout(timer);
              reject(e);
            },
          };
          socket.write(
            `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`,
          );
        }),
    );
    queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
  if (server.password !== undefined) await run(['AUTH', server.password]);
  return {
    run,
    close: () => {
      socket.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * Opens a session on a MariaDB server through the `mariadb` command-line client (batch mode, unbuffered), as
 * root: each statement is followed by a marker SELECT, so its output is known to be complete.
 */
export async function openMariaDBAdmin(server: { host: string; port: number }): Promise<AdminSession> {
  const child: ChildProcessWithoutNullStreams = spawn(
    'mariadb',
    ['-h', server.host, '-P', String(server.port), '-u', 'root', '-N', '-B', '--unbuffered', '--force'],
    { stdio: 'pipe' },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  child.on('error', () => {});
  let n = 0;
  let queue = Promise.resolve();
  const run = (command: string | readonly string[], timeoutMs = 5000): Promise<string> => {
    const sql = typeof command === 'string' ? command : command.join(' ');
    const result = queue.then(async () => {
      const marker = `__admin_done_${++n}__`;
      const errBefore = err.length;
      child.stdin.write(`${sql.replace(/;\s*$/, '')};\nSELECT '${marker}';\n`);
      const started = Date.now();
      for (;;) {
        const at = out.indexOf(`${marker}\n`);
        if (at !== -1) {
          const text = out.slice(0, at).trimEnd();
          out = out.slice(at + marker.length + 1);
          const error = err.slice(errBefore).trim();
          if (error.length > 0) throw new Error(`mariadb admin: ${error}`);
          return text;
        }
        if (child.exitCode !== null) throw new Error(`mariadb admin: the client exited (${err.trim()})`);
        if (Date.now() - started > timeoutMs)
          throw new TestkitTimeoutError(`the answer to mariadb admin "${sql}"`, timeoutMs);
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
  await run('SELECT 1', 10_000);
  return {
    run,
    close: async () => {
      child.stdin.end();
      await Promise.race([
        new Promise((r) => child.once('exit', r)),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
