import { describe, expect, it } from 'vitest';
import { faultNamed } from './catalogue.js';
import { clockJumpMs } from './server-faults.js';

// Client faults act on the test's own process: checked here directly.
describe('client faults', () => {
  it('clock-jump moves Date.now an hour ahead while active, leaves the monotonic clock alone, and heal puts it back', async () => {
    const wall = Date.now();
    const mono = performance.now();
    const fault = await faultNamed('clock-jump').start({ store: 'redis' } as never);
    try {
      expect(Date.now() - wall).toBeGreaterThanOrEqual(clockJumpMs);
      expect(Date.now() - wall).toBeLessThan(clockJumpMs + 60_000);
      expect(performance.now() - mono).toBeLessThan(60_000);
    } finally {
      await fault.heal();
    }
    expect(Date.now() - wall).toBeLessThan(60_000);
    await fault.heal(); // a second heal changes nothing
    expect(Date.now() - wall).toBeLessThan(60_000);
  });
});
