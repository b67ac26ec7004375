import { describe, expect, it } from 'vitest';
import { mergeLayers } from './merge.js';

describe('mergeLayers', () => {
  it('merges objects key by key, replaces arrays, and records the winning layer of every leaf', () => {
    const { value, provenance } = mergeLayers([
      {
        source: 'default',
        value: { retry: { maxRetries: 3, retryOn: { errors: ['connection', 'timeout'] } } },
      },
      { source: 'preset:redis', value: { retry: { retryOn: { errors: ['connection'] } } } },
      { source: 'target', value: { extends: 'preset:redis', retry: { maxRetries: 1, x: undefined } } },
    ]);
    expect(value).toEqual({ retry: { maxRetries: 1, retryOn: { errors: ['connection'] } } });
    expect(provenance).toEqual({ 'retry.maxRetries': 'target', 'retry.retryOn.errors': 'preset:redis' });
  });

  it('drops stale provenance when a leaf replaces a subtree', () => {
    const { provenance } = mergeLayers([
      { source: 'default', value: { pool: { discovery: { interval: 1000 } } } },
      { source: 'target', value: { pool: { discovery: false } } },
    ]);
    expect(provenance).toEqual({ 'pool.discovery': 'target' });
  });

  it('does not alias arrays of the layers', () => {
    const codes = [1, 2];
    const { value } = mergeLayers([{ source: 'default', value: { codes } }]);
    (value['codes'] as number[]).push(3);
    expect(codes).toEqual([1, 2]);
  });
});
