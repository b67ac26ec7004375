// How an attempt gets its client from a target (TargetSource.acquire): the connected path, a node connected on
// demand, the wait for a reconnect and its refusals, and what the target tells of itself meanwhile.
import { describe, expect, it } from 'vitest';
import type { AttemptContext, Lease } from '../../src/engine/types.js';
import { isNotConnectedError, isQueueFullError, isStoppedError } from '../../src/errors.js';
import { nodeA, nodeB, policyWith, request, setup, type FakeClient } from './source-parts.js';

const bindToAttempt = (client: FakeClient, attempt: AttemptContext): FakeClient => ({
  ...client,
  attempt: attempt.attempt,
});
/** What `acquire` settles with, a synchronous throw included, as a promise. */
// A request that is not a LeaseReceiver (as here) never gets leaseDeliveredLater: a lease, a promise or a throw.
const settled = (run: () => unknown) => Promise.resolve().then(run) as Promise<Lease<FakeClient>>;

describe('TargetSource.acquire: connected', () => {
  it('a single server hands out its one lease as it is, without a node', () => {
    const { source, slots } = setup();
    expect(source.acquire(request())).toBe(slots.all[0]!.lease);
  });

  it('bindAttempt gives each attempt a lease of its own, with the node it runs on', () => {
    const multi = setup({ nodes: [nodeA], bind: bindToAttempt });
    const lease = multi.source.acquire(request({ attempt: 2 })) as Lease<FakeClient>;
    expect(lease).toEqual({ client: { node: nodeA.id, attempt: 2 }, node: nodeA });
    expect(multi.slots.all[0]!.lease!.client).toEqual({ node: nodeA.id }); // the reused one stays unbound
    const one = setup({ bind: bindToAttempt });
    const own = one.source.acquire(request({ attempt: 3 })) as Lease<FakeClient>;
    expect(own).toEqual({ client: { node: '', attempt: 3 } });
    expect(Object.keys(own)).toEqual(['client']);
  });

  it('bindAttempt also binds a lease that came after a wait', async () => {
    const { source, reconnector } = setup({ nodes: [nodeA], bind: bindToAttempt });
    reconnector.status = 'reconnecting';
    reconnector.onWait = () => ((reconnector.status = 'connected'), Promise.resolve());
    const lease = await source.acquire(request({ attempt: 4 }));
    expect(lease).toEqual({ client: { node: nodeA.id, attempt: 4 }, node: nodeA });
  });

  it('a node the pool picks that has no client yet is connected for the attempt', async () => {
    const { source, slots } = setup({ nodes: [nodeA] });
    slots.all[0]!.lease = undefined;
    const lease = await source.acquire(request());
    expect(slots.connects).toEqual([nodeA.id]);
    expect(lease).toEqual({ client: { node: nodeA.id }, node: nodeA });
  });

  it('a node that cannot be connected fails the attempt as unreachable, with why', async () => {
    const { source, slots, clock } = setup({ nodes: [nodeA], policy: policyWith({ connectTimeout: 500 }) });
    slots.all[0]!.lease = undefined;
    const refused = new Error('ECONNREFUSED');
    slots.onConnect = () => Promise.reject(refused);
    await expect(source.acquire(request())).rejects.toMatchObject({
      code: 'ERR_NOT_CONNECTED',
      message: 'Could not connect to node a:1',
      target: 't',
      cause: refused,
    });
    // Connected, yet the slot has no client (it closed meanwhile).
    slots.onConnect = () => Promise.resolve({ node: nodeA.id });
    const error = await settled(() => source.acquire(request())).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'Could not connect to node a:1' });
    expect((error as Error).cause).toMatchObject({ message: 'Node a:1 has no client' });
    // A connect that hangs is cut at connectTimeout.
    slots.onConnect = () => new Promise(() => {});
    const hanging = settled(() => source.acquire(request())).catch((e: unknown) => e);
    await clock.advanceAsync(499);
    expect(clock.pending()).toBe(1);
    await clock.advanceAsync(1);
    const timedOut = (await hanging) as Error;
    expect(isNotConnectedError(timedOut.cause)).toBe(true);
    expect((timedOut.cause as Error).message).toBe('Connect timed out');
  });

  it('a connect on demand ends when the operation’s own signal aborts', async () => {
    const { source, slots } = setup({ nodes: [nodeA] });
    slots.all[0]!.lease = undefined;
    let seen: AbortSignal | undefined;
    slots.onConnect = (_slot, signal) => ((seen = signal), new Promise(() => {}));
    const caller = new AbortController();
    const pending = settled(() => source.acquire(request({ signal: caller.signal }))).catch(
      (e: unknown) => e,
    );
    const reason = new Error('deadline');
    caller.abort(reason);
    expect(((await pending) as Error).cause).toBe(reason);
    expect(seen?.aborted).toBe(true);
  });

  it('a node with no slot at all is not handed out: the acquire goes round, then says the connection keeps dropping', async () => {
    const { source, slots, reconnector } = setup({ nodes: [nodeA] });
    slots.all.length = 0;
    const last = new Error('lost');
    source.lastFailure = last;
    const error = await settled(() => source.acquire(request())).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_NOT_CONNECTED',
      message: 'Target "t" is not connected: the connection keeps dropping',
      cause: last,
    });
    expect(reconnector.waits).toHaveLength(3);
    expect(reconnector.nudges).toBe(3);
    // The reconnector's own last error comes first.
    reconnector.error = new Error('refused');
    const again = await settled(() => source.acquire(request())).catch((e: unknown) => e);
    expect((again as Error).cause).toBe(reconnector.error);
  });
});

describe('TargetSource.acquire: not connected', () => {
  it('a stopped target refuses at once; one never started says so', async () => {
    const { source, reconnector } = setup();
    reconnector.status = 'stopped';
    expect(isStoppedError(await settled(() => source.acquire(request())).catch((e: unknown) => e))).toBe(
      true,
    );
    reconnector.status = 'idle';
    const error = await settled(() => source.acquire(request())).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'Target "t" is not connected: it was not started' });
    expect(reconnector.waits).toEqual([]);
  });

  it('waits for the reconnect (nudging it) and then hands out the lease', async () => {
    const { source, reconnector, slots } = setup();
    reconnector.status = 'reconnecting';
    const req = request();
    reconnector.onWait = () => ((reconnector.status = 'connected'), Promise.resolve());
    expect(await source.acquire(req)).toBe(slots.all[0]!.lease);
    expect(reconnector.waits).toEqual([req]);
    expect(reconnector.nudges).toBe(1);
  });

  it('fail-fast refuses at once, not retryable, with what the target last failed with', async () => {
    const { source, reconnector } = setup({ policy: policyWith({ whileReconnecting: 'fail-fast' }) });
    reconnector.status = 'reconnecting';
    const never = (await settled(() => source.acquire(request())).catch((e: unknown) => e)) as Error;
    expect(never).toMatchObject({
      retryable: false,
      message: 'Target "t" has never connected since start()',
    });
    source.everConnected = true;
    source.lastFailure = new Error('reset');
    const refused = await settled(() => source.acquire(request())).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      retryable: false,
      message: 'Target "t" is not connected: it is reconnecting',
      cause: source.lastFailure,
    });
    reconnector.error = new Error('refused');
    const later = await settled(() => source.acquire(request())).catch((e: unknown) => e);
    expect((later as Error).cause).toBe(reconnector.error);
    expect(reconnector.waits).toEqual([]);
  });

  it('a new policy (a reload) applies from the next acquire', async () => {
    const { source, reconnector } = setup();
    reconnector.status = 'reconnecting';
    reconnector.onWait = () => ((reconnector.status = 'connected'), Promise.resolve());
    await source.acquire(request());
    reconnector.status = 'reconnecting';
    source.setPolicy(policyWith({ whileReconnecting: 'fail-fast' }));
    const refused = await settled(() => source.acquire(request())).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ERR_NOT_CONNECTED', retryable: false });
    expect(reconnector.waits).toHaveLength(1);
  });

  it('refuses with QueueFullError once maxWaiting operations wait, with the last failure as cause', async () => {
    const { source, reconnector } = setup({ policy: policyWith({ maxWaiting: 2 }) });
    reconnector.status = 'reconnecting';
    reconnector.waiters.size = 2;
    source.lastFailure = new Error('reset');
    const full = (await settled(() => source.acquire(request())).catch((e: unknown) => e)) as Error;
    expect(isQueueFullError(full)).toBe(true);
    expect(full.cause).toBe(source.lastFailure);
    reconnector.error = new Error('refused');
    const again = (await settled(() => source.acquire(request())).catch((e: unknown) => e)) as Error;
    expect(again.cause).toBe(reconnector.error);
    expect(reconnector.waits).toEqual([]);
  });
});

describe('TargetSource: what it tells of the target', () => {
  it('connected() is the reconnector’s status, not the breaker', () => {
    const { source, reconnector } = setup();
    expect(source.connected()).toBe(true);
    reconnector.status = 'reconnecting';
    expect(source.connected()).toBe(false);
  });

  it('unavailable(): a target that never connected while it tries (or failed) says so, with the last error', () => {
    const { source, reconnector } = setup();
    reconnector.error = new Error('ECONNREFUSED');
    for (const status of ['connecting', 'failed'] as const) {
      reconnector.status = status;
      expect(source.unavailable(), status).toMatchObject({
        code: 'ERR_NOT_CONNECTED',
        message: 'Target "t" has never connected since start(): ECONNREFUSED',
        cause: reconnector.error,
      });
    }
    for (const status of ['reconnecting', 'connected', 'stopped', 'idle'] as const) {
      reconnector.status = status;
      expect(source.unavailable(), status).toBeUndefined();
    }
    reconnector.status = 'connecting';
    source.everConnected = true;
    expect(source.unavailable()).toBeUndefined();
  });

  it('attemptsEndBy: the longest attempt timeout handed a node’s client, or the latest unbounded deadline', () => {
    const { source } = setup({ nodes: [nodeA, nodeB] });
    // Each node has its client: every lease is handed out at once.
    const hand = (over: Parameters<typeof request>[0]) =>
      expect(source.acquire(request(over))).not.toBeInstanceOf(Promise);
    expect(source.attemptsEndBy(100)).toBe(100);
    hand({ attemptTimeoutMs: 0, deadlineAt: 5000 });
    expect(source.attemptsEndBy(100)).toBe(5000);
    hand({ attemptTimeoutMs: 0, deadlineAt: 3000 });
    expect(source.attemptsEndBy(100)).toBe(5000);
    hand({ attemptTimeoutMs: 800, deadlineAt: 9000 });
    expect(source.attemptsEndBy(4500)).toBe(5300);
    hand({ attemptTimeoutMs: 300 });
    expect(source.attemptsEndBy(4500)).toBe(5300);
    hand({ attemptTimeoutMs: 0, deadlineAt: 7000 });
    expect(source.attemptsEndBy(0)).toBe(7000);
  });
});
