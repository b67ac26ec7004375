// One Elasticsearch node process of the test cluster. It owns no data and knows no Elasticsearch:
// every request is forwarded to the coordinator (in the process that started the cluster), which
// answers with what to do — respond, hold the answer, never answer, or reset mid-response. This file is
// run by `node` directly (compiled to dist, or transpiled on the fly from source), so it imports
// nothing at run time but Node's own modules.
//
// argv: <port> <coordinatorPort> <nodeId>

import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ForwardedRequest, NodeInstruction, ResponsePlan } from './wire.js';

const [portArg, coordinatorArg, nodeId] = process.argv.slice(2);
const port = Number(portArg);
const coordinatorPort = Number(coordinatorArg);
if (!Number.isInteger(port) || !Number.isInteger(coordinatorPort) || nodeId === undefined) {
  console.error('usage: node-main <port> <coordinatorPort> <nodeId>');
  process.exit(2);
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const startPpid = process.ppid;

function forward(payload: ForwardedRequest): Promise<NodeInstruction> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: coordinatorPort,
        method: 'POST',
        path: `/forward/${encodeURIComponent(nodeId!)}`,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as NodeInstruction);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function write(res: ServerResponse, plan: ResponsePlan, afterBytes?: number): void {
  const body = Buffer.from(plan.body, 'utf8');
  res.writeHead(plan.status, { ...plan.headers, 'content-length': String(body.length) });
  if (afterBytes === undefined) {
    res.end(body);
    return;
  }
  const socket = res.socket;
  // Flush the head and part of the body to the kernel first, then RST: the client sees a response
  // start and then a reset, like a node dying mid-write. The pause lets the bytes leave before the
  // RST (a reset right behind them reaches some network stacks, gVisor's among them, as a plain close).
  const reset = (): void => void setTimeout(() => socket?.resetAndDestroy(), 50);
  const part = body.subarray(0, Math.min(afterBytes, body.length));
  if (part.length > 0) {
    res.write(part, reset);
  } else {
    res.flushHeaders();
    reset();
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const payload: ForwardedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('base64'),
    };
    forward(payload).then(
      (instruction) => {
        if (instruction.action === 'never') return; // the socket stays open; nothing is ever written
        const run = (): void =>
          instruction.action === 'reset'
            ? write(res, instruction, instruction.afterBytes)
            : write(res, instruction);
        if (instruction.delayMs > 0) setTimeout(run, instruction.delayMs);
        else run();
      },
      (error: unknown) => {
        // The coordinator is gone (the cluster is stopping): answer like a node without a cluster.
        const body = JSON.stringify({
          error: { type: 'testkit_coordinator_unreachable', reason: String(error) },
        });
        if (!res.headersSent) {
          res.writeHead(503, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
          res.end(body);
        }
      },
    );
  });
}

const server = createServer(handle);
server.keepAliveTimeout = 60_000;
server.on('clientError', (_error, socket) => socket.destroy());
server.listen(port, '127.0.0.1', () => {
  console.log(`elasticsearch test node ${nodeId} listening on 127.0.0.1:${port}`);
});
server.on('error', (error) => {
  console.error(String(error));
  process.exit(1);
});

// The process that started the cluster holds the data; when it is gone (re-parented), so is this node.
setInterval(() => {
  if (process.ppid !== startPpid) process.exit(0);
}, 500).unref();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
