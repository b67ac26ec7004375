// A node the pool picks while it has no client (still connecting after start, discovered, resurrected) is connected
// for the attempt: within connectTimeout, and within the attempt's own limit when that is shorter. Seen on a
// 3-node Elasticsearch target right after start(): an operation whose pick was a hung node waited the node's whole
// connect (longer than the deadline) and its 300 ms attempt timeout never applied.
import { describe, expect, it } from 'vitest';
import type { Lease } from '../../src/engine/types.js';
import { nodeA, policyWith, request, setup, type FakeClient } from './source-parts.js';

// A request that is not a LeaseReceiver (as here) never gets leaseDeliveredLater: a lease, a promise or a throw.
const settled = (run: () => unknown) => Promise.resolve().then(run) as Promise<Lease<FakeClient>>;

describe('TargetSource.acquire: a node connected on demand is bounded by the attempt', () => {
  it('a hung connect is cut at the attempt timeout when it is shorter than connectTimeout', async () => {
    const { source, slots, clock } = setup({ nodes: [nodeA], policy: policyWith({ connectTimeout: 5000 }) });
    slots.all[0]!.lease = undefined;
    slots.onConnect = () => new Promise(() => {});
    const hanging = settled(() => source.acquire(request({ attemptTimeoutMs: 300 }))).catch(
      (e: unknown) => e,
    );
    await clock.advanceAsync(299);
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(1);
    const error = (await hanging) as Error;
    expect(error).toMatchObject({ code: 'ERR_NOT_CONNECTED', message: 'Could not connect to node a:1' });
    expect((error.cause as Error).message).toBe('Connect timed out');
  });

  it('connectTimeout still bounds it when the attempt has no limit (0) or a longer one', async () => {
    for (const attemptTimeoutMs of [0, 8000]) {
      const { source, slots, clock } = setup({ nodes: [nodeA], policy: policyWith({ connectTimeout: 500 }) });
      slots.all[0]!.lease = undefined;
      slots.onConnect = () => new Promise(() => {});
      const hanging = settled(() => source.acquire(request({ attemptTimeoutMs }))).catch((e: unknown) => e);
      await clock.advanceAsync(499);
      expect(clock.pending()).toBe(1);
      await clock.advanceAsync(1);
      expect(((await hanging) as Error).message).toBe('Could not connect to node a:1');
    }
  });
});
