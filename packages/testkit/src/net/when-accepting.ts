import { createConnection } from 'node:net';

/** A wait for a port to accept TCP connections: `at` is when it first did (Date.now); `cancel` stops polling. */
export interface AcceptingWait {
  readonly at: Promise<number>;
  cancel(): void;
}

/**
 * Polls 127.0.0.1:`port` every `everyMs` until it accepts a TCP connection, for "first success within N ms of
 * the server accepting connections". `at` rejects after `timeoutMs` or when cancelled (a rejection no one awaits
 * is not reported as unhandled).
 */
export function whenAccepting(port: number, everyMs = 2, timeoutMs = 30_000): AcceptingWait {
  let cancelled = false;
  const end = Date.now() + timeoutMs;
  const at = new Promise<number>((resolve, reject) => {
    const tryOnce = (): void => {
      if (cancelled) return reject(new Error('cancelled'));
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
  return {
    at,
    cancel: () => {
      cancelled = true;
    },
  };
}
