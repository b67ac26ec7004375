import { randomBytes } from 'node:crypto';
import type { ServerProcess } from '../servers/server-process.js';
import type { ServerHandle, ServerStatus } from '../servers/server-handle.js';
import { assertLoopbackAddress, formatPublishAddress, type PublishAddressForm } from './loopback.js';
import { NodeFaults } from './node-faults.js';
import type { NodeView } from './rest-context.js';

/** One node of the test cluster: a real process (the testkit's usual handle) plus its identity and fault controls. */
export class ElasticsearchNode implements ServerHandle {
  readonly kind = 'elasticsearch';
  readonly host = '127.0.0.1';
  /** The node id `_nodes` reports (22 URL-safe base64 characters, like Elasticsearch's). */
  readonly id = randomBytes(16).toString('base64url').slice(0, 22);
  /** Fault rules for the requests this node receives; they live in the coordinator, so they work while the node is hung. */
  readonly faults = new NodeFaults();
  #process: ServerProcess | undefined;
  #port = 0;
  #publishAddress: string | undefined;

  constructor(
    /** The node name (`GET /` `name`, `_nodes` `name`). */
    readonly name: string,
    /** e.g. `['data', 'ingest', 'master']`; `['master']` is a master-only node. */
    readonly roles: readonly string[],
    private readonly form: PublishAddressForm,
  ) {}

  /** @internal Binds the node to its process once it has a port. */
  attach(process: ServerProcess): void {
    this.#process = process;
    this.#port = process.port;
  }

  /** @internal The port chosen before the process is up (the readiness probe needs the node known). */
  set pendingPort(port: number) {
    this.#port = port;
  }

  get port(): number {
    return this.#port;
  }
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }
  /** Options for `new Client(node.options)` pointing at this node only. */
  get options(): { node: string } {
    return { node: this.url };
  }
  get pid(): number | undefined {
    return this.#process?.pid;
  }
  get status(): ServerStatus {
    return this.#process?.status ?? 'running';
  }
  get dir(): string {
    return this.#required().dir;
  }
  get dataDir(): string {
    return this.#required().dataDir;
  }

  /** The `http.publish_address` `_nodes` reports: the real one unless {@link setPublishAddress} chose another. */
  get publishAddress(): string {
    return this.#publishAddress ?? formatPublishAddress(this.#port, this.form);
  }

  /**
   * Makes `_nodes` report `address` (`127.0.0.1:1`, `localhost/127.0.0.1:4567`) instead of the real one,
   * e.g. a loopback port where nothing listens; `undefined` restores it. Only loopback addresses are
   * accepted (a RangeError otherwise): the test cluster never sends a client off this machine.
   */
  setPublishAddress(address: string | undefined): void {
    if (address !== undefined) assertLoopbackAddress(address);
    this.#publishAddress = address;
  }

  /** @internal What the REST layer sees. */
  view(): NodeView {
    return {
      id: this.id,
      name: this.name,
      roles: this.roles,
      port: this.#port,
      publishAddress: this.publishAddress,
      status: this.status,
    };
  }

  kill(): Promise<void> {
    return this.#required().kill();
  }
  hang(): Promise<void> {
    return this.#required().hang();
  }
  resume(): Promise<void> {
    return this.#required().resume();
  }
  restart(): Promise<void> {
    return this.#required().restart();
  }
  stop(options?: { graceMs?: number }): Promise<void> {
    return this.#process?.stop(options) ?? Promise.resolve();
  }
  waitReady(timeoutMs?: number): Promise<void> {
    return this.#required().waitReady(timeoutMs);
  }
  logs(maxBytes?: number): string {
    return this.#process?.logs(maxBytes) ?? '';
  }

  #required(): ServerProcess {
    if (this.#process === undefined) throw new Error(`elasticsearch node ${this.name} has not started`);
    return this.#process;
  }
}
