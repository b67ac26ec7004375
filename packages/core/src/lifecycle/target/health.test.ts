import { describe, expect, it } from 'vitest';
import type { Driver } from '../../driver/driver.js';
import type { NodeAddress } from '../../node-address.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { NodePool } from '../nodes/node-pool.js';
import { TargetErrors } from './errors.js';
import { targetHealth, type HealthParts } from './health.js';
import type { Slot } from './node-slots.js';

const a: NodeAddress = { id: 'a:9200', host: 'a', port: 9200 };
const b: NodeAddress = { id: 'b:9200', host: 'b', port: 9200 };
const c: NodeAddress = { id: 'c:9200', host: 'c', port: 9200 };
const driver = { name: 'fake', classify: () => ({ kind: 'connection' }) } as unknown as Driver;
const errors = new TargetErrors('search', driver, { password: 'hunter2' });

const slot = (node: NodeAddress | undefined, status?: string): Slot<unknown> => ({
  ...{ node, client: undefined, lease: undefined, unwatch: undefined, connecting: undefined },
  ...(status === undefined ? {} : { status }),
});

const parts = (over: Partial<HealthParts>): HealthParts => ({
  ...{ name: 'search', state: 'connected', connected: true, required: true, since: 1234 },
  ...{ lastError: undefined, pool: undefined, slots: [], unreachable: undefined, errors },
  ...over,
});

describe('targetHealth', () => {
  it('a single server: its state, no nodes, and what its last probe reported', () => {
    const h = targetHealth(parts({ slots: [slot(undefined, 'green')] }));
    expect(h).toStrictEqual({
      name: 'search',
      state: 'connected',
      connected: true,
      required: true,
      since: 1234,
      lastError: undefined,
      serverStatus: 'green',
      nodes: [],
    });
  });

  it('says nothing of a status no probe reported, and nothing of unreachable nodes without discovery', () => {
    const h = targetHealth(parts({ state: 'reconnecting', connected: false, slots: [slot(undefined)] }));
    expect(Object.keys(h)).toEqual(['name', 'state', 'connected', 'required', 'since', 'lastError', 'nodes']);
    expect(h).toMatchObject({ state: 'reconnecting', connected: false, nodes: [] });
  });

  it('per node: alive, deaths in a row and its own status; the server status is the first one reported', () => {
    const clock = createFakeClock(0);
    const pool = new NodePool({
      nodes: [a, b, c],
      clock,
      policy: {
        ...{ selector: 'round-robin', deadTimeout: 1000, deadTimeoutMax: 60_000, deadTimeoutCutoff: 5 },
        ...{ resurrect: 'none', nodeFailureThreshold: 1 },
        discovery: { onStart: false, interval: false, onFault: false },
      },
    });
    pool.markFailure(b);
    const h = targetHealth(parts({ pool, slots: [slot(a), slot(b, 'red'), slot(c, 'yellow')] }));
    expect(h.serverStatus).toBe('red');
    expect(h.nodes).toStrictEqual([
      { id: a.id, alive: true, deadCount: 0 },
      { id: b.id, alive: false, deadCount: 1, status: 'red' },
      { id: c.id, alive: true, deadCount: 0, status: 'yellow' },
    ]);
  });

  it('the last error and unreachable nodes’ errors are redacted descriptions', () => {
    const h = targetHealth(
      parts({
        lastError: new Error('auth failed for hunter2'),
        unreachable: [{ node: c, error: new Error('ECONNREFUSED c'), at: 99 }],
      }),
    );
    expect(h.lastError?.message).not.toContain('hunter2');
    expect(h.lastError?.message).toContain('auth failed');
    expect(h.unreachable).toStrictEqual([
      { id: c.id, error: errors.describe(new Error('ECONNREFUSED c')), at: 99 },
    ]);
    expect(h.unreachable![0]!.error?.message).toContain('ECONNREFUSED');
  });
});
