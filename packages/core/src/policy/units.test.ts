import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseFraction } from './units.js';

describe('units', () => {
  it('parses durations in every unit, and milliseconds', () => {
    expect(['250ms', '1.5s', '10s', '5m', '1h', 42].map(parseDuration)).toEqual([
      250, 1500, 10_000, 300_000, 3_600_000, 42,
    ]);
  });
  it('rejects negative, NaN, infinite and unknown units', () => {
    expect([-1, Number.NaN, Number.POSITIVE_INFINITY, '10 seconds', '5d', ''].map(parseDuration)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
  it('parses percentages and fractions, rejecting anything above 100%', () => {
    expect(['10%', 0.25, '100%'].map(parseFraction)).toEqual([0.1, 0.25, 1]);
    expect(['150%', 1.5, -0.1].map(parseFraction)).toEqual([undefined, undefined, undefined]);
  });
  it('formats durations for people', () => {
    expect(
      [250, 1500, 10_000, 60_000, 88_000, 1_800_000, 5_400_000, Number.POSITIVE_INFINITY].map(formatDuration),
    ).toEqual(['250ms', '1.5s', '10s', '1m', '1m 28s', '30m', '1h 30m', '∞']);
  });
});
