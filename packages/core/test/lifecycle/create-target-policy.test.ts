// createTarget takes a policy as a policy file's target does (issue #22): `'preset:redis'` was refused with
// "A policy must be an object" although the file format accepts the same string.
import { describe, expect, it } from 'vitest';
import { createTarget, isConfigError, resolvePolicy } from '../../src/index.js';
import { createMemoryDriver } from './memory-driver.js';

const { driver } = createMemoryDriver();

describe('createTarget({ policy })', () => {
  it("takes a preset by name, as a file's `policy: preset:redis` does", () => {
    const t = createTarget({ name: 'cache', driver, options: {}, policy: 'preset:redis' });
    expect(t.policy).toEqual(resolvePolicy({ extends: 'preset:redis' }));
    expect(t.policy.healthCheck.query).toBe('PING');
    expect(t.policy.reconnect.maxRetries).toBe(5);
  });

  it('takes { extends, … } over a preset', () => {
    const t = createTarget({
      name: 'cache',
      driver,
      options: {},
      policy: { extends: 'preset:redis', retry: { maxRetries: 1 } },
    });
    expect(t.policy.retry.maxRetries).toBe(1);
    expect(t.policy.healthCheck.query).toBe('PING');
  });

  it('refuses an unknown preset with the located issue and a suggestion', () => {
    let error: unknown;
    try {
      createTarget({ name: 'cache', driver, options: {}, policy: 'preset:reddis' });
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as { issues: unknown[] }).issues).toEqual([
      expect.objectContaining({ kind: 'unknown_preset', message: expect.stringContaining('preset:redis') }),
    ]);
  });
});
