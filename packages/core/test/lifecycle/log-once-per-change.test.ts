// A failed connect attempt is logged once per change of its error, not once per attempt (issue #24: a permanent
// fault — a wrong password, a certificate the client refuses — must not fill the log at every backoff step).
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/index.js';
import { logTargetEvents } from '../../src/lifecycle/target/logging.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import type { Logger } from '../../src/lifecycle/types.js';
import { createMemoryDriver, MemoryError } from './memory-driver.js';

describe('logTargetEvents: failed connect attempts', () => {
  it('warns when the error is new, writes a repeat at debug, and forgets it once connected', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({
      name: 'db',
      driver,
      options: {},
      clock,
      random: () => 0.5,
      policy: {
        healthCheck: { interval: 1000, jitter: 0, timeout: 200, failureThreshold: 1 },
        reconnect: {
          backoff: { type: 'fixed', base: 1000, max: 1000, jitter: 'none' },
          connectTimeout: 300,
          minProbeGap: 60_000,
          startTimeout: 0,
        },
      },
    });
    const lines: string[] = [];
    const logger: Logger = {
      debug: (_f, m) => lines.push(`debug ${m}`),
      info: (_f, m) => lines.push(`info ${m}`),
      warn: (_f, m) => lines.push(`warn ${m}`),
      error: (_f, m) => lines.push(`error ${m}`),
    };
    const describe = (e: unknown) => (e instanceof Error ? { message: e.message } : undefined);
    const off = logTargetEvents(target, logger, describe, 'debug');
    // A connection-kind error: an auth error on the very first connect fails start() at once, by design.
    const wrongPassword = new MemoryError('certificate has expired', 'connection');
    control.connectError = wrongPassword;
    const started = target.start().catch(() => {});
    await clock.advanceAsync(0);
    await clock.advanceAsync(2000); // attempts 2 and 3: the same error
    control.connectError = new MemoryError('self-signed certificate', 'connection');
    await clock.advanceAsync(1000); // attempt 4: a new error
    control.connectError = undefined;
    await clock.advanceAsync(1000); // connected
    await started;
    expect(target.state).toBe('connected');
    control.serverDown = true;
    control.probe = 'fail';
    control.connectError = wrongPassword;
    await clock.advanceAsync(1000); // the probe fails: reconnecting
    await clock.advanceAsync(3000); // its attempts fail with the error of long ago
    off();
    await target.stop();
    const attempts = lines.filter((l) => l.includes('connect attempt'));
    expect(attempts).toEqual([
      'warn db: connect attempt 1 failed; next in 1000 ms',
      'debug db: connect attempt 2 failed as before; next in 1000 ms',
      'debug db: connect attempt 3 failed as before; next in 1000 ms',
      'warn db: connect attempt 4 failed; next in 1000 ms',
      // Connected in between: the same error as long ago is news again.
      'warn db: connect attempt 1 failed; next in 1000 ms',
      'debug db: connect attempt 2 failed as before; next in 1000 ms',
      'debug db: connect attempt 3 failed as before; next in 1000 ms',
    ]);
  });
});
