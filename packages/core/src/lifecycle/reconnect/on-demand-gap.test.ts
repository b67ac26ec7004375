import { describe, expect, it } from 'vitest';
import type { ReconnectPolicy } from '../../policy/resolved.js';
import {
  downSince,
  onDemandDelay,
  onDemandGap,
  onDemandGapCeiling,
  onDemandGapGrace,
  onDemandGapGraceMs,
  TimeDown,
} from './on-demand-gap.js';

const policy = (
  over: { minProbeGap?: number; max?: number; jitter?: 'none' | 'full' | 'equal' } = {},
): Pick<ReconnectPolicy, 'minProbeGap' | 'backoff'> => ({
  minProbeGap: over.minProbeGap ?? 100,
  backoff: {
    type: 'exponential',
    base: 500,
    factor: 2,
    max: over.max ?? 30_000,
    jitter: over.jitter ?? 'full',
  },
});

const lowest = (): number => 0;
const highest = (): number => 0.999_999;

describe('onDemandGap', () => {
  it('is minProbeGap after a blip (until the grown window passes it: 5.5 s down), whatever the jitter draws', () => {
    expect(onDemandGapGrace).toBe(10);
    expect(onDemandGapGraceMs).toBe(5000);
    for (const downFor of [0, 50, 500, 1000, 1500, 3000, 5000, 5500])
      for (const random of [lowest, highest, () => 0.5])
        expect(onDemandGap(policy(), downFor, random)).toBe(100);
  });

  it('grows with the time down: a fifth of it past the grace (10 × minProbeGap, at least 5 s), jittered between half and all', () => {
    expect(onDemandGap(policy(), 10_000, highest)).toBe(1000);
    expect(onDemandGap(policy(), 10_000, lowest)).toBe(500);
    expect(onDemandGap(policy(), 21_000, highest)).toBe(3200);
    expect(onDemandGap(policy(), 21_000, lowest)).toBe(1600);
    expect(onDemandGap(policy(), 21_000, () => 0.5)).toBe(2400);
    // Never below minProbeGap, even when the half drawn is (6 s down: 100–200 ms).
    expect(onDemandGap(policy(), 6000, lowest)).toBe(100);
    expect(onDemandGap(policy(), 6000, highest)).toBe(200);
    // A minProbeGap of 1 s: the grace is 10 of them.
    expect(onDemandGap(policy({ minProbeGap: 1000 }), 10_000, highest)).toBe(1000);
    expect(onDemandGap(policy({ minProbeGap: 1000 }), 20_000, highest)).toBe(2000);
  });

  it('is bounded by the ceiling (5 s: reached 30 s down) and by the backoff cap', () => {
    expect(onDemandGapCeiling).toBe(5000);
    expect(onDemandGap(policy(), 30_000, highest)).toBe(5000);
    expect(onDemandGap(policy(), 3_600_000, highest)).toBe(5000);
    expect(onDemandGap(policy(), 3_600_000, lowest)).toBe(2500);
    expect(onDemandGap(policy({ max: 1000 }), 3_600_000, highest)).toBe(1000);
    expect(onDemandGap(policy({ max: 1000 }), 3_600_000, lowest)).toBe(500);
    // A minProbeGap above the cap is still the least gap: it is the operator's explicit floor.
    expect(onDemandGap(policy({ minProbeGap: 2000, max: 1000 }), 3_600_000, lowest)).toBe(2000);
  });

  it('is not jittered when the backoff is not (a deterministic schedule), and is 0 when minProbeGap is', () => {
    expect(onDemandGap(policy({ jitter: 'none' }), 21_000, lowest)).toBe(3200);
    expect(onDemandGap(policy({ jitter: 'equal' }), 21_000, lowest)).toBe(1600);
    expect(onDemandGap(policy({ minProbeGap: 0 }), 21_000, highest)).toBe(0);
  });

  it('delays nothing after a blip; past it, a random part of the grown window (full jitter), bounded', () => {
    for (const downFor of [0, 500, 1000, 1500, 3000, 5500])
      for (const random of [lowest, highest]) expect(onDemandDelay(policy(), downFor, random)).toBe(0);
    expect(onDemandDelay(policy(), 6000, highest)).toBe(200);
    expect(onDemandDelay(policy(), 21_000, lowest)).toBe(0);
    expect(onDemandDelay(policy(), 21_000, () => 0.5)).toBe(1600);
    expect(onDemandDelay(policy(), 21_000, highest)).toBe(3200);
    expect(onDemandDelay(policy(), 3_600_000, highest)).toBe(5000);
    expect(onDemandDelay(policy({ max: 1000 }), 3_600_000, highest)).toBe(1000);
    // Nothing to spread with, or no gap asked for: none.
    expect(onDemandDelay(policy({ jitter: 'none' }), 21_000, highest)).toBe(0);
    expect(onDemandDelay(policy({ minProbeGap: 0 }), 21_000, highest)).toBe(0);
  });

  it('counts the time down from the loss, or from the start of a first connect', () => {
    expect(downSince({ status: 'reconnecting', since: 5, attempt: 1, downSince: 3, error: undefined })).toBe(
      3,
    );
    expect(downSince({ status: 'failed', since: 9, attempt: 4, downSince: 3, error: undefined })).toBe(3);
    expect(downSince({ status: 'connecting', since: 7, attempt: 1, error: undefined })).toBe(7);
    expect(downSince({ status: 'connected', since: 7 })).toBeUndefined();
  });

  it('carries the time down over a recovery that did not hold, less the time it held up', () => {
    const down = new TimeDown();
    const reconnecting = (since: number, downSince: number) =>
      ({ status: 'reconnecting', since, attempt: 1, downSince, error: undefined }) as const;
    down.up(1000, undefined); // the first connect: nothing to carry
    down.lost(2000);
    expect(down.at(reconnecting(2000, 2000), 2500)).toBe(500);
    down.up(32_000, 2000); // back after 30 s down
    down.lost(34_000); // lost again 2 s later: 28 s down at once
    expect(down.at(reconnecting(34_000, 34_000), 34_000)).toBe(28_000);
    expect(down.at(reconnecting(34_000, 34_000), 35_000)).toBe(29_000);
    down.up(36_000, 34_000); // back again: 30 s down in all
    down.lost(36_000 + 30_000); // held up as long: from zero
    expect(down.at(reconnecting(66_000, 66_000), 66_500)).toBe(500);
    // A first connect never carries anything; a connected target is not down.
    expect(down.at({ status: 'connecting', since: 0, attempt: 1, error: undefined }, 700)).toBe(700);
    expect(down.at({ status: 'connected', since: 0 }, 700)).toBe(0);
  });
});
