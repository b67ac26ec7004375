import type { ResolvedPolicy } from '@reconnect/core';
import type { Command, Redis } from 'ioredis';
import { createRequire } from 'node:module';

// Redis Cluster reads off a slow replica (issue #28). With `scaleReads: 'slave'` or `'all'`, ioredis picks the node
// of a read's slot at random; given a function instead, it calls it for each read-only command with the slot's
// node connections (the master first, then its replicas) and sends the command to the one returned. The function
// here picks by how fast each node connection has answered lately:
// - `all`: the faster of two nodes of the slot drawn at random ("power of two choices", as core's `least-latency`
//   node selector), so a slow node gets little traffic without herding every read onto the single fastest one;
// - `slave`: the faster of two replicas drawn at random (the only one when the shard has one), unless even that
//   one is slow — more than SLOW_GAP_MS slower than most of the client's replicas (than the master when there are
//   fewer than PEERS_FOR_MEDIAN), or its oldest command in flight has waited that long: the read then goes to the
//   master, which can always serve it. A shard usually has
//   a single replica, so without this there would be nothing to move the reads to.
//
// How fast a node answers is the shortest reply time it gave lately (over the last WINDOW_MS to 2 × WINDOW_MS, 50–100 ms), not
// an average: the time a client sees includes its own event-loop delays (a GC pause, a busy process), which only
// ever add, hit every node alike and, on a busy machine, are longer than what a slowed replica adds; the shortest
// time lately is what the node itself takes. (So a replica slow only now and then, most replies fast, is not
// avoided: that is a tail for hedging, not a slow node.)
// A replica found slow gets one read every PROBE_EVERY_MS, whose reply says whether it still is, so a recovered
// replica gets its reads back within about that long, and a slow one costs at most one slow read that often. With
// `all`, a node's value fades toward 0 while it gets no replies (time constant FADE_MS, as core's least-latency), so
// a node left alone because it was slow looks fast again after a while and gets a read.
//
// The times come from the node connection's own command queue (ioredis pushes each command it writes and shifts it
// when its reply is parsed): the queue gets a `push` and `shift` of its own that note the time in a ring of send
// times beside it. That is once per node connection (and again when ioredis replaces the queue at a reconnect), so
// a command pays two clock reads and no allocation; the function a read calls allocates nothing either (ioredis
// already makes the array of the slot's nodes it is given). Blocking commands (BLPOP, XREAD, WAIT…) are not timed.

/** A node's speed is its shortest reply over the last WINDOW_MS to 2 × WINDOW_MS (ms). */
export const WINDOW_MS = 50;
/** `all`: how fast a node's value fades while it gets no replies (time constant, ms; as core's least-latency). */
export const FADE_MS = 1000;
/** `slave`: a replica found slow gets one read this often (ms), to see whether it still is. */
export const PROBE_EVERY_MS = 1000;
/**
 * `slave`: a replica is slow when it is more than this many ms slower than most replicas. An absolute gap, not a
 * ratio: a difference under a millisecond (a proxy hop, a busier host) is no reason to load the master.
 */
export const SLOW_GAP_MS = 1;
/** Send times kept per node connection: replies behind more commands in flight than this are not timed. */
const RING = 256;
const MASK = RING - 1;
/** The first commands of a connection are not timed (its handshake, a cold start). */
export const UNTIMED_AT_START = 10;
/** A node is tried (its cost is 0) until it has replied this many times. */
export const MIN_SAMPLES = 5;
/** The replicas' median is recomputed this often at most (ms)… */
const MEDIAN_EVERY_MS = 100;
/** …and used once at least this many replicas have replied a few times. */
const PEERS_FOR_MEDIAN = 3;

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

/**
 * The replicas one client reads from, and the median of their speeds: what a replica takes now. Recomputed at most
 * every MEDIAN_EVERY_MS, by the read that finds it stale.
 */
export interface Peers {
  readonly nodes: NodeLatency[];
  median: number;
  /** How many replicas the median is of: it counts from PEERS_FOR_MEDIAN. */
  fresh: number;
  at: number;
}

/** How fast one node connection has answered lately. */
export class NodeLatency {
  /** The shortest reply (ms) over the last one to two windows, as of `at`. */
  value = 0;
  /** When the last reply was timed (the clock's ms); 0: never. */
  at = 0;
  /** Replies timed. */
  samples = 0;
  /** The shortest reply of the current window, and of the one before. */
  #current = Infinity;
  #previous = Infinity;
  #windowStart = -Infinity;
  /** Send time of the i-th command pushed on the queue, at `i & MASK` (NaN: not timed). */
  readonly sentAt = new Float64Array(RING);
  /** Commands pushed on the queue so far. */
  pushes = 0;
  /** Commands still to be pushed before timing starts on this connection. */
  untimed = 0;
  /** The queue being timed (ioredis replaces it at a reconnect). */
  queue: Queue | undefined = undefined;
  /** `slave`: whether this replica was found slow at the last read that asked, and since when it was last tried. */
  slow = false;
  probedAt = 0;

  observe(ms: number, now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed >= WINDOW_MS) {
      this.#previous = elapsed >= 2 * WINDOW_MS ? Infinity : this.#current;
      this.#current = Infinity;
      this.#windowStart = now;
    }
    if (ms < this.#current) this.#current = ms;
    this.value = Math.min(this.#current, this.#previous);
    this.samples++;
    this.at = now;
  }

  /**
   * How long the oldest command in flight on the node has waited (ms; 0 with none, or not timed): a node that turned
   * slow shows it here at its first slow reply's worth, before its shortest reply lately does.
   */
  waiting(now: number): number {
    const inFlight = this.queue?.length ?? 0;
    if (inFlight === 0 || inFlight > RING) return 0;
    const sentAt = this.sentAt[(this.pushes - inFlight) & MASK]!;
    return sentAt <= now ? now - sentAt : 0;
  }

  /** What a read costs on the node: its faded value, 0 (try it) until it has replied a few times. */
  cost(now: number): number {
    return this.samples < MIN_SAMPLES ? 0 : this.faded(now);
  }

  /** The value now, faded by the time since the last reply. */
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
export function latencyOf(node: Redis, now: () => number, peers?: Peers): NodeLatency {
  const timed = node as unknown as TimedNode;
  let latency = timed[latencyKey];
  if (latency !== undefined) return latency;
  latency = new NodeLatency();
  peers?.nodes.push(latency);
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
  // Commands already in the queue (or in a queue ioredis replaced) were not timed; nor are the first of a new
  // connection (its handshake and a cold start would make a new node look slow for seconds).
  latency.sentAt.fill(NaN);
  latency.untimed = UNTIMED_AT_START;
  latency.queue = queue;
  const proto = Object.getPrototypeOf(queue) as Queue;
  const push = proto.push;
  const shift = proto.shift;
  Object.defineProperties(queue, {
    push: {
      configurable: true,
      value: function timedPush(this: Queue, item: QueueItem): number {
        latency.sentAt[latency.pushes++ & MASK] =
          latency.untimed > 0 ? (latency.untimed--, NaN) : isBlocking(item.command.name) ? NaN : now();
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

const recent: number[] = [];

function updateMedian(peers: Peers, t: number): void {
  recent.length = 0;
  for (const node of peers.nodes) if (node.samples >= MIN_SAMPLES) recent.push(node.value);
  recent.sort((a, b) => a - b);
  peers.fresh = recent.length;
  peers.median = recent.length === 0 ? 0 : recent[recent.length >> 1]!;
  peers.at = t;
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
  const peers: Peers = { nodes: [], median: 0, fresh: 0, at: -Infinity };
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
        else if (
          other !== undefined &&
          latencyOf(other, now, peers).cost(t) < latencyOf(pick, now, peers).cost(t)
        )
          pick = other;
      }
      if (mode === 'all' || pick === undefined) return pick;
      const master = nodes[0];
      if (master === undefined) return pick;
      // Slow: slower by the gap than most replicas (than the master when there are too few to tell). The read then
      // goes to the master.
      const replica = latencyOf(pick, now, peers);
      if (replica.samples < MIN_SAMPLES) return pick;
      if (t - peers.at >= MEDIAN_EVERY_MS) updateMedian(peers, t);
      const yardstick = peers.fresh >= PEERS_FOR_MEDIAN ? peers.median : latencyOf(master, now).value;
      // Its shortest reply lately, or what its oldest command in flight has waited if longer.
      const cost = Math.max(replica.value, replica.waiting(t));
      if (!(cost - SLOW_GAP_MS > yardstick)) {
        replica.slow = false;
        return pick;
      }
      // Slow: one read now and then tells whether it still is.
      if (!replica.slow) {
        replica.slow = true;
        replica.probedAt = t;
      }
      if (t - replica.probedAt < PROBE_EVERY_MS) return master;
      replica.probedAt = t;
      return pick;
    },
  };
  return selector;
}
