// The testkit's Elasticsearch-protocol test cluster for `npm run bench:load`, in a child process of its own. The
// cluster's coordinator (which holds the documents and answers every request the node processes forward) runs
// in the process that starts the cluster: here, so that its CPU, garbage and heap are not counted as the
// clients'. The parent forks this file with an IPC channel; the cluster stops when the parent says so, when the
// channel closes (the parent exited, however it ended), or after `maxLifeMs` at the latest.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clearTimeout, setTimeout } from 'node:timers';
import { Client } from '@elastic/elasticsearch';
import { cleanupAll, startElasticsearchCluster } from '@reconnect/testkit';

export const ES_INDEX = 'bench-load';
export const ES_ID = '1';

const isChild = process.argv[1] === fileURLToPath(import.meta.url) && typeof process.send === 'function';

async function child() {
  const maxLifeMs = Number(process.argv[2] ?? 3_600_000);
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    try {
      await cleanupAll();
    } finally {
      process.exit(code);
    }
  };
  process.on('disconnect', () => void stop(0));
  process.on('message', (m) => {
    if (m === 'stop') void stop(0);
  });
  setTimeout(() => void stop(0), maxLifeMs).unref();
  try {
    const cluster = await startElasticsearchCluster({ nodes: 3 });
    const c = new Client({ node: cluster.urls[0] });
    try {
      await c.index({ index: ES_INDEX, id: ES_ID, document: { hello: 'world', n: 1 }, refresh: true });
    } finally {
      await c.close();
    }
    process.send({ urls: cluster.urls, version: cluster.version });
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) });
    await stop(1);
  }
}

/**
 * Starts the cluster in a child process; resolves with its node URLs and a `stop()` that ends the child (and
 * with it every node), SIGKILLing it if it does not exit within 10 s.
 */
export function startElasticsearchChild({ startTimeoutMs = 90_000, maxLifeMs = 3_600_000 } = {}) {
  const proc = fork(fileURLToPath(import.meta.url), [String(maxLifeMs)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    if (proc.connected) proc.send('stop');
    let timer;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the Elasticsearch test cluster did not start within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    proc.once('message', (m) => {
      clearTimeout(timer);
      if (m?.error !== undefined) {
        void stop();
        reject(new Error(`the Elasticsearch test cluster did not start: ${m.error}`));
      } else resolve({ urls: m.urls, version: m.version, stop });
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`the Elasticsearch test cluster's process exited (${code ?? signal}) before it was ready`),
      );
    });
  });
}

if (isChild) await child();
