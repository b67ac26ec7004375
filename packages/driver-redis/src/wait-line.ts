import { Command, type Redis } from 'ioredis';

// One connection's WAITs (a standalone or Sentinel client: one socket that every operation of the target shares).
// Redis runs nothing else of a connection while a WAIT there blocks, so WAITs sent one per write would queue up
// behind each other: with no replica to confirm, every write would hold the connection for the whole timeout, the
// target's reads and health checks would wait behind a growing line of them, and its health check would end by
// calling the server hung. So at most one WAIT is in flight per connection: the writes sent while it blocks share
// the next one, sent when it answers (a WAIT confirms every write its connection made before it). Its timeout is the
// option's, or less when one of the writes it confirms has less of its attempt left. Group commit, in short.

/** What a WAIT answered: how many replicas have the writes, and how long it was given. */
export interface WaitAnswer {
  readonly acknowledged: number;
  readonly timeoutMs: number;
}

interface Waiter {
  /** When the attempt of the write this waiter confirms ends (performance.now() time; Infinity: no limit). */
  readonly endsAt: number;
  resolve(answer: WaitAnswer): void;
  reject(error: unknown): void;
}

/** Writes waiting for the next WAIT, made on the socket `stream`. */
interface Group {
  readonly waiters: Waiter[];
  readonly stream: unknown;
}

function noTimer(): void {}

/** Thrown to a write whose connection was replaced before its WAIT could be sent: nothing can confirm it now. */
export class ConnectionReplacedError extends Error {
  override readonly name = 'ConnectionReplacedError';
  constructor() {
    super('the connection the write was sent on closed before WAIT could be sent on it');
  }
}

/** The WAITs of one connection; see above. */
export class WaitLine {
  readonly #client: Redis;
  readonly #replicas: number;
  readonly #timeoutMs: number;
  #busy = false;
  #next: Group | undefined;

  constructor(client: Redis, replicas: number, timeoutMs: number) {
    this.#client = client;
    this.#replicas = replicas;
    this.#timeoutMs = timeoutMs;
  }

  /** Call right after sending a write: resolves with the answer of a WAIT sent after it on the same connection. */
  confirm(endsAt: number): Promise<WaitAnswer> {
    return new Promise<WaitAnswer>((resolve, reject) => {
      const waiter: Waiter = { endsAt, resolve, reject };
      const stream = this.#client.stream as unknown;
      if (!this.#busy) {
        this.#send({ waiters: [waiter], stream });
        return;
      }
      const next = this.#next;
      if (next !== undefined && next.stream !== stream) {
        // A reconnect since those writes: their connection is gone, and a WAIT on this one would not cover them.
        for (const w of next.waiters) w.reject(new ConnectionReplacedError());
        this.#next = undefined;
      }
      if (this.#next === undefined) this.#next = { waiters: [waiter], stream };
      else this.#next.waiters.push(waiter);
    });
  }

  #send(group: Group): void {
    if (this.#client.stream !== group.stream) {
      for (const w of group.waiters) w.reject(new ConnectionReplacedError());
      this.#sendNext();
      return;
    }
    this.#busy = true;
    const endsAt = Math.min(...group.waiters.map((w) => w.endsAt));
    // At least 1 ms: WAIT's 0 waits for ever.
    const timeoutMs = Math.max(1, Math.floor(Math.min(this.#timeoutMs, endsAt - performance.now())));
    const wait = new Command('wait', [this.#replicas, timeoutMs], { replyEncoding: 'utf8' });
    wait.setTimeout = noTimer; // bounded by its own timeout, and by the connection
    (this.#client.sendCommand(wait) as Promise<unknown>).then(
      (reply: unknown) => {
        const answer = { acknowledged: Number(reply), timeoutMs };
        for (const w of group.waiters) w.resolve(answer);
        this.#sendNext();
      },
      (error: unknown) => {
        for (const w of group.waiters) w.reject(error);
        this.#sendNext();
      },
    );
  }

  #sendNext(): void {
    this.#busy = false;
    const next = this.#next;
    this.#next = undefined;
    if (next !== undefined) this.#send(next);
  }
}

const lines = new WeakMap<Redis, WaitLine>();

/** The line of `client` (made on first use). */
export function waitLineOf(client: Redis, replicas: number, timeoutMs: number): WaitLine {
  let line = lines.get(client);
  if (line === undefined) lines.set(client, (line = new WaitLine(client, replicas, timeoutMs)));
  return line;
}
