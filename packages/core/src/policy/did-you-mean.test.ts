import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './did-you-mean.js';

describe('didYouMean', () => {
  it('suggests close keys, case-insensitively, and stays quiet for unrelated words', () => {
    expect(didYouMean('intervall', ['interval', 'timeout'])).toBe('interval');
    expect(didYouMean('maxretries', ['maxRetries', 'backoff'])).toBe('maxRetries');
    expect(didYouMean('exponentail', ['fixed', 'linear', 'exponential'])).toBe('exponential');
    expect(didYouMean('banana', ['interval', 'timeout'])).toBeUndefined();
  });
  it('counts a transposition as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    // A driver name's typos (moved here from the CLI's copy of this function).
    expect(editDistance('reddis', 'redis')).toBe(1);
    expect(editDistance('rdeis', 'redis')).toBe(1);
    expect(editDistance('mysql', 'mysql')).toBe(0);
    expect(editDistance('kafka', 'redis')).toBe(5);
  });
});
