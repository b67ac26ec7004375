import { describe, expect, it } from 'vitest';
import type { NodeAddress } from '../../node-address.js';
import { isNoNodeAvailableError } from '../../errors.js';
import type { PoolPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { deadTime, NodePool } from './node-pool.js';

const node = (port: number, extra: Partial<NodeAddress> = {}): NodeAddress => ({
  id: `127.0.0.1:${port}`,
  host: '127.0.0.1',
  port,
  ...extra,
});
const a = node(9200);
const b = node(9201);
const c = node(9202);

const policy = (over: Partial<PoolPolicy> = {}): PoolPolicy => ({
  selector: 'round-robin',
  deadTimeout: 1000,
  deadTimeoutMax: 1_000_000,
  deadTimeoutCutoff: 5,
  resurrect: 'optimistic',
  nodeFailureThreshold: 1,
  discovery: { onStart: false, interval: false, onFault: false },
  ...over,
});

describe('deadTime', () => {
  it('doubles per death up to the cutoff: 1, 2, 4, 8, 16, 32 × deadTimeout, then stays', () => {
    const p = policy();
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => deadTime(p, n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000,
    ]);
  });

  it('is capped by deadTimeoutMax', () => {
    const p = policy({ deadTimeoutMax: 20_000 });
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => deadTime(p, n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 20000, 20000,
    ]);
  });
});

describe('NodePool', () => {
  it('round-robins over alive nodes by default', () => {
    const pool = new NodePool({ nodes: [a, b, c], policy: policy(), clock: createFakeClock() });
    expect([1, 2, 3, 4].map(() => pool.select().id)).toEqual([a.id, b.id, c.id, a.id]);
  });

  it('random selector uses the injected random source', () => {
    const values = [0.9, 0.1, 0.5];
    const pool = new NodePool({
      nodes: [a, b, c],
      policy: policy({ selector: 'random' }),
      clock: createFakeClock(),
      random: () => values.shift() ?? 0,
    });
    expect([1, 2, 3].map(() => pool.select().id)).toEqual([c.id, a.id, b.id]);
  });

  it('a custom selector (hostname filter) picks among alive nodes', () => {
    const pool = new NodePool({
      nodes: [a, node(9300, { id: 'es-2', host: 'es-2.internal' })],
      policy: policy({ selector: (nodes) => nodes.find((n) => n.host.endsWith('.internal')) }),
      clock: createFakeClock(),
    });
    expect(pool.select().id).toBe('es-2');
  });

  it('marks a node dead after nodeFailureThreshold consecutive failures and reports when it may come back', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b], policy: policy({ nodeFailureThreshold: 3 }), clock });
    const dead: unknown[] = [];
    pool.on('nodeDead', (e) => dead.push(e));
    pool.markFailure(a);
    pool.markFailure(a);
    pool.markSuccess(a); // resets the consecutive count
    pool.markFailure(a);
    pool.markFailure(a);
    expect(pool.status(a.id)?.alive).toBe(true);
    pool.markFailure(a);
    expect(pool.status(a.id)?.alive).toBe(false);
    expect(dead).toEqual([{ node: a, deadCount: 1, retryAt: 1000 }]);
    expect([1, 2, 3].map(() => pool.select().id)).toEqual([b.id, b.id, b.id]);
  });

  it('grows the dead time per death and resets it on success', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b], policy: policy({ deadTimeoutMax: 20_000 }), clock });
    const waits: number[] = [];
    pool.on('nodeDead', (e) => waits.push((e.retryAt ?? 0) - clock.now()));
    for (let i = 0; i < 7; i++) {
      pool.markFailure(a);
      // Each death is a failed trial after the previous dead time ended.
      clock.advance(pool.status(a.id)!.deadUntil - clock.now());
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 20000, 20000]);
    pool.markSuccess(a);
    expect(pool.status(a.id)).toMatchObject({ alive: true, deadCount: 0, failures: 0 });
    pool.markFailure(a);
    expect(waits.at(-1)).toBe(1000);
  });

  it('when every node is dead, offers the one whose dead time ends first, and says so once', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b, c], policy: policy({ resurrect: 'none' }), clock });
    const said: unknown[] = [];
    pool.on('allDead', (e) => said.push(e));
    pool.markFailure(a); // dead until 1000
    clock.advance(10);
    pool.markFailure(b); // dead until 1010
    pool.markFailure(c); // dead until 1010
    clock.advance(1000);
    pool.markFailure(b); // a failed trial after its dead time: deadCount 2, until 3010
    pool.markFailure(a); // deadCount 2: until 3010
    for (let i = 0; i < 5; i++) expect(pool.select().id).toBe(c.id);
    expect(said).toEqual([{ offered: c, nodes: 3 }]);
    // Once a node is back and dies again, the rule is announced again.
    pool.markSuccess(c);
    pool.markFailure(c);
    pool.select();
    expect(said).toHaveLength(2);
  });

  it('throws NoNodeAvailableError only when there is no node at all', () => {
    const pool = new NodePool({ nodes: [], policy: policy(), clock: createFakeClock() });
    let caught: unknown;
    try {
      pool.select();
    } catch (error) {
      caught = error;
    }
    expect(isNoNodeAvailableError(caught)).toBe(true);
    expect((caught as { outcome?: string }).outcome).toBe('not_sent');
  });

  it('avoids the node the previous attempt failed on when another is alive', () => {
    const pool = new NodePool({ nodes: [a, b], policy: policy(), clock: createFakeClock() });
    for (let i = 0; i < 4; i++) expect(pool.select(a).id).toBe(b.id);
  });

  describe('resurrection', () => {
    it('optimistic: a dead node whose dead time is over is handed out again', () => {
      const clock = createFakeClock(0);
      const pool = new NodePool({ nodes: [a, b], policy: policy({ resurrect: 'optimistic' }), clock });
      pool.markFailure(a);
      expect(pool.select().id).toBe(b.id);
      clock.advance(999);
      expect(pool.select().id).toBe(b.id);
      clock.advance(1);
      expect(pool.select().id).toBe(a.id);
      pool.markSuccess(a);
      expect(pool.status(a.id)?.alive).toBe(true);
    });

    it('ping: probes the node in the background first; it is used only after the ping succeeds', async () => {
      const clock = createFakeClock(0);
      const pings: string[] = [];
      let answer: 'ok' | 'fail' = 'fail';
      const pool = new NodePool({
        nodes: [a, b],
        policy: policy({ resurrect: 'ping' }),
        clock,
        ping: (n) => {
          pings.push(n.id);
          return answer === 'ok' ? Promise.resolve() : Promise.reject(new Error('still down'));
        },
      });
      const back: unknown[] = [];
      pool.on('nodeResurrected', (e) => back.push(e));
      pool.markFailure(a);
      clock.advance(1000);
      expect(pool.select().id).toBe(b.id); // served by b while a is pinged
      expect(pings).toEqual([a.id]);
      await Promise.resolve();
      await Promise.resolve();
      // The failed ping killed it again, for twice as long.
      expect(pool.status(a.id)).toMatchObject({ alive: false, deadCount: 2, deadUntil: 3000 });
      clock.advance(2000);
      answer = 'ok';
      expect(pool.select().id).toBe(b.id);
      await Promise.resolve();
      await Promise.resolve();
      expect(pool.status(a.id)?.alive).toBe(true);
      expect(back).toEqual([{ node: a, deadCount: 2 }]);
      expect(pings).toEqual([a.id, a.id]);
    });

    it('a failed ping whose connect already reported the failure counts one death, not two', async () => {
      const clock = createFakeClock(0);
      // As the target does for a node without a client: the ping connects, the connect marks the failure, the ping rejects.
      const pool: NodePool = new NodePool({
        nodes: [a, b],
        policy: policy({ resurrect: 'ping' }),
        clock,
        ping: (n) => {
          pool.markFailure(n);
          return Promise.reject(new Error('refused'));
        },
      });
      const deaths: number[] = [];
      pool.on('nodeDead', (e) => deaths.push(e.deadCount));
      pool.markFailure(a);
      for (let i = 0; i < 4; i++) {
        clock.advance(pool.status(a.id)!.deadUntil - clock.now());
        pool.select();
        await clock.advanceAsync(0);
      }
      expect(deaths).toEqual([1, 2, 3, 4, 5]);
      expect(pool.status(a.id)!.deadUntil - clock.now()).toBe(16_000);
    });

    it('concurrent failures on the offered node of an all-dead pool count one death per trial', () => {
      const clock = createFakeClock(0);
      const pool = new NodePool({ nodes: [a], policy: policy({ resurrect: 'optimistic' }), clock });
      let deaths = 0;
      pool.on('nodeDead', () => deaths++);
      pool.markFailure(a);
      // Admitted before its retry time (all dead: offered anyway): failing calls do not lengthen the dead time.
      for (let i = 0; i < 10; i++) pool.markFailure(pool.select());
      expect(pool.status(a.id)!.deadCount).toBe(1);
      clock.advance(1000);
      const picked = Array.from({ length: 100 }, () => pool.select());
      for (const n of picked) pool.markFailure(n);
      expect(pool.status(a.id)!.deadCount).toBe(2);
      expect(deaths).toBe(2);
      expect(pool.status(a.id)!.deadUntil - clock.now()).toBe(2000);
    });

    it('none: a dead node is never tried again while another is alive', () => {
      const clock = createFakeClock(0);
      const pool = new NodePool({ nodes: [a, b], policy: policy({ resurrect: 'none' }), clock });
      pool.markFailure(a);
      clock.advance(1_000_000);
      for (let i = 0; i < 4; i++) expect(pool.select().id).toBe(b.id);
    });
  });

  it('discovery keeps the status and takes new metadata of known nodes', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b], policy: policy(), clock });
    const changes: unknown[] = [];
    pool.on('nodesChanged', (e) => changes.push(e));
    pool.markFailure(a);
    const a2 = { ...a, roles: ['data'], attributes: { zone: 'x' } };
    pool.setNodes([a2, c]);
    expect(pool.status(a.id)).toMatchObject({ alive: false, deadCount: 1, node: a2 });
    expect(pool.status(b.id)).toBeUndefined();
    expect(changes).toEqual([{ added: [c], removed: [b] }]);
  });
});

describe('NodePool: read/write routing (primary + replicas)', () => {
  const primary = node(3306, { roles: ['primary'] });
  const r1 = node(3307, { roles: ['replica'] });
  const r2 = node(3308, { roles: ['replica'] });
  const routed = (over: Partial<PoolPolicy> = {}): NodePool =>
    new NodePool({ nodes: [primary, r1, r2], policy: policy(over), clock: createFakeClock() });

  it('sends writes only to the primary and reads to the replicas, round-robin', () => {
    const pool = routed();
    expect([1, 2, 3].map(() => pool.select().id)).toEqual([primary.id, primary.id, primary.id]);
    expect([1, 2, 3].map(() => pool.select(undefined, true).id)).toEqual([r1.id, r2.id, r1.id]);
  });

  it('a read avoids the replica its previous attempt failed on', () => {
    const pool = routed();
    expect(pool.select(r1, true).id).toBe(r2.id);
  });

  it('reads fall back to the primary when every replica is dead', () => {
    const pool = routed();
    pool.markFailure(r1);
    pool.markFailure(r2);
    expect(pool.select(undefined, true).id).toBe(primary.id);
  });

  it('with the primary dead, writes are offered the primary (never a replica) and reads keep to the replicas', () => {
    const pool = routed();
    const allDead: unknown[] = [];
    pool.on('allDead', (e) => allDead.push(e));
    pool.markFailure(primary);
    expect(pool.select().id).toBe(primary.id);
    expect(pool.select(undefined, true).id).toBe(r1.id);
    expect(allDead).toEqual([]); // replicas still serve: not every node is dead
  });

  it('optimistic resurrection never hands a due replica to a write', () => {
    const clock = createFakeClock();
    const pool = new NodePool({ nodes: [primary, r1], policy: policy(), clock });
    pool.markFailure(r1);
    clock.advance(1000);
    expect(pool.select().id).toBe(primary.id);
    expect(pool.select(undefined, true).id).toBe(r1.id); // the read revives it
  });

  it('a target of replicas only refuses writes with NoNodeAvailableError', () => {
    const pool = new NodePool({ nodes: [r1, r2], policy: policy(), clock: createFakeClock() });
    expect(pool.select(undefined, true).id).toBe(r1.id);
    let error: unknown;
    try {
      pool.select();
    } catch (e) {
      error = e;
    }
    expect(isNoNodeAvailableError(error)).toBe(true);
    expect((error as Error).message).toMatch(/no primary node/);
  });

  it('nodes without roles serve reads and writes alike', () => {
    const pool = new NodePool({ nodes: [a, b], policy: policy(), clock: createFakeClock() });
    expect([pool.select(undefined, true).id, pool.select().id]).toEqual([a.id, b.id]);
  });
});

describe('NodePool.setPolicy (a reload)', () => {
  it("a dead node's time is recomputed under the new rule, from when it died; thresholds apply from the next call", () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({ nodes: [a, b], policy: policy({ deadTimeout: 1000 }), clock });
    pool.markFailure(a);
    expect(pool.status(a.id)?.deadUntil).toBe(1000);
    clock.advance(500);
    pool.setPolicy(policy({ deadTimeout: 10_000, nodeFailureThreshold: 2 }));
    expect(pool.status(a.id)?.deadUntil).toBe(10_000); // died at 0, dead for 10 s under the new rule
    clock.advance(4500);
    expect([1, 2, 3].map(() => pool.select().id)).toEqual([b.id, b.id, b.id]); // a is still dead at 5 s
    pool.markFailure(b); // the new threshold: one failure no longer kills
    expect(pool.status(b.id)?.alive).toBe(true);
    pool.setPolicy(policy({ deadTimeout: 100 }));
    expect(pool.status(a.id)?.deadUntil).toBe(100); // shortened: its time is already up
    expect(pool.select().id).toBe(a.id); // optimistic resurrection hands it out again
  });
});
