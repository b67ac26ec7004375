import { expect } from 'vitest';
import { createFakeClock } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import type { Driver } from '../../src/driver/driver.js';
import { createMemoryDriver, type MemoryClient } from './memory-driver.js';

/** What a test may change of {@link reconnectingTarget}'s set-up. */
export interface ReconnectingTargetOptions {
  /** Merged over the retry section (no retries, 5 s deadline, no budget). */
  retry?: Record<string, unknown>;
  /** Merged over the reconnect section (a fixed 2 s backoff, no on-demand attempts within 10 s). */
  reconnect?: Record<string, unknown>;
  /** Changes the memory driver (e.g. gives it `poolStats`). */
  driver?: (driver: Driver<unknown, MemoryClient>) => Driver<unknown, MemoryClient>;
}

/**
 * A memory-driver target on a fake clock that connected, then lost its server: it is `reconnecting`, its next
 * attempt 2 s away. `serverBack()` lets the server answer again and runs the clock to that attempt (connected).
 */
export async function reconnectingTarget(o: ReconnectingTargetOptions = {}) {
  const clock = createFakeClock(0);
  const { driver, control } = createMemoryDriver();
  const target = createTarget({
    name: 'mem',
    driver: (o.driver ?? ((d) => d))(driver as Driver<unknown, MemoryClient>),
    options: {},
    clock,
    random: () => 0.5,
    policy: {
      retry: { maxRetries: 0, deadline: 5000, budget: { enabled: false }, ...o.retry },
      healthCheck: { interval: 1000, jitter: 0, timeout: 200, failureThreshold: 1 },
      reconnect: {
        backoff: { type: 'fixed', base: 2000, max: 2000, jitter: 'none' },
        connectTimeout: 300,
        minProbeGap: 10_000,
        ...o.reconnect,
      },
      circuitBreaker: { enabled: false },
    },
  });
  const started = target.start();
  await clock.advanceAsync(0);
  await started;
  control.serverDown = true;
  control.connect = 'fail';
  control.probe = 'fail';
  await clock.advanceAsync(1000); // the probe fails: reconnecting
  expect(target.state).toBe('reconnecting');
  const serverBack = async (): Promise<void> => {
    control.serverDown = false;
    control.connect = 'succeed';
    control.probe = 'succeed';
    await clock.advanceAsync(2000); // the next reconnect attempt
    expect(target.state).toBe('connected');
  };
  return { clock, control, target, serverBack };
}
