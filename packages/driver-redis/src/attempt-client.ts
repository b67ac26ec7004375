import { AttemptEndedError, type AbortListenerObject, type AttemptContext } from '@reconnect/core';
import type { Command } from 'ioredis';
import type { RedisClient } from './client.js';
import { knownStateOf, type ClientState } from './client-state.js';
import { confirmedPipeline, ReplicaConfirmations, type Sender } from './replicas.js';

// The client an operation receives is a view of the target's ioredis client bound to the operation's attempt (the
// driver's `bindAttempt`). Every command, pipeline, transaction and script of ioredis ends in the client's
// `sendCommand`, called on the object the user called (here: the view), so the view's `sendCommand` sees each
// command first:
// - a command sent after its attempt ended (the operation was abandoned at its timeout, its deadline or the
//   caller's abort) is refused unsent with core's AttemptEndedError, so an abandoned operation cannot write behind
//   the caller's back;
// - the others follow the attempt's own time limit (the call's attemptTimeout or the deadline left): when the
//   attempt is cut short, the commands it sent that have not settled are rejected with its reason. They get no
//   timer of their own (ioredis's per-command `commandTimeout` timer is skipped for them): the engine's one timer
//   list already bounds the attempt, and a Node timer per command was the largest cost a command paid here.
// - with the `waitForReplicas` option, each write is followed by WAIT on the same connection and its reply held until
//   enough replicas have it (replicas.ts).
// Everything else is the client's own: the view inherits from it, and the few methods that write to `this`
// (connect, disconnect, the EventEmitter's) are forwarded to the client, so no state ever lands on a view.

const attemptKey = Symbol('reconnect.redis.attempt');

const firstKey = Symbol('reconnect.redis.first');

const sentKey = Symbol('reconnect.redis.sent');

const replicasKey = Symbol('reconnect.redis.replicas');

/** On a client's view prototype: its `waitForReplicas` option (undefined without one). */
const waitKey = Symbol('reconnect.redis.waitForReplicas');
type WaitForReplicas = NonNullable<ClientState['waitForReplicas']>;

interface View {
  [attemptKey]: AttemptContext;
  /** The attempt's first command: the view listens for the attempt's abort (as its own listener) from then on. */
  [firstKey]: Command | undefined;
  /** The commands it sent after the first, if any (most operations send one). */
  [sentKey]: Command[] | undefined;
  /** The attempt's WAITs, when the target's options have `waitForReplicas`. */
  [replicasKey]: ReplicaConfirmations | undefined;
}

/** Set on a view's commands in place of ioredis's `setTimeout`: the attempt bounds them, not a timer each. */
function noTimer(): void {}

type SendCommand = (command: Command, stream?: unknown, node?: unknown) => Promise<unknown>;

/** Methods that write to `this`: called on the client itself, never on a view. */
const forwarded = [
  'connect',
  'disconnect',
  'end',
  'on',
  'once',
  'off',
  'addListener',
  'prependListener',
  'prependOnceListener',
  'removeListener',
  'removeAllListeners',
  'setMaxListeners',
] as const;

/** Per client, the prototype of its views (made once: a view per attempt is then one object and one field). */
const prototypes = new WeakMap<RedisClient, object>();

function viewPrototype(client: RedisClient): object {
  let proto = prototypes.get(client);
  if (proto !== undefined) return proto;
  proto = Object.create(client) as object;
  const send = (client.sendCommand as SendCommand).bind(client);
  const members: PropertyDescriptorMap = {
    // The attempt was cut short (its timeout, its deadline, the caller's abort): its commands still unsettled are
    // rejected with its reason. The view is the listener: no closure and no list for an attempt's one command.
    handleEvent: {
      value: function handleEvent(this: View) {
        const cut = attemptCut(this[attemptKey].reason);
        const first = this[firstKey];
        if (first !== undefined && !first.isSettled) first.reject(cut);
        const more = this[sentKey];
        if (more !== undefined) for (const command of more) if (!command.isSettled) command.reject(cut);
      },
    },
    sendCommand: {
      value: function sendCommand(this: View, command: Command, stream?: unknown, node?: unknown) {
        const attempt = this[attemptKey];
        if (attempt.aborted) {
          command.reject(new AttemptEndedError());
          return command.promise;
        }
        if (this[firstKey] === undefined) {
          this[firstKey] = command;
          attempt.onAbort(this as unknown as AbortListenerObject);
        } else (this[sentKey] ??= []).push(command);
        command.setTimeout = noTimer;
        coalesceWrites(client);
        const reply = send(command, stream, node);
        this[replicasKey]?.sent(this as unknown as Sender, command, stream, node);
        return reply;
      },
    },
  };
  // Confirmed writes: a pipeline whose writes were not confirmed rejects (replicas.ts). The option is the client's
  // for its life (a reload that changes it makes a new client), so it is read here once, not per attempt.
  const wait = knownStateOf(client)?.waitForReplicas;
  members[waitKey] = { value: wait };
  if (wait !== undefined)
    members.pipeline = {
      value: confirmedPipeline(
        (client as unknown as Record<string, Parameters<typeof confirmedPipeline>[0]>).pipeline!,
      ),
    };
  for (const name of forwarded) {
    const method = (client as unknown as Record<string, unknown>)[name];
    if (typeof method === 'function')
      members[name] = { value: (method as (...args: unknown[]) => unknown).bind(client) };
  }
  Object.defineProperties(proto, members);
  prototypes.set(client, proto);
  return proto;
}

/** The socket ioredis writes to (the connection's current one: a reconnect replaces it). */
interface Socket {
  readonly writableCorked: number;
  readonly writable: boolean;
  cork(): void;
  uncork(): void;
}

/**
 * Commands sent in the same turn of the event loop share one write. A command sent while others on the connection
 * await their replies corks the socket, and a `process.nextTick` (run once this turn's promise callbacks are done)
 * uncorks it, so Node hands the kernel the rest of the turn's commands in one `writev` instead of a system call
 * each — what a command cost the raw client most (about two thirds of its CPU with 64 callers). A command sent
 * alone is written at once (no reply awaited: nothing to share a write with, and no tick of delay). Order, bytes and
 * replies are unchanged; every command is on the wire before the loop waits for anything.
 */
function coalesceWrites(client: RedisClient): void {
  const { stream: socket, commandQueue } = client as unknown as {
    stream?: Socket;
    commandQueue?: { length: number };
  };
  // Nothing awaiting a reply (every lone caller's case) is the first, cheapest exit.
  if ((commandQueue?.length ?? 0) === 0 || socket === undefined || socket.writableCorked !== 0) return;
  if (!socket.writable || client.status !== 'ready') return;
  socket.cork();
  process.nextTick(uncork, socket);
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/** What a command cut with its attempt is rejected with: the attempt's reason when it is an error. */
function attemptCut(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('The attempt was aborted', { cause: reason });
}

/**
 * The client one attempt's operation receives: the commands it sends follow `attempt` (see above). With
 * `enableAutoPipelining` the client itself: ioredis then batches the commands of concurrent operations into one
 * shared pipeline, and they would follow whichever attempt made it (the options refuse `waitForReplicas` with it).
 */
export function bindClientToAttempt(client: RedisClient, attempt: AttemptContext): RedisClient {
  if ((client.options as { enableAutoPipelining?: boolean }).enableAutoPipelining === true) return client;
  const proto = viewPrototype(client) as { [waitKey]?: WaitForReplicas };
  const view = Object.create(proto) as RedisClient & View;
  view[attemptKey] = attempt;
  view[firstKey] = undefined;
  view[sentKey] = undefined;
  const wait = proto[waitKey];
  view[replicasKey] = wait === undefined ? undefined : new ReplicaConfirmations(wait, attempt, client);
  return view;
}
