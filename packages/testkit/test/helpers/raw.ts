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
