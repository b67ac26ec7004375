import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { track } from '../cleanup/registry.js';
import { makeTempDir, removeDir } from '../cleanup/temp-dir.js';
import { launch } from '../servers/launch.js';
import { SERVER_MARKER_FILE } from '../servers/server-process.js';
import type { ServerHandle, ServerStatus } from '../servers/server-handle.js';
import { Coordinator, type RequestRecord } from './coordinator.js';
import { DocumentStore } from './document-store.js';
import { ElasticsearchNode } from './es-node.js';
import type { PublishAddressForm } from './loopback.js';
import { nodeScriptPath } from './node-script.js';
import { elasticsearchReady } from './readiness.js';
import type { ClusterView, EsVersion } from './rest-context.js';
import { findDuplicateWrites, type DuplicateWrite, type WriteLogEntry } from './write-log.js';

/** One node of {@link ElasticsearchClusterOptions.nodes}. */
export interface ElasticsearchNodeOptions {
  /** Default `node-<n>`. */
  name?: string;
  /** Default `['data', 'ingest', 'master']`; `['master']` makes a master-only node. */
  roles?: readonly string[];
  /** A fixed port instead of a free one. */
  port?: number;
}

/** Options of {@link startElasticsearchCluster}; all optional. */
export interface ElasticsearchClusterOptions {
  /** How many nodes (default 3), or one entry per node. */
  nodes?: number | readonly ElasticsearchNodeOptions[];
  /** `cluster_name` (default `testkit-cluster`). */
  clusterName?: string;
  /** The version reported (default `9.1.2`); its major decides which `compatible-with` values are accepted (major and major − 1). 8.x and 9.x only. */
  version?: string;
  /** How `_nodes` writes `http.publish_address`: `ip:port` (default) or `host/ip:port` (`localhost/127.0.0.1:9200`). */
  publishAddressForm?: PublishAddressForm;
  /** Periodic refresh, like `index.refresh_interval` (default 1000 ms; 0 = only explicit refreshes). */
  refreshIntervalMs?: number;
  /** Readiness wait per node start, ms (default 20 000). */
  startTimeoutMs?: number;
  /**
   * Security on: every request must authenticate with one of these (basic `username`/`password`, or an encoded
   * API key as sent in `Authorization: ApiKey …`); anything else is answered 401 `security_exception`.
   */
  security?: { users?: readonly { username: string; password: string }[]; apiKeys?: readonly string[] };
}

/** A document as the store holds it now. */
export interface StoredDocument {
  id: string;
  source: unknown;
  version: number;
  seqNo: number;
  primaryTerm: number;
}

const versions: Record<number, Omit<EsVersion, 'number' | 'major'>> = {
  8: { lucene: '9.12.1', minimumWire: '7.17.0', minimumIndex: '7.0.0' },
  9: { lucene: '10.2.2', minimumWire: '8.19.0', minimumIndex: '8.0.0' },
};

function esVersion(number: string): EsVersion {
  const major = Number(number.split('.')[0]);
  const known = versions[major];
  if (known === undefined || !/^\d+\.\d+\.\d+$/.test(number)) {
    throw new RangeError(`version "${number}": the test cluster speaks 8.x and 9.x`);
  }
  return { number, major, ...known };
}

/**
 * A running Elasticsearch-protocol test cluster. It is itself a {@link ServerHandle} (so `useServer`
 * works): `kill()`/`hang()` act on every node, `status` is `hung` or `killed` when any node is,
 * `resume()`/`restart()` bring every node back, `url` is the first node's.
 */
export class ElasticsearchCluster implements ServerHandle {
  readonly kind = 'elasticsearch-cluster';
  readonly host = '127.0.0.1';
  #stopped = false;
  #untrack: () => void = () => {};

  constructor(
    /** The nodes, in the order given. */
    readonly nodes: readonly ElasticsearchNode[],
    /** The cluster's temporary directory (the node script when run from source); each node has its own. */
    readonly dir: string,
    /** The version every node reports. */
    readonly version: string,
    private readonly store: DocumentStore,
    private readonly coordinator: Coordinator,
  ) {}

  /** @internal */
  set untrack(fn: () => void) {
    this.#untrack = fn;
  }

  get port(): number {
    return this.nodes[0]!.port;
  }
  get url(): string {
    return this.nodes[0]!.url;
  }
  /** Every node's URL. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }
  /** Options for `new Client(cluster.clientOptions)`: every node as a seed. */
  get clientOptions(): { nodes: string[] } {
    return { nodes: this.urls };
  }
  get pid(): number | undefined {
    return this.nodes[0]?.pid;
  }
  get dataDir(): string {
    return this.dir;
  }
  get status(): ServerStatus {
    if (this.#stopped) return 'stopped';
    const statuses = this.nodes.map((n) => n.status);
    if (statuses.includes('hung')) return 'hung';
    if (statuses.includes('killed')) return 'killed';
    return 'running';
  }

  /** The node named `name`. */
  node(name: string): ElasticsearchNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no node named ${name}`);
    return node;
  }

  /** Every write the store applied, in order, each with the request that caused it. */
  writeLog(): readonly WriteLogEntry[] {
    return this.store.log;
  }
  /** Writes applied more than once with the same source (see {@link findDuplicateWrites}). */
  duplicateWrites(): DuplicateWrite[] {
    return findDuplicateWrites(this.store.log);
  }
  /** Every request the nodes received (the latest 10 000), with what was answered. */
  requests(): readonly RequestRecord[] {
    return this.coordinator.requests;
  }
  /** The live documents of `index`, in indexing order (real time: no refresh needed). */
  documents(index: string): StoredDocument[] {
    const idx = this.store.indices.get(index);
    if (idx === undefined) return [];
    return [...idx.docs.values()]
      .filter((d) => !d.deleted)
      .sort((a, b) => a.seqNo - b.seqNo)
      .map(({ id, source, version, seqNo, primaryTerm }) => ({ id, source, version, seqNo, primaryTerm }));
  }

  /** After a test: resumes hung nodes, restarts killed ones, clears every fault rule and publish address. */
  async heal(): Promise<void> {
    for (const node of this.nodes) {
      node.faults.clear();
      node.setPublishAddress(undefined);
    }
    await this.resume();
    await this.restart();
  }

  async kill(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.pid !== undefined).map((n) => n.kill()));
  }
  async hang(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.status === 'running').map((n) => n.hang()));
  }
  async resume(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.status === 'hung').map((n) => n.resume()));
  }
  /** Restarts the killed nodes (running ones are left alone; the data is in the coordinator anyway). */
  async restart(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.status === 'killed').map((n) => n.restart()));
  }
  async waitReady(timeoutMs?: number): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.waitReady(timeoutMs)));
  }
  logs(maxBytes?: number): string {
    return this.nodes.map((n) => `--- ${n.name} ---\n${n.logs(maxBytes)}`).join('\n');
  }

  /** Stops every node, the coordinator and its timers, and removes every directory. Idempotent. */
  async stop(options?: { graceMs?: number }): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await Promise.all(this.nodes.map((n) => n.stop({ graceMs: options?.graceMs ?? 2000 })));
    } finally {
      this.store.close();
      await this.coordinator.close();
      removeDir(this.dir);
      this.#untrack();
    }
  }
}

/**
 * Starts an Elasticsearch-protocol test cluster: N node processes on 127.0.0.1, one shared document
 * store in this process. Resolves once every node answers. See the testkit README for the REST subset,
 * the fault controls and the limits.
 */
export async function startElasticsearchCluster(
  options: ElasticsearchClusterOptions = {},
): Promise<ElasticsearchCluster> {
  const version = esVersion(options.version ?? '9.1.2');
  const specs: ElasticsearchNodeOptions[] =
    typeof options.nodes === 'object'
      ? [...options.nodes]
      : Array.from({ length: options.nodes ?? 3 }, () => ({}));
  if (specs.length === 0) throw new RangeError('a cluster needs at least one node');
  const form = options.publishAddressForm ?? 'ip:port';
  const nodes = specs.map(
    (s, i) =>
      new ElasticsearchNode(
        s.name ?? `node-${i + 1}`,
        [...(s.roles ?? ['data', 'ingest', 'master'])].sort(),
        form,
      ),
  );
  if (new Set(nodes.map((n) => n.name)).size !== nodes.length)
    throw new RangeError('node names must be unique');

  const dir = makeTempDir('elasticsearch-cluster');
  writeFileSync(
    join(dir, SERVER_MARKER_FILE),
    JSON.stringify({ kind: 'elasticsearch-cluster', ownerPid: process.pid }),
  );
  const store = new DocumentStore(options.refreshIntervalMs ?? 1000);
  const view: ClusterView = {
    name: options.clusterName ?? 'testkit-cluster',
    version,
    nodes: () => nodes.map((n) => n.view()),
  };
  const authorizations = [
    ...(options.security?.users ?? []).map(
      (u) => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`,
    ),
    ...(options.security?.apiKeys ?? []).map((k) => `ApiKey ${k}`),
  ];
  const coordinator = new Coordinator(view, store, (id) => nodes.find((n) => n.id === id), authorizations);
  const cluster = new ElasticsearchCluster(nodes, dir, version.number, store, coordinator);
  cluster.untrack = track({
    description: `elasticsearch test cluster (${dir})`,
    dispose: () => cluster.stop({ graceMs: 1000 }),
    disposeSync: () => {
      coordinator.closeSync();
      store.close();
      removeDir(dir);
    },
  });
  try {
    const coordinatorPort = await coordinator.listen();
    const script = await nodeScriptPath(dir);
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // a test runner's loaders have no business in the node script
    const started = await Promise.allSettled(
      nodes.map(async (node, i) => {
        const port = specs[i]!.port;
        const launchOptions = {
          ...(port === undefined ? {} : { port }),
          ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
        };
        const server = await launch(launchOptions, (p) => {
          node.pendingPort = p;
          const nodeDir = makeTempDir('elasticsearch-node');
          return {
            kind: 'elasticsearch',
            command: process.execPath,
            args: [script, String(p), String(coordinatorPort), node.id],
            dir: nodeDir,
            dataDir: join(nodeDir, 'data'),
            port: p,
            url: `http://127.0.0.1:${p}`,
            ready: (host, probePort) => elasticsearchReady(host, probePort),
            env,
          };
        });
        node.attach(server);
      }),
    );
    // Wait for every start to settle before cleaning up, so no node is attached after stop().
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } catch (error) {
    await cluster.stop({ graceMs: 0 });
    throw error;
  }
  return cluster;
}
