// delayBounds per jitter, for the ceiling of the retry: none waits the ceiling itself, full anything from 0 to it,
// equal from half of it to it (what `reconnect explain` prints).
import { describe, expect, it } from 'vitest';
import type { BackoffPolicy } from '../../policy/resolved.js';
import { delayBounds } from './compute-delay.js';

const policy = (p: Partial<BackoffPolicy>): BackoffPolicy => ({
  type: 'exponential',
  base: 100,
  factor: 2,
  max: 10_000,
  jitter: 'none',
  ...p,
});

describe('delayBounds by jitter', () => {
  it('none: exactly the ceiling', () => {
    expect(delayBounds(policy({ jitter: 'none' }), 3)).toEqual({ min: 400, max: 400 });
    expect(delayBounds(policy({ type: 'fixed', jitter: 'none' }), 5)).toEqual({ min: 100, max: 100 });
    expect(delayBounds(policy({ type: 'linear', jitter: 'none' }), 2)).toEqual({ min: 200, max: 200 });
  });

  it('full: from 0 to the ceiling', () => {
    expect(delayBounds(policy({ jitter: 'full' }), 3)).toEqual({ min: 0, max: 400 });
  });

  it('equal: from half the ceiling to the ceiling', () => {
    expect(delayBounds(policy({ jitter: 'equal' }), 3)).toEqual({ min: 200, max: 400 });
  });
});
