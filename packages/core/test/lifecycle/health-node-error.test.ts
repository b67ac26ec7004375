// A dead node says why in health(): its last probe's error, redacted (a replica behind its primary, a refused
// connection). Before, a lagging MySQL replica taken out of rotation showed only `alive: false`.
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver } from './memory-driver.js';

describe('health(): a dead node and why', () => {
  it('names its last probe’s error while it is dead, redacted, and nothing once it is back', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200, 9201], password: 's3cr3t-pass' },
      policy: {
        healthCheck: { interval: 1000, timeout: 200, jitter: 0 },
        pool: { nodeFailureThreshold: 1, deadTimeout: 5000, resurrect: 'optimistic' },
        circuitBreaker: { enabled: false },
      },
      clock,
    });
    const started = target.start();
    await clock.advanceAsync(0);
    await started;
    expect(target.health().nodes.map((n) => n.error)).toEqual([undefined, undefined]);
    control.downNodes.add('127.0.0.1:9201');
    control.probeError = new Error('replica is 3 s behind its primary; auth s3cr3t-pass');
    await clock.advanceAsync(1000); // the next health check: node 9201's probe fails
    const dead = target.health().nodes.find((n) => n.id === '127.0.0.1:9201');
    expect(dead?.alive).toBe(false);
    expect(dead?.error?.message).toMatch(/node down|3 s behind/);
    expect(JSON.stringify(target.health())).not.toContain('s3cr3t-pass');
    expect(target.health().nodes.find((n) => n.id === '127.0.0.1:9200')).not.toHaveProperty('error');
    control.downNodes.clear();
    control.probeError = undefined;
    await clock.advanceAsync(6000); // its dead time ends and it comes back
    expect(target.health().nodes.every((n) => n.alive && n.error === undefined)).toBe(true);
    await target.stop();
  });
});
