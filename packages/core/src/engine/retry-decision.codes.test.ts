// retryOn's codes and status codes match only what a failure carries: a failure without a code or status matches
// none (not even a code written "undefined"), and a code matches in any spelling, as number or string.
import { describe, expect, it } from 'vitest';
import type { Classification } from '../error-kinds.js';
import { matchesRetryOn } from './retry-decision.js';

const retryOn = (p: { codes?: (string | number)[]; statusCodes?: number[] }) => ({
  errors: [] as Classification['kind'][],
  codes: p.codes ?? [],
  statusCodes: p.statusCodes ?? [],
});

describe('matchesRetryOn: codes', () => {
  it('a failure without a code matches no listed code', () => {
    expect(matchesRetryOn(retryOn({ codes: ['undefined', 'ECONNRESET'] }), { kind: 'transient' })).toBe(
      false,
    );
  });

  it('a code matches as number or string, either way round', () => {
    expect(matchesRetryOn(retryOn({ codes: [1205] }), { kind: 'transient', code: 1205 })).toBe(true);
    expect(matchesRetryOn(retryOn({ codes: [1205] }), { kind: 'transient', code: '1205' })).toBe(true);
    expect(matchesRetryOn(retryOn({ codes: ['1205'] }), { kind: 'transient', code: 1205 })).toBe(true);
    expect(
      matchesRetryOn(retryOn({ codes: ['ECONNRESET'] }), { kind: 'transient', code: 'ECONNRESET' }),
    ).toBe(true);
  });

  it('no listed codes: no code matches, nor any alias', () => {
    expect(matchesRetryOn(retryOn({}), { kind: 'transient', code: 1205, aliases: ['ER_LOCK_WAIT'] })).toBe(
      false,
    );
  });

  it('an alias matches when the code itself is not listed', () => {
    const c: Classification = { kind: 'transient', code: 1213, aliases: ['X', 'ER_LOCK_DEADLOCK'] };
    expect(matchesRetryOn(retryOn({ codes: ['ER_LOCK_DEADLOCK'] }), c)).toBe(true);
    expect(matchesRetryOn(retryOn({ codes: ['ER_OTHER'] }), c)).toBe(false);
  });
});

describe('matchesRetryOn: status codes', () => {
  it('a failure without a status matches no listed status', () => {
    expect(matchesRetryOn(retryOn({ statusCodes: [429, 503] }), { kind: 'transient' })).toBe(false);
  });

  it('a status matches only when listed', () => {
    const listed = retryOn({ statusCodes: [429, 503] });
    expect(matchesRetryOn(listed, { kind: 'transient', statusCode: 503 })).toBe(true);
    expect(matchesRetryOn(listed, { kind: 'transient', statusCode: 429 })).toBe(true);
    expect(matchesRetryOn(listed, { kind: 'transient', statusCode: 500 })).toBe(false);
  });

  it('a listed code does not stand for a status, nor a status for a code', () => {
    expect(matchesRetryOn(retryOn({ codes: [503] }), { kind: 'transient', statusCode: 503 })).toBe(false);
    expect(matchesRetryOn(retryOn({ statusCodes: [503] }), { kind: 'transient', code: 503 })).toBe(false);
  });
});
