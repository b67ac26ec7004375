import { connect, type Socket } from 'node:net';

/** Connects a raw TCP socket; resolves with the socket, or rejects with the socket error (e.g. ECONNREFUSED). */
export function rawConnect(port: number, timeoutMs = 2000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The error code a raw connect to `port` fails with, or `connected` if it succeeds. */
export async function connectOutcome(port: number): Promise<string> {
  try {
    const socket = await rawConnect(port);
    socket.destroy();
    return 'connected';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/** Collects what a socket receives and how it ends. */
export function record(socket: Socket): {
  data: () => Buffer;
  ended: () => string | undefined;
  waitEnd: (ms: number) => Promise<string | undefined>;
} {
  let data = Buffer.alloc(0);
  let ended: string | undefined;
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
  socket.on('error', (error: NodeJS.ErrnoException) => {
    ended ??= error.code ?? error.message;
  });
  socket.on('close', () => {
    ended ??= 'closed';
    for (const w of waiters) w();
  });
  return {
    data: () => data,
    ended: () => ended,
    waitEnd: (ms) =>
      new Promise((resolve) => {
        if (ended !== undefined) return resolve(ended);
        const timer = setTimeout(() => resolve(ended), ms);
        waiters.push(() => {
          clearTimeout(timer);
          resolve(ended);
        });
      }),
  };
}

/** A raw PostgreSQL connection (protocol 3.0, trust auth), enough to run a simple query on an open connection. */
export interface RawPg {
  /** Runs a simple query; resolves with the first column of the first row. */
  query(sql: string): Promise<string | undefined>;
  close(): void;
}

/** Opens a raw PostgreSQL connection as `postgres` and waits for ReadyForQuery. */
export async function rawPg(port: number): Promise<RawPg> {
  const socket = await rawConnect(port);
  let buffer = Buffer.alloc(0);
  let waiter: ((messages: { type: string; body: Buffer }[]) => void) | undefined;
  let pending: { type: string; body: Buffer }[] = [];
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 5) {
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) break;
      const message = { type: String.fromCharCode(buffer[0]!), body: buffer.subarray(5, 1 + length) };
      buffer = buffer.subarray(1 + length);
      pending.push(message);
      if (message.type === 'Z' && waiter !== undefined) {
        const done = waiter;
        const messages = pending;
        waiter = undefined;
        pending = [];
        done(messages);
      }
    }
  });
  const untilReady = (): Promise<{ type: string; body: Buffer }[]> =>
    new Promise((resolve) => (waiter = resolve));
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const startup = Buffer.alloc(8 + params.length);
  startup.writeInt32BE(startup.length, 0);
  startup.writeInt32BE(196608, 4);
  params.copy(startup, 8);
  const ready = untilReady();
  socket.write(startup);
  await ready;
  return {
    async query(sql) {
      const text = Buffer.from(`${sql}\0`);
      const message = Buffer.alloc(5);
      message.write('Q', 0, 'latin1');
      message.writeInt32BE(4 + text.length, 1);
      const done = untilReady();
      socket.write(Buffer.concat([message, text]));
      const row = (await done).find((m) => m.type === 'D');
      if (row === undefined) return undefined;
      const length = row.body.readInt32BE(2);
      return length < 0 ? undefined : row.body.subarray(6, 6 + length).toString('utf8');
    },
    close: () => socket.destroy(),
  };
}
