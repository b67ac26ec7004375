// The node pool's finer rules: which node a retry avoids, which dead node is revived or offered first, how a
// ping revival goes, what discovery reports as a change, and read/write routing with several primaries.
import { describe, expect, it } from 'vitest';
import type { NodeAddress } from '../../node-address.js';
import { isNoNodeAvailableError } from '../../errors.js';
import type { PoolPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { NodePool } from './node-pool.js';

const node = (port: number, roles?: string[]): NodeAddress => ({
  ...{ id: `n${port}`, host: '127.0.0.1', port },
  ...(roles === undefined ? {} : { roles }),
});
const [a, b, c, d] = [node(1), node(2), node(3), node(4)];

const policy = (over: Partial<PoolPolicy> = {}): PoolPolicy => ({
  ...{ selector: 'round-robin', deadTimeout: 1000, deadTimeoutMax: 1_000_000, deadTimeoutCutoff: 5 },
  ...{ resurrect: 'optimistic', nodeFailureThreshold: 1 },
  discovery: { onStart: false, interval: false, onFault: false },
  ...over,
});

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('NodePool.select: avoiding the node that just failed', () => {
  it('keeps a first pick that is not the avoided node, without asking the selector again', () => {
    const pool = new NodePool({ nodes: [a, b, c], policy: policy(), clock: createFakeClock() });
    expect(pool.select(c).id).toBe(a.id);
    expect(pool.select().id).toBe(b.id);
  });

  it('asks the selector once more when it picked the avoided node, and takes its second pick', () => {
    const pool = new NodePool({ nodes: [a, b, c], policy: policy(), clock: createFakeClock() });
    expect(pool.select().id).toBe(a.id);
    expect(pool.select(b).id).toBe(c.id);
  });

  it('a selector that insists on the avoided node is overruled by the first other alive node', () => {
    const pool = new NodePool({
      nodes: [a, b, c],
      policy: policy({ selector: (nodes) => nodes.find((n) => n.id === c.id) }),
      clock: createFakeClock(),
    });
    expect(pool.select(c).id).toBe(a.id);
    expect(pool.select().id).toBe(c.id);
    const first = new NodePool({ nodes: [a, b], policy: policy({ selector: (nodes) => nodes[0] }) });
    expect(first.select(a).id).toBe(b.id);
  });

  it('with one node alive there is nothing to avoid: the selector is asked once', () => {
    const values = [0.1, 0.9, 0.1];
    const pool = new NodePool({
      nodes: [a, b],
      policy: policy({ selector: 'random', resurrect: 'none' }),
      clock: createFakeClock(),
      random: () => values.shift() ?? 0,
    });
    pool.markFailure(b);
    expect(pool.select(a).id).toBe(a.id); // takes 0.1
    pool.markSuccess(b);
    expect(pool.select().id).toBe(b.id); // takes 0.9
  });

  it('a selector that accepts none of the alive nodes fails the call with NoNodeAvailableError', () => {
    const pool = new NodePool({ nodes: [a], policy: policy({ selector: () => undefined }) });
    const error = thrown(() => pool.select());
    expect(isNoNodeAvailableError(error)).toBe(true);
    expect((error as Error).message).toBe('The node selector accepted none of the alive nodes');
    const empty = new NodePool({ nodes: [], policy: policy() });
    expect((thrown(() => empty.select()) as Error).message).toBe('The target has no node');
  });
});

describe('NodePool: dead nodes', () => {
  it('optimistic revival hands out the node whose dead time ended first; on a tie, the first listed', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b, c, d], policy: policy(), clock });
    pool.markFailure(b); // until 1000
    clock.advance(10);
    pool.markFailure(a); // until 1010
    pool.markFailure(c); // until 1010
    clock.advance(2000);
    expect(pool.select().id).toBe(b.id);
    pool.markSuccess(b);
    expect(pool.select().id).toBe(a.id);
  });

  it('every node dead: the one whose dead time ends first is offered; on a tie, the first listed', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b, c], policy: policy({ resurrect: 'none' }), clock });
    pool.markFailure(b);
    clock.advance(10);
    pool.markFailure(a);
    pool.markFailure(c);
    expect(pool.select().id).toBe(b.id);
    expect(pool.select(b).id).toBe(a.id); // the node that just failed is avoided when another exists
    expect(pool.select(a).id).toBe(b.id);
    const tie = new NodePool({ nodes: [a, b], policy: policy({ resurrect: 'none' }), clock });
    tie.markFailure(a);
    tie.markFailure(b);
    expect(tie.select().id).toBe(a.id);
  });

  it('a lone node is offered even when it is the one to avoid', () => {
    const pool = new NodePool({
      nodes: [a],
      policy: policy({ resurrect: 'none' }),
      clock: createFakeClock(),
    });
    pool.markFailure(a);
    expect(pool.select(a).id).toBe(a.id);
  });

  it('allDead is said once while every node stays dead, even across a discovery of the same nodes', () => {
    const pool = new NodePool({
      nodes: [a, b],
      policy: policy({ resurrect: 'none' }),
      clock: createFakeClock(),
    });
    let said = 0;
    pool.on('allDead', () => said++);
    pool.markFailure(a);
    pool.markFailure(b);
    pool.select();
    pool.setNodes([a, b]);
    pool.select();
    expect(said).toBe(1);
  });

  it('a success on an alive node with failures resets them and announces no resurrection', () => {
    const pool = new NodePool({ nodes: [a, b], policy: policy({ nodeFailureThreshold: 3 }) });
    const back: unknown[] = [];
    pool.on('nodeResurrected', (e) => back.push(e));
    pool.markFailure(a);
    pool.markSuccess(a);
    expect(pool.status(a.id)).toMatchObject({ alive: true, failures: 0 });
    expect(back).toEqual([]);
    pool.markFailure(a);
    pool.markFailure(a);
    expect(pool.status(a.id)?.alive).toBe(true); // the streak started again
  });

  it('a reload leaves alive nodes alone', () => {
    const clock = createFakeClock(500);
    const pool = new NodePool({ nodes: [a, b], policy: policy(), clock });
    pool.markFailure(b);
    pool.setPolicy(policy({ deadTimeout: 4000 }));
    expect(pool.status(a.id)).toMatchObject({ alive: true, deadUntil: 0 });
    expect(pool.status(b.id)).toMatchObject({ alive: false, deadUntil: 4500 });
  });
});

describe('NodePool: revival by ping', () => {
  const pinging = (o: { nodes: NodeAddress[]; resurrect?: PoolPolicy['resurrect'] }) => {
    const clock = createFakeClock(0);
    const pings: { id: string; resolve: () => void; reject: () => void }[] = [];
    const pool = new NodePool({
      nodes: o.nodes,
      policy: policy({ resurrect: o.resurrect ?? 'ping' }),
      clock,
      ping: (n) =>
        new Promise<void>((resolve, reject) =>
          pings.push({ id: n.id, resolve, reject: () => reject(new Error('x')) }),
        ),
    });
    return { clock, pool, pings };
  };

  it('one ping at a time per node; after it brought the node back, a later death is pinged again', async () => {
    const { clock, pool, pings } = pinging({ nodes: [a, b] });
    pool.markFailure(a);
    clock.advance(1000);
    expect([pool.select().id, pool.select().id]).toEqual([b.id, b.id]);
    expect(pings.map((p) => p.id)).toEqual([a.id]);
    pings[0]!.resolve();
    await clock.advanceAsync(0);
    expect(pool.status(a.id)?.alive).toBe(true);
    pool.markFailure(a);
    clock.advance(1000);
    pool.select();
    expect(pings.map((p) => p.id)).toEqual([a.id, a.id]);
  });

  it('a write pings a due replica too (only optimistic revival keeps replicas from writes)', () => {
    const primary = node(10, ['primary']);
    const replica = node(11, ['replica']);
    const { clock, pool, pings } = pinging({ nodes: [primary, replica] });
    pool.markFailure(replica);
    clock.advance(1000);
    expect(pool.select().id).toBe(primary.id);
    expect(pings.map((p) => p.id)).toEqual([replica.id]);
  });

  it('optimistic revival never pings, even when the pool can', () => {
    const { clock, pool, pings } = pinging({ nodes: [a, b], resurrect: 'optimistic' });
    pool.markFailure(a);
    clock.advance(1000);
    expect(pool.select().id).toBe(a.id);
    expect(pings).toEqual([]);
  });

  it('ping without a way to ping behaves as optimistic', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b], policy: policy({ resurrect: 'ping' }), clock });
    pool.markFailure(a);
    clock.advance(1000);
    expect(pool.select().id).toBe(a.id);
  });

  it('a failed ping of a node rediscovered meanwhile does not kill the new entry', async () => {
    const { clock, pool, pings } = pinging({ nodes: [a, b] });
    pool.markFailure(a);
    clock.advance(1000);
    pool.select();
    pool.setNodes([{ ...a, roles: ['data'] }, b]);
    pings[0]!.reject();
    await clock.advanceAsync(0);
    expect(pool.status(a.id)).toMatchObject({ deadCount: 1, node: { roles: ['data'] } });
  });
});

describe('NodePool.setNodes (discovery)', () => {
  it('reports added and removed nodes, each alone, and nothing when the list is the same', () => {
    const pool = new NodePool({ nodes: [a, b], policy: policy() });
    const changes: unknown[] = [];
    pool.on('nodesChanged', (e) => changes.push(e));
    pool.setNodes([b, a]);
    expect(changes).toEqual([]);
    pool.setNodes([a, b, c]);
    pool.setNodes([a, c]);
    expect(changes).toEqual([
      { added: [c], removed: [] },
      { added: [], removed: [b] },
    ]);
  });

  it('a node listed twice is one node; a first list is no change', () => {
    const pool = new NodePool({ nodes: [], policy: policy() });
    const changes: unknown[] = [];
    pool.on('nodesChanged', (e) => changes.push(e));
    pool.setNodes([a, a, b]);
    expect(changes).toEqual([]);
    expect(pool.nodes.map((s) => s.node.id)).toEqual([a.id, b.id]);
  });
});

describe('NodePool: routing with several primaries', () => {
  const [p1, p2] = [node(20, ['primary']), node(21, ['primary'])];
  const [r1, r2] = [node(22, ['replica']), node(23, ['replica'])];

  it('writes round-robin over the alive primaries; reads fall back to them when no replica is alive', () => {
    const pool = new NodePool({ nodes: [p1, p2, r1], policy: policy({ resurrect: 'none' }) });
    expect([1, 2, 3].map(() => pool.select().id)).toEqual([p1.id, p2.id, p1.id]);
    pool.markFailure(r1);
    expect([1, 2].map(() => pool.select(undefined, true).id)).toEqual([p2.id, p1.id]);
  });

  it('reads use the injected random source on a random pool', () => {
    const values = [0.9, 0.1];
    const pool = new NodePool({
      nodes: [p1, r1, r2],
      policy: policy({ selector: 'random' }),
      random: () => values.shift() ?? 0,
    });
    expect([pool.select(undefined, true).id, pool.select(undefined, true).id]).toEqual([r2.id, r1.id]);
  });

  it('every node dead: a read is offered the node back first, a replica included', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [p1, r1], policy: policy({ resurrect: 'none' }), clock });
    pool.markFailure(r1);
    clock.advance(10);
    pool.markFailure(p1);
    expect(pool.select(undefined, true).id).toBe(r1.id);
    expect(pool.select().id).toBe(p1.id);
  });

  it('a write avoiding the dead primary is still offered it, never a replica listed first', () => {
    const pool = new NodePool({ nodes: [r1, p1], policy: policy({ resurrect: 'none' }) });
    pool.markFailure(p1);
    expect(pool.select(p1).id).toBe(p1.id);
  });
});
