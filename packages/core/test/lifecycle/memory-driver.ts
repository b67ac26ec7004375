import { z } from 'zod';
import { defineDriver, type ConnectionMonitor, type ErrorKind, type NodeAddress } from '../../src/index.js';

/** What a connect or probe does when called: succeed, fail (a connection error) or hang until aborted. */
export type Mode = 'succeed' | 'fail' | 'hang';

/** An error the memory driver throws; `kind` is what `classify` reports. */
export class MemoryError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly code = 'MEM_' + kind.toUpperCase(),
  ) {
    super(message);
  }
}

/** A client of the in-memory "server". */
export interface MemoryClient {
  readonly id: number;
  readonly node: NodeAddress | undefined;
  closed: boolean;
  /** Runs a "query": fails with a connection error while the server (or this node) is down. */
  query(value: string): Promise<string>;
}

/** Options the memory driver validates. */
export const memoryOptions = z.strictObject({
  label: z.string().optional(),
  nodes: z.array(z.number().int().positive()).optional(),
  /** Ports of read-only replicas; `nodes` are then the primaries. */
  replicas: z.array(z.number().int().positive()).optional(),
  password: z.string().optional(),
});

/** Builds an in-memory driver whose behaviour the test controls, counting every call. */
export function createMemoryDriver(opts: { watch?: boolean; discover?: () => NodeAddress[] } = {}) {
  const control = {
    connect: 'succeed' as Mode,
    probe: 'succeed' as Mode,
    /** Per-node down switch (by node id); `query` and `probe` on such a node fail. */
    downNodes: new Set<string>(),
    /** Modes the next probes take, one each, before falling back to `probe`. */
    probeQueue: [] as Mode[],
    /** Per-node hang switch (by node id): connect and probe on such a node hang until aborted. */
    hangNodes: new Set<string>(),
    /** The whole server is down: queries fail. */
    serverDown: false,
    /** When set, close() takes this long (on real timers) before the client counts as closed. */
    closeDelayMs: 0,
    /** Clients whose close() has finished. */
    closedDone: 0,
    /** When set, connect fails with this error (after the mode's own behaviour). */
    connectError: undefined as Error | undefined,
    /** When set, a probe in mode `fail` fails with this error instead of the usual ECONNREFUSED one. */
    probeError: undefined as Error | undefined,
    calls: { connect: 0, probe: 0, close: 0, discover: 0, reconnectNow: 0, query: 0 },
    clients: [] as MemoryClient[],
    monitors: [] as ConnectionMonitor[],
    unwatched: 0,
  };
  let nextId = 1;

  const act = (mode: Mode, signal: AbortSignal, what: string): Promise<void> => {
    if (mode === 'succeed') return Promise.resolve();
    if (mode === 'fail')
      return Promise.reject(new MemoryError(`${what} refused`, 'connection', 'ECONNREFUSED'));
    return new Promise((_, reject) => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort rejects with the signal's reason, as fetch does
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  };

  const driver = defineDriver({
    name: 'memory',
    system: 'memory',
    options: memoryOptions,
    async connect(_options, ctx) {
      control.calls.connect++;
      await act(
        ctx.node && control.hangNodes.has(ctx.node.id) ? 'hang' : control.connect,
        ctx.signal,
        'connect',
      );
      if (control.connectError) throw control.connectError;
      if (ctx.node && control.downNodes.has(ctx.node.id))
        throw new MemoryError('node down', 'connection', 'ECONNREFUSED');
      const client: MemoryClient = {
        id: nextId++,
        node: ctx.node,
        closed: false,
        query(value) {
          control.calls.query++;
          if (client.closed) return Promise.reject(new MemoryError('client closed', 'connection', 'CLOSED'));
          if (control.serverDown || (client.node && control.downNodes.has(client.node.id))) {
            return Promise.reject(new MemoryError('connection reset', 'connection', 'ECONNRESET'));
          }
          return Promise.resolve(`${value}@${client.node?.id ?? 'single'}`);
        },
      };
      control.clients.push(client);
      return client;
    },
    async probe(client, ctx) {
      control.calls.probe++;
      if (control.probeError && control.probe === 'fail') throw control.probeError;
      await act(
        client.node && control.hangNodes.has(client.node.id)
          ? 'hang'
          : (control.probeQueue.shift() ?? control.probe),
        ctx.signal,
        'probe',
      );
      if (client.node && control.downNodes.has(client.node.id))
        throw new MemoryError('node down', 'connection');
    },
    close(client) {
      control.calls.close++;
      client.closed = true;
      if (control.closeDelayMs === 0) {
        control.closedDone++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          control.closedDone++;
          resolve();
        }, control.closeDelayMs),
      );
    },
    classify(error) {
      // `LOCAL`: the client itself failed the request before sending it (its pool closing, say).
      if (error instanceof MemoryError && error.code === 'LOCAL')
        return { kind: error.kind, code: error.code, sent: false, local: true };
      if (error instanceof MemoryError)
        return { kind: error.kind, code: error.code, sent: error.code !== 'ECONNREFUSED' };
      return { kind: 'unknown' };
    },
    nodes(options) {
      const at = (port: number, roles?: string[]): NodeAddress => ({
        id: `127.0.0.1:${port}`,
        host: '127.0.0.1',
        port,
        ...(roles ? { roles } : {}),
      });
      const replicas = options.replicas ?? [];
      if (replicas.length === 0) return (options.nodes ?? []).map((port) => at(port));
      return [
        ...(options.nodes ?? []).map((port) => at(port, ['primary'])),
        ...replicas.map((port) => at(port, ['replica'])),
      ];
    },
    ...(opts.discover
      ? {
          discover() {
            control.calls.discover++;
            return Promise.resolve(opts.discover!());
          },
        }
      : {}),
    ...(opts.watch
      ? {
          watch(_client: MemoryClient, monitor: ConnectionMonitor) {
            control.monitors.push(monitor);
            return () => {
              control.unwatched++;
            };
          },
          reconnectNow() {
            control.calls.reconnectNow++;
          },
        }
      : {}),
  });
  return { driver, control };
}
