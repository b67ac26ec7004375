import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  isConfigError,
  isNotConnectedError,
  isStoppedError,
  type FakeClock,
  type PolicyInput,
} from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import type { Target } from '../../src/lifecycle/types.js';
import { createMemoryDriver, MemoryError, type MemoryClient } from './memory-driver.js';

// Deterministic policy: no jitter, fixed small delays, generous deadlines.
const basePolicy = (over: PolicyInput = {}): PolicyInput => ({
  ...over,
  retry: {
    maxRetries: 2,
    backoff: { type: 'fixed', base: 10, max: 10, jitter: 'none' },
    attemptTimeout: 1000,
    deadline: 5000,
    budget: { enabled: false },
    ...over.retry,
  },
  healthCheck: {
    interval: 1000,
    jitter: 0,
    timeout: 200,
    failureThreshold: 3,
    successThreshold: 1,
    ...over.healthCheck,
  },
  reconnect: {
    backoff: { type: 'fixed', base: 500, max: 500, jitter: 'none' },
    connectTimeout: 300,
    minProbeGap: 50,
    ...over.reconnect,
  },
  circuitBreaker: { enabled: false, ...over.circuitBreaker },
});

function setup(opts: { policy?: PolicyInput; nodes?: number[]; watch?: boolean } = {}) {
  const clock = createFakeClock(0);
  const { driver, control } = createMemoryDriver(opts.watch ? { watch: true } : {});
  const target = createTarget({
    name: 'mem',
    driver,
    options: opts.nodes ? { nodes: opts.nodes } : {},
    policy: basePolicy(opts.policy),
    clock,
    random: () => 0.5,
  });
  const states: string[] = [];
  target.on('stateChange', (e) => states.push(`${e.from}->${e.to}`));
  return { clock, driver, control, target, states };
}

async function started(target: Target<MemoryClient>, clock: FakeClock): Promise<void> {
  const p = target.start();
  await clock.advanceAsync(0);
  await p;
}

const query =
  (value = 'q') =>
  (c: MemoryClient) =>
    c.query(value);

describe('Target', () => {
  it('connects on start, exposes the client and runs operations through the executor', async () => {
    const { clock, target, control, states } = setup();
    await started(target, clock);
    expect(target.state).toBe('connected');
    expect(target.client.id).toBe(1);
    await expect(target.execute(query('a'), { idempotent: true })).resolves.toBe('a@single');
    expect(states).toEqual(['idle->connecting', 'connecting->connected']);
    expect(control.calls.connect).toBe(1);
    await target.stop();
  });

  it('validates driver options with the driver schema, reported as a ConfigError at targets.NAME.options', () => {
    const { driver } = createMemoryDriver();
    let caught: unknown;
    try {
      createTarget({ name: 'bad', driver, options: { label: 42 } as never });
    } catch (error) {
      caught = error;
    }
    expect(isConfigError(caught)).toBe(true);
    expect((caught as { issues: { path: unknown[] }[] }).issues[0]?.path).toEqual([
      'targets',
      'bad',
      'options',
      'label',
    ]);
  });

  it('start() rejects when the first connect fails for good (maxRetries exhausted)', async () => {
    const { clock, target, control } = setup({
      policy: { reconnect: { maxRetries: 2, onExhausted: 'stop' } },
    });
    control.connect = 'fail';
    const p = target.start().catch((e: unknown) => e);
    await clock.advanceAsync(2000);
    const error = await p;
    expect(isNotConnectedError(error)).toBe(true);
    expect(control.calls.connect).toBe(3);
    expect(target.state).toBe('failed');
    await target.stop();
  });

  it('start() rejects at once on bad credentials (classified auth): one connect, no retry', async () => {
    const { clock, target, control } = setup();
    control.connectError = new MemoryError('password authentication failed', 'auth', '28P01');
    const p = target.start().catch((e: unknown) => e);
    await clock.advanceAsync(0);
    const error = await p;
    expect(isNotConnectedError(error)).toBe(true);
    expect((error as { kind?: string }).kind).toBe('auth');
    await clock.advanceAsync(60_000);
    expect(control.calls.connect).toBe(1);
    expect(target.state).toBe('failed');
    await target.stop();
  });

  it('passive health: the first failing operations take the target down, before any probe', async () => {
    const { clock, target, control, states } = setup({ policy: { retry: { maxRetries: 0 } } });
    await started(target, clock);
    const probesBefore = control.calls.probe;
    control.serverDown = true;
    control.connect = 'fail';
    for (let i = 0; i < 3; i++) await target.execute(query(), { idempotent: true }).catch(() => undefined);
    expect(target.state).toBe('reconnecting');
    expect(control.calls.probe).toBe(probesBefore); // no probe was needed
    expect(states.at(-1)).toBe('connected->reconnecting');
    expect(control.clients[0]?.closed).toBe(true); // a non-self-reconnecting client is replaced
    await target.stop();
  });

  it('active health: probes going down trigger a reconnect with a new client', async () => {
    const { clock, target, control } = setup();
    await started(target, clock);
    const events: string[] = [];
    target.on('disconnect', () => events.push('disconnect'));
    target.on('reconnect', (e) => events.push(`reconnect:${e.attempts}:${e.downtimeMs}`));
    target.on('healthCheck', (e) => events.push(`hc:${e.ok}`));
    control.probe = 'fail';
    // Three failed probes: the first at the interval, the two confirming ones at once after it.
    await clock.advanceAsync(1000);
    expect(target.state).toBe('reconnecting');
    control.probe = 'succeed';
    await clock.advanceAsync(500); // the first reconnect attempt (fixed 500 ms)
    expect(target.state).toBe('connected');
    expect(target.client.id).toBe(2);
    expect(events).toEqual(['hc:false', 'hc:false', 'hc:false', 'disconnect', 'reconnect:1:500']);
    await target.stop();
  });

  it('successThreshold 2: a (re)connect is up only after two consecutive successful probes', async () => {
    const { clock, target, control, states } = setup({
      policy: {
        healthCheck: { successThreshold: 2, failureThreshold: 1 },
        reconnect: { connectTimeout: 1000 },
      },
    });
    await started(target, clock);
    expect(control.calls).toMatchObject({ connect: 1, probe: 2 });
    control.probe = 'fail';
    await clock.advanceAsync(1000);
    expect(target.state).toBe('reconnecting');
    // The next attempt connects and its first probe passes, but the second fails: not up yet.
    control.probe = 'succeed';
    control.probeQueue.push('succeed', 'fail');
    await clock.advanceAsync(500);
    expect(target.state).toBe('reconnecting');
    expect(control.clients.at(-1)?.closed).toBe(true); // the unproven client is not kept
    await clock.advanceAsync(500);
    expect(target.state).toBe('connected');
    expect(states.slice(-2)).toEqual(['connected->reconnecting', 'reconnecting->connected']);
    expect(control.calls.connect).toBe(3);
    await target.stop();
  });

  it('a breaker opened during an outage closes when the target reconnects: no fail-fast after recovery', async () => {
    const { clock, target, control } = setup({
      policy: {
        retry: { maxRetries: 0, attemptTimeout: 100, deadline: 100 },
        circuitBreaker: { enabled: true, mode: 'consecutive', failureThreshold: 2, openFor: 30_000 },
        reconnect: { whileReconnecting: 'fail-fast' },
      },
    });
    await started(target, clock);
    const breaker: string[] = [];
    target.on('breakerStateChange', (e) => breaker.push(`${e.from}->${e.to}`));
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(1000); // down: reconnecting
    expect(target.state).toBe('reconnecting');
    for (let i = 0; i < 2; i++) {
      await expect(target.execute(query('x'), { idempotent: true })).rejects.toThrow();
    }
    expect(breaker).toEqual(['closed->open']);
    control.connect = 'succeed';
    control.probe = 'succeed';
    await clock.advanceAsync(500); // the next reconnect attempt succeeds
    expect(target.state).toBe('connected');
    expect(breaker).toEqual(['closed->open', 'open->closed']);
    // Well inside openFor (30 s): without the reset this would be ERR_BREAKER_OPEN.
    await expect(target.execute(query('y'), { idempotent: true })).resolves.toBe('y@single');
    await target.stop();
  });

  it("passive health: an attempt cut by the caller's own deadline does not count against the server", async () => {
    const { clock, target } = setup({
      policy: { retry: { maxRetries: 0, attemptTimeout: 1000 }, healthCheck: { failureThreshold: 1 } },
    });
    await started(target, clock);
    const hurried = target.execute(() => new Promise<string>(() => {}), { idempotent: true, deadline: 100 });
    const settled = hurried.catch((e: unknown) => e);
    await clock.advanceAsync(100);
    expect(await settled).toBeInstanceOf(Error);
    // One counted timeout would have taken the target down (failureThreshold 1).
    expect(target.state).toBe('connected');
    // The policy's own attempt timeout, on the other hand, is a health signal.
    const slow = target
      .execute(() => new Promise<string>(() => {}), { idempotent: true })
      .catch((e: unknown) => e);
    await clock.advanceAsync(1000);
    await slow;
    expect(target.state).toBe('reconnecting');
    await target.stop();
  });

  it('stop() waits for a close a reconnect began before it: no client outlives stop()', async () => {
    const { clock, target, control } = setup();
    await started(target, clock);
    control.closeDelayMs = 150; // a driver whose close takes a while (pg's pool.end, a TLS shutdown)
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(1000); // down: the reconnect closes the old client, in the background
    expect(target.state).toBe('reconnecting');
    expect(control.calls.close).toBe(1);
    await target.stop();
    expect(control.closedDone).toBe(control.calls.close);
  });

  it('wait: operations during reconnecting wait, and 1 000 of them cause one on-demand connect per gap', async () => {
    const { clock, target, control } = setup({
      policy: {
        reconnect: { backoff: { type: 'fixed', base: 60_000, max: 60_000, jitter: 'none' }, minProbeGap: 50 },
      },
    });
    await started(target, clock);
    let lostAt = NaN;
    target.on('stateChange', (e) => {
      if (e.to === 'reconnecting') lostAt = clock.now();
    });
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(3000);
    expect(target.state).toBe('reconnecting');
    const connectsBefore = control.calls.connect;
    const ops = Array.from({ length: 1000 }, () =>
      target.execute(query('w'), { idempotent: true, deadline: 10_000 }),
    );
    await clock.advanceAsync(0);
    expect(control.calls.connect - connectsBefore).toBe(1);
    // Down for 2 s, within the on-demand spread's 5 s grace: the gap is minProbeGap, 50 ms.
    expect(clock.now() - lostAt).toBe(2000);
    await clock.advanceAsync(49);
    expect(control.calls.connect - connectsBefore).toBe(1);
    control.connect = 'succeed';
    control.probe = 'succeed';
    await clock.advanceAsync(1);
    expect(control.calls.connect - connectsBefore).toBe(2); // recovery at the gap, not at the 60 s backoff timer
    const results = await Promise.all(ops);
    expect(results.every((r) => r === 'w@single')).toBe(true);
    expect(target.state).toBe('connected');
    await target.stop();
  });

  it('fail-fast: operations during reconnecting fail at once with NotConnectedError, nothing sent', async () => {
    const { clock, target, control } = setup({
      policy: { reconnect: { whileReconnecting: 'fail-fast' }, retry: { maxRetries: 0 } },
    });
    await started(target, clock);
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(3000);
    const queries = control.calls.query;
    const error = await target.execute(query(), { idempotent: true }).catch((e: unknown) => e);
    const chain: unknown[] = [];
    for (let e: unknown = error; e !== undefined; e = (e as { cause?: unknown }).cause) chain.push(e);
    expect(chain.some(isNotConnectedError)).toBe(true);
    expect(control.calls.query).toBe(queries);
    await target.stop();
  });

  it('fail-fast with retries allowed: the refusal is not retried — it reaches the caller as is, at once', async () => {
    const { clock, target, control } = setup({
      policy: { reconnect: { whileReconnecting: 'fail-fast' }, retry: { maxRetries: 3 } },
    });
    await started(target, clock);
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(3000);
    expect(target.state).toBe('reconnecting');
    let settledAt: number | undefined;
    const result = target.execute(query(), { idempotent: true }).then(
      () => undefined,
      (e: unknown) => {
        settledAt = clock.now();
        return e;
      },
    );
    const start = clock.now();
    await clock.advanceAsync(0);
    expect(settledAt).toBe(start); // not after a 10 ms backoff, let alone three
    const error = await result;
    expect(isNotConnectedError(error)).toBe(true); // itself, not a RetriesExhaustedError around it
    expect(error).toMatchObject({ outcome: 'not_sent', retryable: false });
    await target.stop();
  });

  it('a self-reconnecting client (watch) is never closed on a fault; nudges use reconnectNow; up() restores', async () => {
    const { clock, target, control } = setup({ watch: true });
    await started(target, clock);
    await clock.advanceAsync(100); // past minProbeGap since the first connect
    const monitor = control.monitors[0]!;
    monitor.down(new Error('socket closed'));
    expect(target.state).toBe('reconnecting');
    expect(control.clients[0]?.closed).toBe(false);
    control.probe = 'fail';
    const op = target.execute(query('x'), { idempotent: true, deadline: 10_000 });
    await clock.advanceAsync(0);
    expect(control.calls.reconnectNow).toBe(1);
    monitor.up();
    control.probe = 'succeed';
    await expect(op).resolves.toBe('x@single');
    expect(control.calls.connect).toBe(1);
    expect(target.client.id).toBe(1);
    await target.stop();
    expect(control.unwatched).toBe(1);
  });

  it('multi-node: one client per node; a failing node is avoided on retry and marked dead', async () => {
    const { clock, target, control } = setup({
      nodes: [9200, 9201, 9202],
      policy: { pool: { resurrect: 'none' } },
    });
    await started(target, clock);
    expect(control.calls.connect).toBe(3);
    const dead: string[] = [];
    target.on('nodeDead', (e) => dead.push(e.node.id));
    control.downNodes.add('127.0.0.1:9200');
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const op = target.execute(query('m'), { idempotent: true });
      await clock.advanceAsync(100); // the executor's backoff runs on the fake clock
      results.push(await op);
    }
    expect(results.every((r) => !r.endsWith('9200'))).toBe(true);
    expect(dead).toEqual(['127.0.0.1:9200']);
    expect(target.health().nodes).toEqual([
      { id: '127.0.0.1:9200', alive: false, deadCount: 1 },
      { id: '127.0.0.1:9201', alive: true, deadCount: 0 },
      { id: '127.0.0.1:9202', alive: true, deadCount: 0 },
    ]);
    expect(target.state).toBe('connected');
    await target.stop();
  });

  it('stop() during a hanging connect aborts it and leaves no client, timer or pending start', async () => {
    const { clock, target, control } = setup();
    control.connect = 'hang';
    const start = target.start().catch((e: unknown) => e);
    await clock.advanceAsync(0);
    expect(control.calls.connect).toBe(1);
    await target.stop();
    expect(isStoppedError(await start)).toBe(true);
    expect(control.clients).toHaveLength(0);
    expect(clock.pending()).toBe(0);
  });

  it('stop() fails waiting operations, closes clients and leaves no timer', async () => {
    const { clock, target, control } = setup();
    await started(target, clock);
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(3000);
    const op = target.execute(query(), { idempotent: true, deadline: 60_000 }).catch((e: unknown) => e);
    await clock.advanceAsync(0);
    await target.stop();
    const error = await op;
    expect(isStoppedError(error) || isStoppedError((error as { cause?: unknown }).cause)).toBe(true);
    expect(target.state).toBe('stopped');
    expect(control.clients.every((c) => c.closed)).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('errors in health() and start() never carry the password, even when the driver quotes it', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({
      name: 'sec',
      driver,
      options: { password: 'hunter2-secret' },
      policy: basePolicy({ reconnect: { maxRetries: 0 } }),
      clock,
    });
    control.connectError = new MemoryError(
      'cannot reach redis://app:hunter2-secret@10.0.0.1:6379 (password hunter2-secret)',
      'connection',
    );
    // Attempts exhausted, still probing: start() says so at reconnect.startTimeout (5 s).
    const started = target.start().catch((e: unknown) => e);
    await clock.advanceAsync(5000);
    const error = await started;
    expect((error as Error).message).not.toContain('hunter2-secret');
    expect((error as Error).message).toContain('redis://app:***@10.0.0.1');
    expect(JSON.stringify(target.health())).not.toContain('hunter2-secret');
    await target.stop();
  });

  it('health() reports state, since, last error without secrets', async () => {
    const { clock, target, control } = setup({ policy: { reconnect: { maxRetries: 1 } } });
    control.connect = 'fail';
    void target.start().catch(() => undefined);
    await clock.advanceAsync(0);
    const h = target.health();
    expect(h).toMatchObject({ name: 'mem', state: 'connecting', connected: false, required: true });
    expect(h.lastError).toEqual({ code: 'ECONNREFUSED', message: 'connect refused' });
    await target.stop();
  });
});
