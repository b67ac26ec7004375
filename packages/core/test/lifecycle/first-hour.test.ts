// A service that boots while its server is down (issue #16): start() is bounded, the process is held open while
// a caller awaits us, an operation on a never-connected target says so, and the error texts read well.
import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  createManager,
  isNotConnectedError,
  isOutcomeUnknownError,
  isUnknownTargetError,
  type Logger,
  type PolicyInput,
} from '../../src/index.js';
import { processHolders } from '../../src/time/keep-alive.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver, MemoryError, type MemoryClient } from './memory-driver.js';

const policy = (reconnect: PolicyInput['reconnect'] = {}): PolicyInput => ({
  retry: { maxRetries: 2, deadline: 2000, attemptTimeout: 500, budget: { enabled: false } },
  healthCheck: { interval: 10_000, jitter: 0 },
  reconnect: {
    backoff: { type: 'fixed', base: 1000, max: 1000, jitter: 'none' },
    connectTimeout: 300,
    startTimeout: 3000,
    ...reconnect,
  },
  circuitBreaker: { enabled: false },
});

function downTarget(reconnect?: PolicyInput['reconnect']) {
  const clock = createFakeClock(0);
  const { driver, control } = createMemoryDriver();
  control.connect = 'fail';
  const target = createTarget({ name: 'cache', driver, options: {}, policy: policy(reconnect), clock });
  return { clock, control, target };
}

describe('start() while the server is down', () => {
  it('rejects after reconnect.startTimeout with NotConnectedError carrying the last connect error; keeps reconnecting', async () => {
    const { clock, control, target } = downTarget();
    const start = target.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await clock.advanceAsync(2999);
    expect(target.state).toBe('connecting');
    await clock.advanceAsync(1);
    const error = (await start) as Error & { cause?: unknown; target?: string };
    expect(isNotConnectedError(error)).toBe(true);
    expect(error.message).toBe(
      'Target "cache" did not connect within 3s (reconnect.startTimeout): connect refused; it keeps reconnecting in the background',
    );
    expect(error.cause).toBeInstanceOf(MemoryError);
    expect(error.target).toBe('cache');
    // In the background it goes on, and connects once the server is back.
    control.connect = 'succeed';
    await clock.advanceAsync(1000);
    expect(target.state).toBe('connected');
    await target.stop();
  });

  it('attempts exhausted before startTimeout while still probing (keep-probing) is not "could not connect": it waits on', async () => {
    // Three scheduled attempts, 100 ms apart: exhausted after ~200 ms, then a probe every backoff.max.
    const quick = { maxRetries: 2, backoff: { type: 'fixed', base: 100, max: 100, jitter: 'none' } } as const;
    const { clock, control, target } = downTarget(quick);
    const start = target.start().then(
      () => 'connected',
      (e: unknown) => (e as Error).message,
    );
    await clock.advanceAsync(500);
    expect(target.state).toBe('failed'); // exhausted, and still probing
    control.connect = 'succeed';
    await clock.advanceAsync(200);
    expect(await start).toBe('connected');
    await target.stop();
    // With nothing to come back to, start() says so at startTimeout, not at the exhaustion.
    const down = downTarget(quick);
    const refused = down.target.start().catch((e: unknown) => (e as Error).message);
    await down.clock.advanceAsync(3000);
    expect(await refused).toBe(
      'Target "cache" did not connect within 3s (reconnect.startTimeout): connect refused; it keeps reconnecting in the background',
    );
    await down.target.stop();
    // onExhausted: stop gives up for good at the exhaustion: start() rejects then.
    const giving = downTarget({ ...quick, onExhausted: 'stop' });
    const gaveUp = giving.target.start().catch((e: unknown) => (e as Error).message);
    await giving.clock.advanceAsync(500);
    expect(await gaveUp).toMatch(/^Target "cache" could not connect/);
    await giving.target.stop();
  });

  it('startTimeout 0 waits until connected; StartOptions.timeout overrides the policy', async () => {
    const { clock, control, target } = downTarget({ startTimeout: 0 });
    let settled = false;
    const start = target.start().finally(() => (settled = true));
    await clock.advanceAsync(10_000);
    expect(settled).toBe(false);
    control.connect = 'succeed';
    await clock.advanceAsync(1000);
    await start;
    await target.stop();

    const other = downTarget({ startTimeout: 0 });
    const quick = other.target.start({ timeout: 500 }).catch((e: unknown) => e);
    await other.clock.advanceAsync(500);
    expect(isNotConnectedError(await quick)).toBe(true);
    await other.target.stop();
  });

  it('holds the process open while start() is awaited, and lets go when it settles', async () => {
    const { clock, target } = downTarget();
    const before = processHolders();
    const start = target.start().catch(() => undefined);
    expect(processHolders()).toBe(before + 1);
    await clock.advanceAsync(3000);
    await start;
    expect(processHolders()).toBe(before);
    await target.stop();
  });

  it('an operation waiting on a never-connected target fails with NotConnectedError, not a bare deadline', async () => {
    const { clock, target } = downTarget({ startTimeout: 0 });
    void target.start().catch(() => undefined);
    const before = processHolders();
    const op = target
      .execute((c: MemoryClient) => c.query('x'), { idempotent: true })
      .catch((e: unknown) => e);
    await clock.advanceAsync(0);
    expect(processHolders()).toBe(before + 1); // the waiting operation holds the process too
    await clock.advanceAsync(2000);
    const error = (await op) as Error & { cause?: unknown; outcome?: string };
    expect(isNotConnectedError(error)).toBe(true);
    expect(error.message).toBe('Target "cache" has never connected since start(): connect refused');
    expect(error.cause).toBeInstanceOf(MemoryError);
    expect(error.outcome).toBe('not_sent');
    expect(processHolders()).toBe(before);
    await target.stop();
  });
});

describe('error texts', () => {
  it('OutcomeUnknownError names what the attempt failed with, not "(Error)"', async () => {
    const clock = createFakeClock(0);
    const { driver } = createMemoryDriver();
    const target = createTarget({ name: 'cache', driver, options: {}, policy: policy(), clock });
    const start = target.start();
    await clock.advanceAsync(0);
    await start;
    const error = await target
      // As ioredis's "Command timed out": a plain Error (no code) the driver classifies as a timeout.
      .execute(() =>
        Promise.reject(Object.assign(new MemoryError('Command timed out', 'timeout'), { code: undefined })),
      )
      .catch((e: unknown) => e as Error);
    expect(isOutcomeUnknownError(error)).toBe(true);
    expect(error.message).toBe(
      'Operation is not idempotent and may have run on the server (Command timed out); it was not repeated',
    );
    await target.stop();
  });

  it("health() shows the driver's own words for a client error whose text misleads (classify().message)", async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const translating = {
      ...driver,
      classify: (e: unknown) => ({ ...driver.classify(e), message: 'the connection was lost mid-command' }),
    };
    const target = createTarget({ name: 'cache', driver: translating, options: {}, policy: policy(), clock });
    const start = target.start();
    await clock.advanceAsync(0);
    await start;
    control.serverDown = true;
    const op = target.execute((c: MemoryClient) => c.query('x')).catch(() => undefined);
    await clock.advanceAsync(0);
    await op;
    expect(target.health().lastError).toEqual({
      code: 'ECONNRESET',
      message: 'the connection was lost mid-command',
    });
    await target.stop();
  });

  it('manager.target() with a typo throws ERR_UNKNOWN_TARGET with a did-you-mean', async () => {
    const { driver } = createMemoryDriver();
    const manager = await createManager({
      config: { version: 1, targets: { cache: { driver: 'memory' } } },
      drivers: { memory: driver },
    });
    let error: unknown;
    try {
      manager.target('cahce');
    } catch (e) {
      error = e;
    }
    expect(isUnknownTargetError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('ERR_UNKNOWN_TARGET');
    expect((error as Error).message).toBe(
      'No target named "cahce"; registered targets: cache. Did you mean "cache"?',
    );
  });
});

describe('createManager({ logger })', () => {
  it('logs on the backoff schedule at sensible levels, secrets redacted; pino-shaped (fields, message)', async () => {
    const lines: [string, Record<string, unknown>, string][] = [];
    const logger: Logger = {
      info: (f, m) => lines.push(['info', f, m]),
      warn: (f, m) => lines.push(['warn', f, m]),
      error: (f, m) => lines.push(['error', f, m]),
      debug: (f, m) => lines.push(['debug', f, m]),
    };
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    control.connectError = new MemoryError('auth for s3cr3t-pass failed at host', 'connection');
    const manager = await createManager({
      config: {
        version: 1,
        targets: {
          cache: {
            driver: 'memory',
            options: { password: 's3cr3t-pass' },
            policy: policy({ startTimeout: 0 }),
          },
        },
      },
      drivers: { memory: driver },
      clock,
      logger,
    });
    const started = manager.startAll();
    await clock.advanceAsync(2500);
    control.connectError = undefined;
    await clock.advanceAsync(1000);
    expect((await started).cache).toEqual({ ok: true });
    await manager.stopAll();
    expect(lines.map(([level, , message]) => `${level} ${message}`)).toEqual([
      // Once per change, not per attempt: attempts 2 and 3 failed with the same error, written at debug (below
      // the manager's level).
      'warn cache: connect attempt 1 failed; next in 1000 ms',
      'info cache: connected',
      'info cache: stopped',
    ]);
    expect(lines[0]![1]).toEqual({
      target: 'cache',
      attempt: 1,
      onDemandAttempts: 0,
      nextDelayMs: 1000,
      error: 'MEM_CONNECTION: auth for *** failed at host',
    });
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-pass');
  });
});
