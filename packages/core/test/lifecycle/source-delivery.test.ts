// An operation waiting for a reconnect holds no promise of the source's own: TargetSource hands the executor's
// attempts (LeaseReceivers) their lease directly when the wait ends (issue #29: a waiting operation's memory).
import { describe, expect, it } from 'vitest';
import {
  leaseDeliveredLater,
  receiveLease,
  type AcquireRequest,
  type Lease,
  type LeaseReceiver,
} from '../../src/engine/types.js';
import { isStoppedError } from '../../src/errors.js';
import { request, setup, type FakeClient } from './source-parts.js';

/** An acquire request that takes its lease by delivery, recording each one. */
function receiver(): AcquireRequest & LeaseReceiver<FakeClient> & { got: [unknown, unknown][] } {
  const got: [unknown, unknown][] = [];
  return Object.assign(request(), {
    got,
    [receiveLease](lease: Lease<FakeClient> | PromiseLike<Lease<FakeClient>> | undefined, error?: unknown) {
      got.push([lease, error]);
    },
  });
}

describe('TargetSource.acquire: a waiting LeaseReceiver', () => {
  it('answers leaseDeliveredLater, then hands the lease over once connected (no promise)', async () => {
    const { source, reconnector, slots } = setup();
    reconnector.status = 'reconnecting';
    let connect!: () => void;
    reconnector.onWait = () => new Promise<void>((r) => (connect = r));
    const req = receiver();
    expect(source.acquire(req)).toBe(leaseDeliveredLater);
    await Promise.resolve();
    expect(req.got).toEqual([]);
    reconnector.status = 'connected';
    connect();
    await new Promise((r) => setImmediate(r));
    expect(req.got).toEqual([[slots.all[0]!.lease, undefined]]);
  });

  it('hands over the error that ended the wait (the target stopped)', async () => {
    const { source, reconnector } = setup();
    reconnector.status = 'reconnecting';
    reconnector.onWait = () => ((reconnector.status = 'stopped'), Promise.resolve());
    const req = receiver();
    expect(source.acquire(req)).toBe(leaseDeliveredLater);
    await new Promise((r) => setImmediate(r));
    expect(req.got).toHaveLength(1);
    expect(req.got[0]![0]).toBeUndefined();
    expect(isStoppedError(req.got[0]![1])).toBe(true);
  });

  it('a request that is not a receiver still gets a promise', async () => {
    const { source, reconnector, slots } = setup();
    reconnector.status = 'reconnecting';
    reconnector.onWait = () => ((reconnector.status = 'connected'), Promise.resolve());
    const answer = source.acquire(request());
    expect(answer).toBeInstanceOf(Promise);
    expect(await answer).toBe(slots.all[0]!.lease);
  });
});

describe('TargetSource: the pace of operations let go after an outage', () => {
  const stoppedBeforeItRan = (interrupt: 'deadline' | 'aborted') =>
    ({
      ok: false,
      durationMs: 0,
      error: new Error(interrupt),
      classification: { kind: 'timeout', sent: false },
      interrupt,
    }) as const;

  it.each(['deadline', 'aborted'] as const)(
    'one let go and stopped before it ran (%s) hands its turn to the next: the queue cannot stall',
    (interrupt) => {
      const { source, reconnector, slots } = setup();
      slots.poolSize = 2;
      const pacer = reconnector.waiters.pacer!;
      pacer.reset();
      expect(pacer.allow(5)).toBe(2); // a pool of 2: two of five go
      reconnector.waiters.size = 3;
      source.report(slots.all[0]!.lease!, stoppedBeforeItRan(interrupt));
      expect(reconnector.waiters.releases).toBe(1);
      // Health is not told: the server said nothing.
      expect(source.lastFailure).toBeUndefined();
    },
  );
});

describe('TargetSource: a turn is never lost', () => {
  it('one let go that finds no client passes its turn to the next at once', async () => {
    const { source, reconnector, slots } = setup();
    slots.poolSize = 2;
    reconnector.waiters.pacer!.reset();
    reconnector.waiters.pacer!.allow(5); // two let go
    slots.all[0]!.lease = undefined; // connected, yet no client right now (closing)
    // Let go once; others wait behind it meanwhile.
    reconnector.onWait = () => ((reconnector.waiters.size = 1), Promise.resolve());
    const req = receiver();
    expect(source.acquire(req)).toBe(leaseDeliveredLater);
    await new Promise((r) => setImmediate(r));
    expect(reconnector.waiters.releases).toBe(1);
    expect(req.got).toEqual([]); // it waits again
  });
});
