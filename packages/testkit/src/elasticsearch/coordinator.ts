import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { DocumentStore } from './document-store.js';
import { esError, type EsResponse } from './es-errors.js';
import { negotiate } from './media-type.js';
import type { Fault, NodeFaults } from './node-faults.js';
import type { ClusterView, NodeView, RestContext } from './rest-context.js';
import { route } from './router.js';
import { PROBE_HEADER, type ForwardedRequest, type NodeInstruction } from './wire.js';

/** One request a node received, as the cluster's request log records it. */
export interface RequestRecord {
  requestId: number;
  /** Epoch ms when the coordinator got it. */
  at: number;
  nodeName: string;
  method: string;
  url: string;
  /** The status answered, or what happened instead. */
  outcome: number | 'never-answered' | 'reset';
  /** The fault that decided the outcome, if any (`status`, `proxy`, `never`, `reset`; `latency` adds `delayMs`). */
  fault: string | undefined;
  delayMs: number;
}

/** What the coordinator needs to know about a node. */
export interface CoordinatedNode {
  view(): NodeView;
  readonly faults: NodeFaults;
}

const maxRecords = 10_000;

// Elasticsearch's answer to a request without (or with wrong) credentials when security is on.
function unauthorized(missing: boolean, path: string): EsResponse {
  const reason = missing
    ? `missing authentication credentials for REST request [${path}]`
    : `unable to authenticate user for REST request [${path}]`;
  return esError(401, 'security_exception', reason, {
    header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] },
  });
}
const header = (h: ForwardedRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

// A proxy's own answer: its page, none of Elasticsearch's headers (no x-elastic-product, no X-Opaque-Id echo).
function proxyPlan(
  fault: Extract<Fault, { kind: 'proxy' }>,
  delayMs: number,
): Extract<NodeInstruction, { action: 'respond' }> {
  return {
    action: 'respond',
    status: fault.status,
    headers: { 'content-type': fault.contentType, server: 'nginx' },
    body: fault.body,
    delayMs,
  };
}

/**
 * The brain of the test cluster, in the process that started it: node processes forward every request
 * here (loopback HTTP), and get back what to answer. It owns the document store, the fault rules and
 * the request log, so all of them survive any node's crash and can be changed while a node is stopped.
 */
export class Coordinator {
  readonly requests: RequestRecord[] = [];
  #server: Server | undefined;
  #nextRequestId = 1;

  constructor(
    private readonly cluster: ClusterView,
    private readonly store: DocumentStore,
    private readonly nodeById: (id: string) => CoordinatedNode | undefined,
    /** When set, every request must carry one of these `Authorization` header values (else 401). */
    private readonly authorizations: readonly string[] = [],
  ) {}

  /** Listens on 127.0.0.1 (a free port); resolves with the port. */
  async listen(): Promise<number> {
    const server = createServer((req, res) => this.#serve(req, res));
    server.keepAliveTimeout = 60_000;
    // Like every testkit server, a forgotten cluster must not keep the process alive: nor do the nodes' keep-alive links.
    server.on('connection', (socket) => socket.unref());
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    return (server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections (a node still forwarding then answers 503). */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Synchronous variant for process-exit hooks. */
  closeSync(): void {
    this.#server?.closeAllConnections();
    this.#server?.close();
    this.#server = undefined;
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const nodeId = decodeURIComponent((req.url ?? '').replace(/^\/forward\//, ''));
      const node = this.nodeById(nodeId);
      const reply = (instruction: NodeInstruction): void => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(instruction));
      };
      if (node === undefined) {
        res.writeHead(404).end();
        return;
      }
      let forwarded: ForwardedRequest;
      try {
        forwarded = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ForwardedRequest;
      } catch {
        res.writeHead(400).end();
        return;
      }
      this.handle(node, forwarded).then(reply, (error: unknown) =>
        reply(
          this.#plan(esError(500, 'testkit_internal_error', String(error)), 'application/json', 0, undefined),
        ),
      );
    });
  }

  /** Decides the answer to one forwarded request. */
  async handle(node: CoordinatedNode, req: ForwardedRequest): Promise<NodeInstruction> {
    const view = node.view();
    const url = new URL(req.url, 'http://127.0.0.1');
    const method = req.method.toUpperCase();
    if (header(req.headers, PROBE_HEADER) !== undefined) {
      return this.#plan({ status: 200 }, 'application/json', 0, undefined);
    }
    const record: RequestRecord = {
      requestId: this.#nextRequestId++,
      at: Date.now(),
      nodeName: view.name,
      method,
      url: req.url,
      outcome: 0,
      fault: undefined,
      delayMs: 0,
    };
    this.requests.push(record);
    if (this.requests.length > maxRecords) this.requests.splice(0, this.requests.length - maxRecords);

    if (this.authorizations.length > 0) {
      const given = header(req.headers, 'authorization');
      if (given === undefined || !this.authorizations.includes(given)) {
        record.outcome = 401;
        return this.#plan(
          unauthorized(given === undefined, url.pathname),
          'application/json',
          0,
          undefined,
          undefined,
          {
            'www-authenticate': 'Basic realm="security", charset="UTF-8", ApiKey',
          },
        );
      }
    }
    const decision = node.faults.decide({ method, path: url.pathname });
    const outcome = decision.outcome;
    record.delayMs = decision.delayMs;
    record.fault = outcome?.kind;
    const opaqueId = header(req.headers, 'x-opaque-id');
    if (outcome?.kind === 'never' && !outcome.apply) {
      record.outcome = 'never-answered';
      return { action: 'never' };
    }
    if (outcome?.kind === 'proxy' && !outcome.apply) {
      record.outcome = outcome.status;
      return proxyPlan(outcome, decision.delayMs);
    }
    if (outcome?.kind === 'status') {
      record.outcome = outcome.status;
      return this.#plan(
        esError(outcome.status, outcome.type, outcome.reason, outcome.fields),
        'application/json',
        decision.delayMs,
        opaqueId,
        outcome.retryAfterSeconds,
      );
    }

    let body = Buffer.from(req.body, 'base64');
    const encoding = header(req.headers, 'content-encoding') ?? '';
    if (encoding.includes('gzip')) body = gunzipSync(body);
    else if (encoding.includes('deflate')) body = inflateSync(body);
    const negotiation = negotiate(
      header(req.headers, 'accept'),
      header(req.headers, 'content-type'),
      body.length > 0,
      this.cluster.version.major,
    );
    let response: EsResponse;
    let contentType = 'application/json';
    if (!negotiation.ok) {
      response = negotiation.response;
    } else {
      contentType = negotiation.contentType;
      const ctx: RestContext = {
        node: view,
        cluster: this.cluster,
        store: this.store,
        request: {
          method,
          path: url.pathname,
          segments: url.pathname
            .split('/')
            .filter((p) => p !== '')
            .map(decodeURIComponent),
          query: url.searchParams,
          body,
          requestId: record.requestId,
          opaqueId,
        },
        bulkRejectItems: decision.bulkRejectItems,
      };
      response = await route(ctx);
    }
    if (outcome?.kind === 'proxy') {
      // Applied behind the proxy; what the client gets is the proxy's answer.
      record.outcome = outcome.status;
      return proxyPlan(outcome, decision.delayMs);
    }
    record.outcome = response.status;
    const plan = this.#plan(response, contentType, decision.delayMs, opaqueId);
    if (outcome?.kind === 'never') {
      record.outcome = 'never-answered';
      return { action: 'never' };
    }
    if (outcome?.kind === 'reset') {
      record.outcome = 'reset';
      return { ...plan, action: 'reset', afterBytes: outcome.afterBytes ?? Math.floor(plan.body.length / 2) };
    }
    return plan;
  }

  #plan(
    response: EsResponse,
    contentType: string,
    delayMs: number,
    opaqueId: string | undefined,
    retryAfterSeconds?: number,
    extraHeaders: Record<string, string> = {},
  ): Extract<NodeInstruction, { action: 'respond' }> {
    const headers: Record<string, string> = {
      ...extraHeaders,
      // Every answer carries it, errors and HEAD included: without it the client throws ProductNotSupportedError on a 2xx.
      'x-elastic-product': 'Elasticsearch',
      'content-type': contentType,
      ...(opaqueId === undefined ? {} : { 'x-opaque-id': opaqueId }),
      ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }),
      ...response.headers,
    };
    return {
      action: 'respond',
      status: response.status,
      headers,
      body: response.body === undefined ? '' : JSON.stringify(response.body),
      delayMs,
    };
  }
}
