import type { ResolvedPolicy } from '@reconnect/core';
import type { Command, Redis } from 'ioredis';
import { createRequire } from 'node:module';

// Redis Cluster reads off a slow replica (issue #28). With `scaleReads: 'slave'` or `'all'`, ioredis picks the node
// of a read's slot at random; given a function instead, it calls it for each read-only command with the slot's
// node connections (the master first, then its replicas) and sends the command to the one returned. The function
// here picks by each node connection's recent reply latency:
// - `all`: the faster of two nodes of the slot drawn at random ("power of two choices", as core's `least-latency`
//   node selector), so a slow node gets little traffic without herding every read onto the single fastest one;
// - `slave`: the faster of two replicas drawn at random (the only one when the shard has one), unless even that
//   one is more than SLOW_FACTOR× slower than the master (and SLOW_GAP_MS): the read then goes to the master, which
//   can always serve it. A shard usually has a single replica, so without this there would be nothing to move the reads to.
// A node's latency is an exponentially weighted average of its replies' times that fades toward 0 while the node
// gets no commands (time constant FADE_MS), so a node left alone because it was slow looks fast again after a
// while and gets a read, which tells the truth again: a slow node gets a read or two a second, a recovered one its
// share back. The master's average is the yardstick of `slave` and does not fade: it is refreshed by every read
// that falls back to it and by the writes it serves.
//
// The times come from the node connection's own command queue (ioredis pushes each command it writes and shifts it
// when its reply is parsed): the queue gets a `push` and `shift` of its own that note the time in a ring of send
// times beside it. That is once per node connection (and again when ioredis replaces the queue at a reconnect), so
// a command pays two clock reads and no allocation; the function a read calls allocates nothing either (ioredis
// already makes the array of the slot's nodes it is given). Blocking commands (BLPOP, XREAD, WAIT…) are not timed.

/**
 * Weight of the newest reply in a node's average. Lower than core's 0.3 (one reply per read there, thousands a
 * second here): one slow reply (a GC pause, a busy event loop) must not send a replica's reads to the master, ten in
 * a row do.
 */
export const ALPHA = 0.1;
/** How fast a node's average fades while it gets no commands (time constant, ms; as core's). */
export const FADE_MS = 1000;
/** `slave`: a read goes to the master when the replica's latency is more than this many times the master's… */
export const SLOW_FACTOR = 3;
/** …and more than this many ms above it: sub-millisecond differences (a proxy hop, a busy event loop) are noise. */
export const SLOW_GAP_MS = 1;
/** Send times kept per node connection: replies behind more commands in flight than this are not timed. */
const RING = 1024;
const MASK = RING - 1;

const commandTable = createRequire(createRequire(import.meta.url).resolve('ioredis'))(
  '@ioredis/commands',
) as { exists: (name: string) => boolean; hasFlag: (name: string, flag: string) => boolean };

const blockingNames = new Map<string, boolean>();

function isBlocking(name: string): boolean {
  let blocking = blockingNames.get(name);
  if (blocking === undefined) {
    const n = name.toLowerCase();
    blocking = commandTable.exists(n) && commandTable.hasFlag(n, 'blocking');
    blockingNames.set(name, blocking);
  }
  return blocking;
}

/** The recent reply latency of one node connection. */
export class NodeLatency {
  /** The average, ms, as of `at`. */
  value = 0;
  /** When the last reply was timed (the clock's ms); 0: never. */
  at = 0;
  /** Replies timed. */
  samples = 0;
  /** Send time of the i-th command pushed on the queue, at `i & MASK` (NaN: not timed). */
  readonly sentAt = new Float64Array(RING);
  /** Commands pushed on the queue so far. */
  pushes = 0;

  observe(ms: number, now: number): void {
    this.value = this.samples === 0 ? ms : this.faded(now) * (1 - ALPHA) + ms * ALPHA;
    this.samples++;
    this.at = now;
  }

  /** The average now, faded by the time since the last reply. */
  faded(now: number): number {
    const idle = now - this.at;
    return idle <= 0 ? this.value : this.value * Math.exp(-idle / FADE_MS);
  }
}

/** What a node connection is to this file: ioredis's `Redis`, whose queue and reset are public in its JS. */
interface TimedNode {
  commandQueue: Queue;
  resetCommandQueue: (this: TimedNode) => void;
  [latencyKey]?: NodeLatency;
}

interface Queue {
  readonly length: number;
  push: (this: Queue, item: QueueItem) => number;
  shift: (this: Queue) => QueueItem | undefined;
}

interface QueueItem {
  command: Command;
}

const latencyKey = Symbol('reconnect.redis.latency');

/** A node connection's latency, timing its commands from now on. */
export function latencyOf(node: Redis, now: () => number): NodeLatency {
  const timed = node as unknown as TimedNode;
  let latency = timed[latencyKey];
  if (latency !== undefined) return latency;
  latency = new NodeLatency();
  timed[latencyKey] = latency;
  timeQueue(timed.commandQueue, latency, now);
  // ioredis makes a new queue at each connect; it is timed too.
  const reset = timed.resetCommandQueue;
  const l = latency;
  timed.resetCommandQueue = function resetCommandQueue(this: TimedNode) {
    reset.call(this);
    timeQueue(this.commandQueue, l, now);
  };
  return latency;
}

function timeQueue(queue: Queue, latency: NodeLatency, now: () => number): void {
  // Commands already in the queue (or in a queue ioredis replaced) were not timed.
  latency.sentAt.fill(NaN);
  const proto = Object.getPrototypeOf(queue) as Queue;
  const push = proto.push;
  const shift = proto.shift;
  Object.defineProperties(queue, {
    push: {
      configurable: true,
      value: function timedPush(this: Queue, item: QueueItem): number {
        latency.sentAt[latency.pushes++ & MASK] = isBlocking(item.command.name) ? NaN : now();
        return push.call(this, item);
      },
    },
    shift: {
      configurable: true,
      value: function timedShift(this: Queue): QueueItem | undefined {
        const inFlight = this.length;
        const item = shift.call(this);
        if (inFlight > 0 && inFlight <= RING) {
          const sentAt = latency.sentAt[(latency.pushes - inFlight) & MASK]!;
          // NaN (a blocking command) is not timed; a queue ioredis replaced mid-flight may pair a reply with a
          // later send (a negative time), which is not timed either.
          const t = now();
          if (sentAt <= t) latency.observe(t - sentAt, t);
        }
        return item;
      },
    },
  });
}

/** Where reads go, and how. */
export type ReadMode = 'slave' | 'all';

/** The `scaleReads` function ioredis calls for each read, and whether it picks by latency now. */
export interface ReadSelector {
  /** ioredis's `scaleReads`. */
  readonly choose: (nodes: (Redis | undefined)[], command: Command) => Redis | undefined;
  /** By latency (true) or at random as ioredis would (false); a policy reload may change it. */
  byLatency: boolean;
}

const selectors = new WeakMap<object, ReadSelector>();

/** Remembers the selector of a client whose `readSelector` option is not given, so a policy reload can turn it. */
export function followPolicy(client: object, selector: ReadSelector): void {
  selectors.set(client, selector);
}

/** The selector a client follows the policy with (undefined: none, or its `readSelector` option decides). */
export function policySelectorOf(client: object): ReadSelector | undefined {
  return selectors.get(client);
}

/** At a policy reload: reads by latency from now on if the new policy says `pool.selector: least-latency`. */
export function reconfigureReads(client: object, policy: ResolvedPolicy): void {
  const selector = selectors.get(client);
  if (selector !== undefined) selector.byLatency = policyWantsLatency(policy);
}

/** Whether the policy asks for reads by latency (`pool.selector: least-latency`). */
export function policyWantsLatency(policy: ResolvedPolicy): boolean {
  return policy.pool.selector === 'least-latency';
}

/**
 * The `scaleReads` function of a Cluster whose reads go to `mode`, by latency while `byLatency` is true, at random
 * (as ioredis's own `'slave'` / `'all'`) otherwise. `random` in [0, 1), `now` in ms (tests pass their own).
 */
export function readSelector(
  mode: ReadMode,
  byLatency: boolean,
  random: () => number = Math.random,
  now: () => number = performance.now.bind(performance),
): ReadSelector {
  const first = mode === 'all' ? 0 : 1;
  const selector: ReadSelector = {
    byLatency,
    choose(nodes) {
      const n = nodes.length;
      const count = n - first;
      if (count <= 0) return nodes[0];
      const i = first + Math.floor(random() * count);
      if (!selector.byLatency) return nodes[i];
      const t = now();
      let pick = nodes[i];
      if (count > 1) {
        let j = first + Math.floor(random() * (count - 1));
        if (j >= i) j++;
        const other = nodes[j];
        if (pick === undefined) pick = other;
        else if (other !== undefined && latencyOf(other, now).faded(t) < latencyOf(pick, now).faded(t))
          pick = other;
      }
      if (mode === 'all' || pick === undefined) return pick;
      const master = nodes[0];
      if (master === undefined) return pick;
      const yardstick = latencyOf(master, now).value;
      const cost = latencyOf(pick, now).faded(t);
      return cost > SLOW_FACTOR * yardstick && cost > yardstick + SLOW_GAP_MS ? master : pick;
    },
  };
  return selector;
}
