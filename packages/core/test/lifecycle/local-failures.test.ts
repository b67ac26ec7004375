// A failure the client itself caused before sending (Classification.local) says nothing about the server
// (issue #29): the target's passive health does not count it, so a burst of them (a pool closed for a
// reconnect, waits in the client's own queue) never starts a probe nor takes a healthy target down.
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver, MemoryError, type MemoryClient } from './memory-driver.js';

async function connectedTarget() {
  const clock = createFakeClock(0);
  const { driver, control } = createMemoryDriver();
  const target = createTarget({
    name: 't',
    driver,
    options: {},
    clock,
    policy: {
      healthCheck: { interval: 100_000, failureThreshold: 1 },
      circuitBreaker: { enabled: false },
      retry: { budget: { enabled: false } },
    },
  });
  const started = target.start();
  await clock.advanceAsync(0);
  await started;
  return { clock, control, target };
}

/** Fails once with `error`, then answers. */
const failingOnce = (error: Error) => {
  let calls = 0;
  return (c: MemoryClient) => (++calls === 1 ? Promise.reject(error) : c.query('q'));
};

describe('local not-sent failures and passive health', () => {
  it('a burst of them starts no probe and leaves the target connected (a server failure would not)', async () => {
    const { clock, control, target } = await connectedTarget();
    control.probe = 'fail'; // any probe now would fail and, at threshold 1, take the target down
    const probesBefore = control.calls.probe;
    const ops = Array.from({ length: 20 }, () =>
      target.execute(failingOnce(new MemoryError('Pool is closed.', 'connection', 'LOCAL')), {
        idempotent: true,
      }),
    );
    await clock.advanceAsync(100);
    expect(control.calls.probe).toBe(probesBefore);
    expect(target.state).toBe('connected');
    expect(await Promise.all(ops)).toHaveLength(20);

    // The control: one server-side connection failure counts (threshold 1): the target is down.
    const server = target.execute(failingOnce(new MemoryError('ECONNRESET', 'connection', 'ECONNRESET')), {
      idempotent: true,
    });
    server.catch(() => {});
    await clock.advanceAsync(10);
    expect(target.state).not.toBe('connected');
    await target.stop();
  });
});

describe('an error reply between failures proves the server alive', () => {
  it('connection failures interleaved with error replies (syntax, auth) never reach failureThreshold', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({
      name: 't',
      driver,
      options: {},
      clock,
      policy: {
        retry: { maxRetries: 0, budget: { enabled: false } },
        healthCheck: { interval: 100_000, timeout: 5000, failureThreshold: 3 },
        circuitBreaker: { enabled: false },
      },
    });
    const started = target.start();
    await clock.advanceAsync(0);
    await started;
    control.probe = 'hang'; // the suspicion's probe decides nothing within this test
    const reset = () => Promise.reject(new MemoryError('ECONNRESET', 'connection', 'ECONNRESET'));
    const syntax = () => Promise.reject(new MemoryError('You have an error in your SQL syntax', 'fatal'));
    const denied = () => Promise.reject(new MemoryError('Access denied', 'auth'));
    // Not awaited one by one: should the target go down, an operation would wait for the reconnect.
    for (const op of [reset, syntax, reset, denied, reset, syntax]) {
      void target.execute(op, { idempotent: true }).catch(() => undefined);
      await clock.advanceAsync(1);
    }
    expect(target.state).toBe('connected');
    // The control: three resets in a row are three failures.
    for (const op of [reset, reset, reset]) {
      void target.execute(op, { idempotent: true }).catch(() => undefined);
      await clock.advanceAsync(1);
    }
    expect(target.state).not.toBe('connected');
    await target.stop();
  });
});
