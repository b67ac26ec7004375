import type { AttemptContext } from '@reconnect/core';
import { Command, type Redis } from 'ioredis';
import { createRequire } from 'node:module';
import type { RedisClient } from './client.js';
import { NotReplicatedError } from './errors.js';
import { waitLineOf, type WaitAnswer, type WaitLine } from './wait-line.js';

// `waitForReplicas` (durable writes): an operation's write is answered to it only once `replicas` replicas have it.
// Redis replicates asynchronously, so a write the primary acknowledged can be lost when a replica is promoted before
// it got there (a Sentinel failover); `WAIT numreplicas timeout`, sent on the same connection after the write, answers
// how many replicas have every write that connection made so far.
//
// The attempt view (attempt-client.ts) hands every command an operation sends to `ReplicaConfirmations.sent`:
// - a plain write: WAIT is sent right behind it (pipelined, no extra round trip to the primary) and the write's reply
//   is held until WAIT answers; the caller then gets the reply, or NOT_REPLICATED (outcome unknown). While a WAIT
//   blocks the connection, the writes sent behind it share the next one (wait-line.ts: one WAIT in flight per
//   connection, so a replica that cannot confirm holds the target's commands back by one timeout, not a growing line);
// - a pipeline or a MULTI/EXEC (ioredis sends it as a pipeline): one WAIT after the whole batch, which holds every
//   reply of the batch (the pipeline's promise settles with the last of them);
// - a transaction sent command by command (`multi({ pipeline: false })`): one WAIT after EXEC (WAIT inside a
//   transaction would be queued, and a queued WAIT never blocks);
// - Redis Cluster: WAIT counts the replicas of the shard the write went to, so it goes to that node: after a
//   pipeline, on the pipeline's own node connection; after a plain write, once its reply is in (a MOVED has then
//   been followed and the slot table updated) to the master of the write's slot — an extra round trip, one WAIT per
//   write (not shared as on a single connection).
// Commands that do not write (ioredis's command table has no `write` flag for them; scripts and functions, which may
// write, count as writes unless read-only) send no WAIT. Commands the table does not know (modules) count as writes.

// ioredis's own command table, loaded from where ioredis is (it is ioredis's dependency, pinned by it, not this
// package's): the same flags ioredis routes by, and no import that only a hoisted node_modules would satisfy.
const commandTable = createRequire(createRequire(import.meta.url).resolve('ioredis'))(
  '@ioredis/commands',
) as {
  exists: (name: string) => boolean;
  hasFlag: (name: string, flag: string) => boolean;
};
const { exists, hasFlag } = commandTable;

/** The option, timeout in ms. */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeout: number;
}

const writes = new Map<string, boolean>();

/** Whether the command may write, from ioredis's command table (EVAL/EVALSHA/FCALL: yes; unknown commands: yes). */
export function isWriteCommand(name: string): boolean {
  let write = writes.get(name);
  if (write === undefined) {
    const n = name.toLowerCase();
    write = !exists(n)
      ? true
      : hasFlag(n, 'write') || (hasFlag(n, 'script_runner') && !hasFlag(n, 'readonly'));
    writes.set(name, write);
  }
  return write;
}

type Send = (command: Command, stream?: unknown, node?: unknown) => Promise<unknown>;

/** What the view is to this file: something that sends a command the way the operation's own commands go. */
export interface Sender {
  sendCommand: Send;
}

const batchKey = Symbol('reconnect.redis.replicaBatch');

/** The stream object ioredis's Pipeline hands to sendCommand for each command of one exec. */
interface PipelineStream {
  isPipeline: true;
  [batchKey]?: Batch;
}

/** The commands of one pipeline exec, and whether one of them writes. */
interface Batch {
  commands: Command[];
  write: boolean;
}

function isPipelineStream(stream: unknown): stream is PipelineStream {
  return (
    typeof stream === 'object' && stream !== null && (stream as { isPipeline?: unknown }).isPipeline === true
  );
}

function noop(): void {}

/** Holds `command`'s reply until `confirmed(reply)` resolves; rejects it with what `confirmed` rejects with. */
function hold(command: Command, confirmed: () => Promise<void>): void {
  const resolve = command.resolve;
  command.resolve = (value: unknown) => {
    confirmed().then(
      () => {
        if (!command.isSettled) resolve(value);
      },
      (error: unknown) => {
        if (!command.isSettled) command.reject(error as Error);
      },
    );
  };
}

/** One attempt's WAITs: made by the view when the target's options have `waitForReplicas`. */
export class ReplicaConfirmations {
  readonly #wait: ReplicaWait;
  readonly #attempt: AttemptContext;
  /** The connection's line of WAITs (wait-line.ts); undefined for a Cluster, whose WAITs go to each write's node. */
  readonly #line: WaitLine | undefined;
  readonly #startedAt = performance.now();
  /** A transaction sent command by command: open, and whether it queued a write. */
  #transaction: 'none' | 'open' | 'written' = 'none';

  constructor(wait: ReplicaWait, attempt: AttemptContext, client: RedisClient) {
    this.#wait = wait;
    this.#attempt = attempt;
    this.#line =
      'isCluster' in client && client.isCluster
        ? undefined
        : waitLineOf(client as Redis, wait.replicas, wait.timeout);
  }

  /** Called by the view after it sent `command` (with ioredis's `stream` and Cluster `node`). */
  sent(view: Sender, command: Command, stream: unknown, node: unknown): void {
    if (isPipelineStream(stream)) {
      this.#batch(view, command, stream, node);
      return;
    }
    const name = command.name.toLowerCase();
    if (name === 'multi') {
      this.#transaction = 'open';
      return;
    }
    if (this.#transaction !== 'none') {
      if (name === 'exec' || name === 'discard') {
        const written = this.#transaction === 'written';
        this.#transaction = 'none';
        if (written && name === 'exec') this.#confirmOne(view, command);
      } else if (isWriteCommand(name)) this.#transaction = 'written';
      return;
    }
    if (isWriteCommand(name)) this.#confirmOne(view, command);
  }

  #confirmOne(view: Sender, command: Command): void {
    if (command.isSettled) return; // refused unsent
    if (this.#line === undefined) {
      // After the reply: to the master of the write's slot as the (possibly redirected) cluster knows it now.
      hold(command, () => this.#sendWait(view, { slot: command.getSlot() }));
      return;
    }
    const confirmed = this.#confirmOnLine(this.#line);
    confirmed.catch(noop); // its failure is the write's, reported through `hold`
    hold(command, () => confirmed);
  }

  #batch(view: Sender, command: Command, stream: PipelineStream, node: unknown): void {
    let batch = stream[batchKey];
    if (batch === undefined) {
      const made: Batch = { commands: [], write: false };
      batch = stream[batchKey] = made;
      // ioredis sends (and flushes) a pipeline's commands in one synchronous loop: this runs after the last one.
      queueMicrotask(() => {
        delete stream[batchKey];
        const pending = made.commands.filter((c) => !c.isSettled);
        if (!made.write || pending.length === 0) return;
        const line = this.#line;
        const confirmed = line === undefined ? this.#sendWait(view, node) : this.#confirmOnLine(line);
        confirmed.catch(noop);
        for (const c of pending) hold(c, () => confirmed);
      });
    }
    batch.commands.push(command);
    if (isWriteCommand(command.name)) batch.write = true;
  }

  /** The next WAIT of the connection's line; rejects with NotReplicatedError when fewer replicas confirm. */
  async #confirmOnLine(line: WaitLine): Promise<void> {
    const { replicas, timeout } = this.#wait;
    let answer: WaitAnswer;
    try {
      answer = await line.confirm(this.#startedAt + this.#attempt.timeoutMs);
    } catch (error) {
      if (this.#attempt.aborted) throw error;
      throw new NotReplicatedError(replicas, 0, timeout, { cause: error });
    }
    if (!(answer.acknowledged >= replicas))
      throw new NotReplicatedError(replicas, answer.acknowledged, answer.timeoutMs);
  }

  /** WAIT on the Cluster node the writes went to; rejects with NotReplicatedError when fewer replicas confirm. */
  async #sendWait(view: Sender, node: unknown): Promise<void> {
    const { replicas } = this.#wait;
    const timeoutMs = this.#timeoutMs();
    const wait = new Command('wait', [replicas, timeoutMs], { replyEncoding: 'utf8' });
    let acknowledged: number;
    try {
      acknowledged = Number(await view.sendCommand(wait, undefined, node));
    } catch (error) {
      if (this.#attempt.aborted) throw error;
      throw new NotReplicatedError(replicas, 0, timeoutMs, { cause: error });
    }
    if (!(acknowledged >= replicas)) throw new NotReplicatedError(replicas, acknowledged, timeoutMs);
  }

  /** The option's timeout, or what is left of the attempt when less (at least 1 ms: WAIT's 0 waits for ever). */
  #timeoutMs(): number {
    const left = this.#attempt.timeoutMs - (performance.now() - this.#startedAt);
    return Math.max(1, Math.floor(Math.min(this.#wait.timeout, left)));
  }
}

type PipelineResults = [Error | null, unknown][];

interface ExecutablePipeline {
  exec: (...args: unknown[]) => Promise<PipelineResults>;
}

/**
 * `client.pipeline` for views whose writes are confirmed: its `exec()` rejects with the first NOT_REPLICATED among
 * its results (ioredis resolves a pipeline with each command's error in place, which an operation returning it would
 * hand the caller as a success). A MULTI/EXEC needs none of this: ioredis rejects it with EXEC's error.
 */
export function confirmedPipeline(
  pipeline: (...args: unknown[]) => ExecutablePipeline,
): (...args: unknown[]) => ExecutablePipeline {
  return function (this: unknown, ...args: unknown[]) {
    const made = pipeline.apply(this, args);
    const exec = made.exec.bind(made);
    made.exec = (...execArgs: unknown[]) => {
      const results = exec(...execArgs);
      // With a callback ioredis reports through it; the promise is left as ioredis made it.
      if (execArgs.length > 0) return results;
      return results.then((list) => {
        const failed = list?.find(([error]) => error instanceof NotReplicatedError);
        if (failed !== undefined) throw failed[0] as Error;
        return list;
      });
    };
    return made;
  };
}
