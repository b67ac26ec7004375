import { request } from 'node:http';

export { whenAccepting } from '@reconnect/testkit';

/**
 * Resolves with the time (Date.now) the node on `port` first answers an HTTP request (`GET /`), polling every
 * `everyMs`. A test-cluster node accepts TCP as soon as its process listens, a little before it can answer.
 */
export function whenAnswering(port: number, everyMs = 2, timeoutMs = 30_000): { at: Promise<number> } {
  const end = Date.now() + timeoutMs;
  const at = new Promise<number>((resolve, reject) => {
    const tryOnce = () => {
      if (Date.now() > end) return reject(new Error(`port ${port} not answering within ${timeoutMs} ms`));
      const req = request({ host: '127.0.0.1', port, method: 'GET', path: '/', agent: false }, (res) => {
        const t = Date.now();
        res.resume();
        if (res.statusCode === 200) resolve(t);
        else setTimeout(tryOnce, everyMs);
      });
      req.setTimeout(1000, () => req.destroy(new Error('timeout')));
      req.once('error', () => setTimeout(tryOnce, everyMs));
      req.end();
    };
    tryOnce();
  });
  at.catch(() => undefined);
  return { at };
}
