import { describe, expect, it } from 'vitest';
import type { ReconnectPolicy } from '../../policy/resolved.js';
import { downSince, onDemandDelay, onDemandGap, onDemandGapCeiling } from './on-demand-gap.js';

const policy = (
  over: { minProbeGap?: number; max?: number; jitter?: 'none' | 'full' | 'equal' } = {},
): Pick<ReconnectPolicy, 'minProbeGap' | 'backoff'> => ({
  minProbeGap: over.minProbeGap ?? 100,
  backoff: { type: 'exponential', base: 500, factor: 2, max: over.max ?? 30_000, jitter: over.jitter ?? 'full' },
});

const lowest = (): number => 0;
const highest = (): number => 0.999_999;

describe('onDemandGap', () => {
  it('is minProbeGap after a blip (up to ten gaps down), whatever the jitter draws', () => {
    for (const downFor of [0, 50, 500, 1000])
      for (const random of [lowest, highest, () => 0.5]) expect(onDemandGap(policy(), downFor, random)).toBe(100);
  });

  it('grows with the time down: a tenth of it, jittered between half and all of that', () => {
    expect(onDemandGap(policy(), 10_000, highest)).toBe(1000);
    expect(onDemandGap(policy(), 10_000, lowest)).toBe(500);
    expect(onDemandGap(policy(), 30_000, highest)).toBe(3000);
    expect(onDemandGap(policy(), 30_000, lowest)).toBe(1500);
    expect(onDemandGap(policy(), 30_000, () => 0.5)).toBe(2250);
    // Never below minProbeGap, even when the half drawn is (1.5 s down: 75–150 ms).
    expect(onDemandGap(policy(), 1500, lowest)).toBe(100);
    expect(onDemandGap(policy(), 1500, highest)).toBe(150);
  });

  it('is bounded by the ceiling (5 s) and by the backoff cap', () => {
    expect(onDemandGapCeiling).toBe(5000);
    expect(onDemandGap(policy(), 3_600_000, highest)).toBe(5000);
    expect(onDemandGap(policy(), 3_600_000, lowest)).toBe(2500);
    expect(onDemandGap(policy({ max: 1000 }), 3_600_000, highest)).toBe(1000);
    expect(onDemandGap(policy({ max: 1000 }), 3_600_000, lowest)).toBe(500);
    // A minProbeGap above the cap is still the least gap: it is the operator's explicit floor.
    expect(onDemandGap(policy({ minProbeGap: 2000, max: 1000 }), 3_600_000, lowest)).toBe(2000);
  });

  it('is not jittered when the backoff is not (a deterministic schedule), and is 0 when minProbeGap is', () => {
    expect(onDemandGap(policy({ jitter: 'none' }), 30_000, lowest)).toBe(3000);
    expect(onDemandGap(policy({ jitter: 'equal' }), 30_000, lowest)).toBe(1500);
    expect(onDemandGap(policy({ minProbeGap: 0 }), 30_000, highest)).toBe(0);
  });

  it('delays nothing after a blip; past it, a random part of a tenth of the time down (full jitter), bounded', () => {
    for (const downFor of [0, 500, 1000])
      for (const random of [lowest, highest]) expect(onDemandDelay(policy(), downFor, random)).toBe(0);
    expect(onDemandDelay(policy(), 1500, highest)).toBe(150);
    expect(onDemandDelay(policy(), 30_000, lowest)).toBe(0);
    expect(onDemandDelay(policy(), 30_000, () => 0.5)).toBe(1500);
    expect(onDemandDelay(policy(), 30_000, highest)).toBe(3000);
    expect(onDemandDelay(policy(), 3_600_000, highest)).toBe(5000);
    expect(onDemandDelay(policy({ max: 1000 }), 3_600_000, highest)).toBe(1000);
    // Nothing to spread with, or no gap asked for: none.
    expect(onDemandDelay(policy({ jitter: 'none' }), 30_000, highest)).toBe(0);
    expect(onDemandDelay(policy({ minProbeGap: 0 }), 30_000, highest)).toBe(0);
  });

  it('counts the time down from the loss, or from the start of a first connect', () => {
    expect(downSince({ status: 'reconnecting', since: 5, attempt: 1, downSince: 3, error: undefined })).toBe(3);
    expect(downSince({ status: 'failed', since: 9, attempt: 4, downSince: 3, error: undefined })).toBe(3);
    expect(downSince({ status: 'connecting', since: 7, attempt: 1, error: undefined })).toBe(7);
    expect(downSince({ status: 'connected', since: 7 })).toBeUndefined();
  });
});
