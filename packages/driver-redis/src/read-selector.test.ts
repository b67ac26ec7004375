import { resolvePolicy } from '@reconnect/core';
import type { Cluster, Command, Redis } from 'ioredis';
import { createRedisClient } from './client.js';
import { describe, expect, it } from 'vitest';
import { redisOptionsSchema } from './options.js';
import {
  FADE_MS,
  latencyOf,
  policySelectorOf,
  readSelector,
  reconfigureReads,
  SLOW_GAP_MS,
  MIN_SAMPLES,
  PROBE_EVERY_MS,
  UNTIMED_AT_START,
  WINDOW_MS,
} from './read-selector.js';

// A node connection as the selector sees it: ioredis's command queue (push on write, shift on reply) and its reset.
class Queue {
  items: unknown[] = [];
  get length(): number {
    return this.items.length;
  }
  push(item: unknown): number {
    return this.items.push(item);
  }
  shift(): unknown {
    return this.items.shift();
  }
}

interface FakeNode {
  name: string;
  commandQueue: Queue;
  resetCommandQueue(): void;
}

function fakeNode(name: string): FakeNode {
  return {
    name,
    commandQueue: new Queue(),
    resetCommandQueue() {
      this.commandQueue = new Queue();
    },
  };
}

const asRedis = (n: FakeNode) => n as unknown as Redis;
const get = { name: 'get' } as unknown as Command;

/** Past the first commands of a connection, which are not timed. */
function warm(node: FakeNode): void {
  for (let i = 0; i < UNTIMED_AT_START; i++) {
    node.commandQueue.push({ command: get });
    node.commandQueue.shift();
  }
}

/** A fake clock and a node whose replies take `ms` on it. */
function world() {
  let t = 1000;
  const now = () => t;
  const seen = new Set<FakeNode>();
  const reply = (node: FakeNode, ms: number, name = 'get') => {
    latencyOf(asRedis(node), now);
    if (!seen.has(node)) warm(node);
    seen.add(node);
    node.commandQueue.push({ command: { name } });
    t += ms;
    node.commandQueue.shift();
  };
  return { now, reply, wait: (ms: number) => (t += ms) };
}

/** Cycles through the values given, for the selector's draws. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('readSelector (scaleReads by latency)', () => {
  it('times each reply from its node connection’s queue, not blocking commands, and again after a reset', () => {
    const { now, reply } = world();
    const node = fakeNode('a');
    reply(node, 4);
    expect(latencyOf(asRedis(node), now)).toMatchObject({ value: 4, samples: 1 });
    reply(node, 60_000, 'blpop');
    expect(latencyOf(asRedis(node), now).samples).toBe(1);
    node.resetCommandQueue(); // what ioredis does at a reconnect: its first commands are not timed
    for (let i = 0; i < UNTIMED_AT_START; i++) reply(node, 50);
    expect(latencyOf(asRedis(node), now).samples).toBe(1);
    reply(node, 14);
    expect(latencyOf(asRedis(node), now)).toMatchObject({ value: 14, samples: 2 });
  });

  it('does not time the commands that were in the queue before it started timing', () => {
    let t = 5000;
    const now = () => t;
    const node = fakeNode('a');
    node.commandQueue.push({ command: get }); // a ready check, sent at connect
    const l = latencyOf(asRedis(node), now);
    l.untimed = 0;
    node.commandQueue.push({ command: get });
    t += 2;
    node.commandQueue.shift();
    expect(l.samples).toBe(0);
    node.commandQueue.shift();
    expect(l).toMatchObject({ samples: 1, value: 2 });
  });

  it('pairs replies with their own commands when several are in flight', () => {
    let t = 0;
    const now = () => t;
    const node = fakeNode('a');
    const l = latencyOf(asRedis(node), now);
    warm(node);
    node.commandQueue.push({ command: get }); // at 0
    t = 2;
    node.commandQueue.push({ command: get }); // at 2
    t = 10;
    node.commandQueue.shift(); // first: 10 ms
    expect(l.value).toBe(10);
    node.commandQueue.shift(); // second: 8 ms
    expect(l.value).toBe(8);
  });

  it("a node's speed is its shortest reply lately: a stall of the client does not make it slow, a slower node is", () => {
    const { now, reply, wait } = world();
    const node = fakeNode('a');
    const l = latencyOf(asRedis(node), now);
    for (let i = 0; i < 5; i++) reply(node, 0.5);
    reply(node, 40); // the client's event loop stalled while the reply waited
    reply(node, 30);
    expect(l.value).toBe(0.5);
    wait(2 * WINDOW_MS);
    for (let i = 0; i < 5; i++) reply(node, 3 + i / 10); // the node is slower now: within two windows, it shows
    expect(l.value).toBe(3);
  });

  it('slave: reads go to the replica, to the master while the replica is slow (one probe a second), and back', () => {
    const { now, reply, wait } = world();
    const master = fakeNode('master');
    const replica = fakeNode('replica');
    const s = readSelector('slave', true, draws(0.5), now);
    const nodes = [asRedis(master), asRedis(replica)];
    expect(s.choose(nodes, get)).toBe(replica);
    for (let i = 0; i < MIN_SAMPLES; i++) {
      reply(master, 0.5);
      reply(replica, 0.5);
    }
    expect(s.choose(nodes, get)).toBe(replica);
    wait(2 * WINDOW_MS);
    for (let i = 0; i < 5; i++) reply(replica, 10);
    expect(s.choose(nodes, get)).toBe(master);
    // Once every PROBE_EVERY_MS, one read tries it: still slow, then fast again.
    wait(PROBE_EVERY_MS - 10);
    expect(s.choose(nodes, get)).toBe(master);
    wait(10);
    expect(s.choose(nodes, get)).toBe(replica);
    expect(s.choose(nodes, get)).toBe(master);
    reply(replica, 10);
    wait(PROBE_EVERY_MS);
    expect(s.choose(nodes, get)).toBe(replica);
    wait(2 * WINDOW_MS);
    reply(replica, 0.6);
    expect(s.choose(nodes, get)).toBe(replica);
    expect(s.choose(nodes, get)).toBe(replica);
  });

  it('all: a slow node fades toward 0 while it gets no reads, and is tried again', () => {
    const { now, reply, wait } = world();
    const [master, replica] = [fakeNode('m'), fakeNode('r')];
    for (let i = 0; i < MIN_SAMPLES; i++) {
      reply(master, 1);
      reply(replica, 10);
    }
    const s = readSelector('all', true, draws(0, 0), now);
    const nodes = [master, replica].map(asRedis);
    expect(s.choose(nodes, get)).toBe(master);
    wait(FADE_MS * Math.log(10) + 10);
    reply(master, 1); // the master, which got the reads meanwhile, is as fast as ever
    expect(s.choose(nodes, get)).toBe(replica);
  });

  it('slave: a replica whose oldest command in flight has waited past the gap is slow at once', () => {
    const { now, reply, wait } = world();
    const [master, replica] = [fakeNode('m'), fakeNode('r')];
    const s = readSelector('slave', true, draws(0.5), now);
    const nodes = [master, replica].map(asRedis);
    for (let i = 0; i < MIN_SAMPLES; i++) {
      reply(master, 0.3);
      reply(replica, 0.3);
    }
    replica.commandQueue.push({ command: get }); // sent now, not answered yet
    wait(0.3 + SLOW_GAP_MS - 0.1);
    expect(s.choose(nodes, get)).toBe(replica);
    wait(0.2);
    expect(s.choose(nodes, get)).toBe(master);
    replica.commandQueue.shift(); // answered: its shortest reply lately is still 0.3 ms
    expect(s.choose(nodes, get)).toBe(replica);
  });

  it('slave: a replica is slow by SLOW_GAP_MS, whatever the ratio', () => {
    const { now, reply, wait } = world();
    const [master, replica] = [fakeNode('m'), fakeNode('r')];
    const s = readSelector('slave', true, draws(0.5), now);
    const nodes = [master, replica].map(asRedis);
    for (let i = 0; i < MIN_SAMPLES; i++) {
      reply(master, 0.1);
      reply(replica, 0.1 + SLOW_GAP_MS * 0.9);
    }
    expect(s.choose(nodes, get)).toBe(replica); // 10× the master's, under a millisecond more
    wait(2 * WINDOW_MS);
    for (let i = 0; i < 5; i++) {
      reply(master, 3);
      reply(replica, 4.5);
    } // 1.5×, 1.5 ms more
    expect(s.choose(nodes, get)).toBe(master);
  });

  it('slave: when every replica is slower at once, the reads stay on the replicas; one slower than the others loses them', () => {
    const { now, reply, wait } = world();
    const masters = [fakeNode('m1'), fakeNode('m2'), fakeNode('m3')];
    const replicas = [fakeNode('r1'), fakeNode('r2'), fakeNode('r3')];
    const s = readSelector('slave', true, draws(0.5), now);
    const shard = (i: number) => [masters[i]!, replicas[i]!].map(asRedis);
    for (let i = 0; i < 3; i++) s.choose(shard(i), get); // the selector meets every node
    for (const m of masters) for (let k = 0; k < MIN_SAMPLES; k++) reply(m, 0.3);
    for (let k = 0; k < MIN_SAMPLES; k++) for (const r of replicas) reply(r, 3);
    wait(150);
    for (let i = 0; i < 3; i++) expect(s.choose(shard(i), get)).toBe(replicas[i]);
    wait(2 * WINDOW_MS);
    for (let k = 0; k < 5; k++) {
      reply(replicas[0]!, 8);
      reply(replicas[1]!, 3);
      reply(replicas[2]!, 3);
    }
    wait(150);
    expect(s.choose(shard(0), get)).toBe(masters[0]);
    expect(s.choose(shard(1), get)).toBe(replicas[1]);
  });

  it('slave: the faster of two replicas; the master only when even that one is slow', () => {
    const { now, reply, wait } = world();
    const [master, r1, r2] = [fakeNode('m'), fakeNode('r1'), fakeNode('r2')];
    for (let i = 0; i < MIN_SAMPLES; i++) {
      reply(master, 1);
      reply(r1, 10);
      reply(r2, 1);
    }
    const s = readSelector('slave', true, draws(0, 0), now);
    const nodes = [master, r1, r2].map(asRedis);
    expect(s.choose(nodes, get)).toBe(r2);
    wait(2 * WINDOW_MS);
    for (let i = 0; i < 5; i++) reply(r2, 10);
    expect(s.choose(nodes, get)).toBe(master);
  });

  it('all: the faster of two nodes drawn, the master among them', () => {
    const { now, reply } = world();
    const [master, replica] = [fakeNode('m'), fakeNode('r')];
    for (let i = 0; i < MIN_SAMPLES; i++) {
      reply(master, 10);
      reply(replica, 1);
    }
    const s = readSelector('all', true, draws(0, 0), now);
    expect(s.choose([master, replica].map(asRedis), get)).toBe(replica);
    expect(s.choose([asRedis(master)], get)).toBe(master);
  });

  it('off (or turned off by a policy reload): at random, as ioredis, whatever the latency', () => {
    const { now, reply } = world();
    const [master, r1, r2] = [fakeNode('m'), fakeNode('r1'), fakeNode('r2')];
    for (let i = 0; i < MIN_SAMPLES; i++) {
      reply(master, 1);
      reply(r1, 50);
      reply(r2, 1);
    }
    const s = readSelector('slave', true, draws(0.1, 0.1, 0.9), now);
    s.byLatency = false;
    const nodes = [master, r1, r2].map(asRedis);
    expect([s.choose(nodes, get), s.choose(nodes, get), s.choose(nodes, get)]).toEqual([r1, r1, r2]);
    expect(readSelector('slave', false, () => 0, now).choose([asRedis(master)], get)).toBe(master);
  });

  it('a node ioredis has no connection for is skipped', () => {
    const { now } = world();
    const [master, replica] = [fakeNode('m'), fakeNode('r')];
    const s = readSelector('slave', true, draws(0, 0), now);
    expect(s.choose([asRedis(master), undefined, asRedis(replica)], get)).toBe(replica);
    expect(s.choose([asRedis(master), undefined], get)).toBe(undefined); // ioredis then sends it to the master
  });
});

describe('cluster.readSelector option and the policy', () => {
  const cluster = (extra: object) =>
    redisOptionsSchema.parse({ cluster: { nodes: ['127.0.0.1:7000'], ...extra } });
  const make = (options: ReturnType<typeof cluster>, selector?: 'least-latency') =>
    createRedisClient(options, {
      policy: resolvePolicy(selector === undefined ? {} : { pool: { selector } }),
      target: 't',
    }) as Cluster;

  it("follows pool.selector unless given; 'random' and scaleReads master leave ioredis's own choice", () => {
    const following = make(cluster({ scaleReads: 'slave' }), 'least-latency');
    expect(typeof following.options.scaleReads).toBe('function');
    expect(policySelectorOf(following)?.byLatency).toBe(true);
    reconfigureReads(following, resolvePolicy({}));
    expect(policySelectorOf(following)?.byLatency).toBe(false);
    reconfigureReads(following, resolvePolicy({ pool: { selector: 'least-latency' } }));
    expect(policySelectorOf(following)?.byLatency).toBe(true);

    expect(policySelectorOf(make(cluster({ scaleReads: 'all' })))?.byLatency).toBe(false);
    const given = make(cluster({ scaleReads: 'all', readSelector: 'least-latency' }));
    expect(typeof given.options.scaleReads).toBe('function');
    expect(policySelectorOf(given)).toBeUndefined(); // the option decides, not a reload
    expect(
      make(cluster({ scaleReads: 'slave', readSelector: 'random' }), 'least-latency').options.scaleReads,
    ).toBe('slave');
    expect(make(cluster({}), 'least-latency').options.scaleReads).toBe('master');
    for (const c of [following, given]) c.disconnect();
  });

  it('is accepted with scaleReads slave or all, and refused otherwise, saying what to set', () => {
    for (const scaleReads of ['slave', 'all'] as const)
      expect(
        redisOptionsSchema.parse({
          cluster: { nodes: ['127.0.0.1:7000'], scaleReads, readSelector: 'least-latency' },
        }).cluster?.readSelector,
      ).toBe('least-latency');
    const refused = redisOptionsSchema.safeParse({
      cluster: { nodes: ['127.0.0.1:7000'], readSelector: 'least-latency' },
    });
    expect(refused.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'cluster.readSelector',
        "cluster.readSelector picks among the nodes a read may go to, but scaleReads is not set ('master': every read goes to the master); set scaleReads to 'slave' or 'all', or drop readSelector",
      ],
    ]);
    expect(
      redisOptionsSchema.safeParse({
        cluster: { nodes: ['127.0.0.1:7000'], scaleReads: 'master', readSelector: 'random' },
      }).error?.issues[0]?.message,
    ).toMatch(/scaleReads is 'master'/);
    expect(
      redisOptionsSchema.safeParse({
        cluster: { nodes: ['127.0.0.1:7000'], scaleReads: 'slave', readSelector: 'fastest' },
      }).success,
    ).toBe(false);
  });
});
