import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isTestkitError, startElasticsearchCluster, trackedResources } from '../src/index.js';
import { familyMembers } from '../src/cleanup/process-group.js';
import { closeClients, esClient } from './elasticsearch/clients.js';

// Start-up, stop and cleanup of the Elasticsearch test cluster.

describe('Elasticsearch test cluster: lifecycle', () => {
  it('starts 3 nodes (and prints how long it took); stop() leaves no process, directory or tracked resource', async () => {
    const started = performance.now();
    const cluster = await startElasticsearchCluster({ nodes: 3 });
    const startupMs = performance.now() - started;
    console.log(`elasticsearch test cluster: 3 nodes ready in ${Math.round(startupMs)} ms`);
    // Not asserted: wall-clock time depends on the machine's load (≈ 0.2 s idle, several seconds with
    // three test runs on two cores). The README states the idle measurement.
    const pids = cluster.nodes.map((n) => n.pid!);
    const dirs = [cluster.dir, ...cluster.nodes.map((n) => n.dir)];
    expect(dirs.every((d) => existsSync(d))).toBe(true);
    const client = esClient(cluster.clientOptions);
    expect(await client.ping()).toBe(true);
    await closeClients();

    await cluster.stop();
    await cluster.stop(); // idempotent
    expect(cluster.status).toBe('stopped');
    expect(pids.flatMap((pid) => familyMembers(pid))).toEqual([]);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
    const left = trackedResources().map((r) => r.description);
    expect(left.filter((d) => dirs.some((dir) => d.includes(dir)))).toEqual([]);
  });

  it('a node that cannot start fails the start and nothing is left behind', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const before = trackedResources().length;
    try {
      const error = await startElasticsearchCluster({ nodes: [{}, { port }], startTimeoutMs: 5000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTestkitError(error)).toBe(true);
      expect(String(error)).toMatch(/EADDRINUSE/);
      expect(trackedResources().length).toBe(before);
    } finally {
      blocker.close();
    }
  });

  it('refuses options it cannot honour', async () => {
    await expect(startElasticsearchCluster({ version: '7.17.0' })).rejects.toThrow(RangeError);
    await expect(startElasticsearchCluster({ nodes: 0 })).rejects.toThrow(RangeError);
    await expect(startElasticsearchCluster({ nodes: [{ name: 'a' }, { name: 'a' }] })).rejects.toThrow(
      RangeError,
    );
  });
});
