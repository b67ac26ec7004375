import { describe, expect, it } from 'vitest';
import { changeEffects, changePath, describeChange, diffConfigs, resolveConfig } from '../../src/index.js';

const base = {
  version: 1,
  targets: {
    cache: {
      driver: 'redis',
      options: { url: 'redis://:hunter2@127.0.0.1:6379', password: 's3cret' },
      policy: { healthCheck: { interval: '10s' }, retry: { maxRetries: 3 } },
    },
    db: { driver: 'mysql', policy: 'preset:mysql' },
  },
};

function resolved(config: unknown) {
  return resolveConfig(config, { env: {} }).targets;
}

describe('diffConfigs / describeChange', () => {
  it('finds nothing between a configuration and itself', () => {
    expect(diffConfigs(resolved(base), resolved(base))).toEqual({ added: [], removed: [], changes: [] });
  });

  it('lists each changed policy leaf of each target, in the units the file uses', () => {
    const next = structuredClone(base);
    next.targets.cache.policy.healthCheck = {
      interval: '200ms',
      timeout: '100ms',
    } as typeof next.targets.cache.policy.healthCheck;
    next.targets.cache.policy.retry.maxRetries = 5;
    const diff = diffConfigs(resolved(base), resolved(next));
    expect(diff.changes.map(describeChange)).toEqual([
      'cache: retry.maxRetries 3 → 5',
      'cache: healthCheck.interval 10s → 200ms',
      'cache: healthCheck.timeout 3s → 100ms',
    ]);
    expect(diff.changes.map(changePath)).toEqual([
      'cache.retry.maxRetries',
      'cache.healthCheck.interval',
      'cache.healthCheck.timeout',
    ]);
    expect(diff.changes.map((c) => c.area)).toEqual(['retry', 'healthCheck', 'healthCheck']);
  });

  it('redacts secrets in changed driver options: a secret key is never shown, a URL loses its password', () => {
    const next = structuredClone(base);
    next.targets.cache.options = { url: 'redis://:other-pass@127.0.0.1:6380', password: 'n3w-secret' };
    const lines = diffConfigs(resolved(base), resolved(next)).changes.map(describeChange);
    expect(lines).toEqual([
      'cache: options.url "redis://:***@127.0.0.1:6379" → "redis://:***@127.0.0.1:6380"',
      'cache: options.password *** → ***',
    ]);
    expect(lines.join('\n')).not.toMatch(/hunter2|other-pass|s3cret|n3w-secret/);
  });

  it('says which targets were added and removed, and what a driver change means', () => {
    const next = {
      version: 1,
      targets: {
        cache: { ...base.targets.cache, driver: 'my-redis' },
        search: { driver: 'elasticsearch' },
      },
    };
    const diff = diffConfigs(resolved(base), resolved(next));
    expect(diff.added).toEqual(['search']);
    expect(diff.removed).toEqual(['db']);
    expect(diff.changes.map(describeChange)).toEqual([
      'cache: driver redis → my-redis',
      'search: added (started)',
      'db: removed (stopped after its in-flight operations)',
    ]);
    expect(changeEffects[diff.changes[0]!.area]).toMatch(/replaced/);
  });

  it('treats a selector change as a connection change (the pool is rebuilt with the target)', () => {
    const next = structuredClone(base) as typeof base & { targets: { cache: { pool?: unknown } } };
    next.targets.cache.pool = { selector: 'random' };
    const [change] = diffConfigs(resolved(base), resolved(next)).changes;
    expect(change).toMatchObject({
      path: 'pool.selector',
      area: 'connection',
      from: 'round-robin',
      to: 'random',
    });
  });
});
