import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as engine from '../../src/engine/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** The README's "API (engine)" section: the documented public surface of the engine. */
const apiSection = readme.slice(readme.indexOf('## API (engine)'));

describe('engine public surface', () => {
  it('exports only what the README documents under "API (engine)"', () => {
    const undocumented = Object.keys(engine).filter((name) => !new RegExp(`\\b${name}\\b`).test(apiSection));
    expect(undocumented).toEqual([]);
  });

  it('backoff: computeDelay and delayBounds are public; the executor’s retryDelay and matchesRetryOn and the strategies’ internals are not', () => {
    const names = Object.keys(engine);
    expect(names).toEqual(expect.arrayContaining(['computeDelay', 'delayBounds', 'decideRetry']));
    for (const internal of [
      'retryDelay',
      'matchesRetryOn',
      'Backoff',
      'applyJitter',
      'jitterBounds',
      'fixedCeiling',
      'linearCeiling',
      'exponentialCeiling',
      'decorrelatedBounds',
      'decorrelatedDelay',
    ]) {
      expect(names).not.toContain(internal);
    }
  });
});
