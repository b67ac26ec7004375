import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

// mysql2 internals the driver relies on (lib/base/pool.js, lib/base/connection.js, lib/ring_queue.js in
// 3.24); each use is pinned by a test against a real server.
export interface RingQueue<T> {
  readonly length: number;
  get(index: number): T;
  removeOne(index: number): void;
  shift(): T | undefined;
  pop(): T | undefined;
  push(item: T): void;
  unshift(item: T): void;
}
export interface Command extends EventEmitter {
  timeout?: number;
  onResult?: ((error: unknown, ...rest: unknown[]) => void) | null;
}
export interface CoreConnection extends EventEmitter {
  threadId: number | null;
  lastActiveTime: number;
  /** Set false by mysql2's pool when it hands the connection out (release() checks it). */
  _released?: boolean;
  stream: Socket;
  _commands: RingQueue<Command>;
  _command: Command | null | undefined;
  _fatalError: unknown;
  /** Set when the server closed the stream without an error first, or broke the protocol. */
  _protocolError: unknown;
  addCommand: (this: CoreConnection, cmd: Command) => Command;
  /** What `addCommand` becomes once the connection is closed: fails the command unsent. */
  _addCommandClosedState: (this: CoreConnection, cmd: Command) => unknown;
  ping(cb: (error: unknown) => void): unknown;
  query(sql: string, cb: (error: unknown, rows?: unknown) => void): Command;
  destroy(): void;
  release?: (this: CoreConnection) => void;
}
export type AcquireCallback = (error: unknown, connection?: CoreConnection) => void;
export interface CorePool extends EventEmitter {
  config: { connectionLimit: number; queueLimit: number };
  _allConnections: RingQueue<CoreConnection>;
  _freeConnections: RingQueue<CoreConnection>;
  _connectionQueue: RingQueue<AcquireCallback>;
  emit(event: 'acquire', conn: CoreConnection): boolean;
  _closed: boolean;
  getConnection: (this: CorePool, cb: AcquireCallback) => void;
}

export const noop = (): void => {};

/** Whether `cmd` is a statement (a Query or an Execute), as opposed to a ping, a prepare or a quit. */
export const isStatement = (cmd: Command): boolean => {
  const name = cmd.constructor.name;
  return name === 'Query' || name === 'Execute';
};

/** Fails `cmd` with `error` through whichever way mysql2 reports its outcome. */
export function failCommand(cmd: Command, error: unknown): void {
  try {
    if (typeof cmd.onResult === 'function') cmd.onResult(error);
    else if (cmd.listenerCount('error') > 0) cmd.emit('error', error);
  } catch {
    // a user callback that throws must not stop the others from settling
  }
}

/** Where `item` is in `queue`, or -1. */
export function indexIn<T>(queue: RingQueue<T>, item: T): number {
  for (let i = 0; i < queue.length; i++) if (queue.get(i) === item) return i;
  return -1;
}

/** Takes `cb` out of the pool's wait queue for a free connection; whether it was there. */
export function removeQueued(core: CorePool, cb: AcquireCallback): boolean {
  const i = indexIn(core._connectionQueue, cb);
  if (i < 0) return false;
  core._connectionQueue.removeOne(i);
  return true;
}
