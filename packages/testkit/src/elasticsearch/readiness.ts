import { request } from 'node:http';
import type { ProbeResult } from '../net/probes.js';
import { PROBE_HEADER } from './wire.js';

/**
 * Readiness of a node: `HEAD /` with the probe header answers 200 with `x-elastic-product`, which
 * proves the whole path (node process → coordinator → node) works. Bounded to `timeoutMs`.
 */
export function elasticsearchReady(host: string, port: number, timeoutMs = 500): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(
      { host, port, method: 'HEAD', path: '/', agent: false, headers: { [PROBE_HEADER]: '1' } },
      (res) => {
        res.resume();
        resolve(
          res.statusCode === 200 && res.headers['x-elastic-product'] === 'Elasticsearch'
            ? { ready: true }
            : { ready: false, reason: `HEAD / answered ${res.statusCode}` },
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ready: false, reason: error.code ?? error.message }),
    );
    req.end();
  });
}
