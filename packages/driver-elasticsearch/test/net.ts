import { createConnection } from 'node:net';

/** Resolves with the time (Date.now) the port first accepts a TCP connection; polls every `everyMs`. */
export function whenAccepting(port: number, everyMs = 2, timeoutMs = 30_000): { at: Promise<number> } {
  const end = Date.now() + timeoutMs;
  const at = new Promise<number>((resolve, reject) => {
    const tryOnce = () => {
      if (Date.now() > end) return reject(new Error(`port ${port} not accepting within ${timeoutMs} ms`));
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        const t = Date.now();
        socket.destroy();
        resolve(t);
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(tryOnce, everyMs);
      });
    };
    tryOnce();
  });
  at.catch(() => undefined);
  return { at };
}
