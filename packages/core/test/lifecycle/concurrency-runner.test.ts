// The target's runner builds the concurrency limiter from the policy, keeps it across reloads that leave its
// section alone, and puts it between the executor and the target's source.
import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  isConcurrencyLimitedError,
  resolvePolicy,
  type BreakerStateChangeEvent,
  type PolicyInput,
} from '../../src/index.js';
import { buildRunner } from '../../src/lifecycle/target/executor.js';
import { changedSections } from '../../src/lifecycle/target/apply-policy.js';

function options(policy: PolicyInput) {
  const clock = createFakeClock();
  let acquired = 0;
  return {
    acquired: () => acquired,
    o: {
      target: 'cache',
      driver: { system: 'x', classify: () => ({ kind: 'connection' as const }) },
      source: {
        acquire: () => {
          acquired++;
          return { client: {}, node: undefined };
        },
      },
      clock,
      random: () => 0.5,
      events: {},
      breakerChanged: (_e: BreakerStateChangeEvent) => undefined,
      policy: resolvePolicy(policy),
    },
  };
}

describe('buildRunner and the concurrency section', () => {
  it('builds no limiter when the limit is off (the default)', () => {
    const { o } = options({});
    expect(o.policy.concurrency.limit).toBe('off');
    expect(buildRunner(o).limiter).toBeUndefined();
  });

  it('limits the executor: the excess is refused, not sent, before the source is asked', async () => {
    const { o, acquired } = options({ concurrency: { limit: 1, maxQueue: 0 } });
    const runner = buildRunner(o);
    expect(runner.limiter?.limit).toBe(1);
    let open!: () => void;
    const first = runner.executor.execute(() => new Promise<string>((r) => (open = () => r('ok'))));
    const refused = await runner.executor.execute(() => 'x').catch((e: unknown) => e);
    expect(isConcurrencyLimitedError(refused)).toBe(true);
    expect((refused as Error).message).toContain('Target "cache" is at its concurrency limit (1');
    expect(acquired()).toBe(1);
    open();
    await expect(first).resolves.toBe('ok');
  });

  it('keeps the limiter across a reload that leaves its section alone, and builds a new one when it changed', () => {
    const { o } = options({ concurrency: { limit: 'adaptive' } });
    const runner = buildRunner(o);
    const limiter = runner.limiter;
    expect(limiter?.limit).toBe(20);
    const retried = resolvePolicy({ retry: { maxRetries: 1 }, concurrency: { limit: 'adaptive' } });
    const kept = buildRunner({ ...o, policy: retried }, { runner, before: o.policy });
    expect(kept.limiter).toBe(limiter);
    const bigger = resolvePolicy({
      retry: { maxRetries: 1 },
      concurrency: { limit: 'adaptive', maxLimit: 9 },
    });
    expect(changedSections(retried, bigger)).toEqual(new Set(['concurrency']));
    const rebuilt = buildRunner({ ...o, policy: bigger }, { runner: kept, before: retried });
    expect(rebuilt.limiter).not.toBe(limiter);
    expect(rebuilt.limiter?.limit).toBe(9);
    const off = resolvePolicy({ retry: { maxRetries: 1 } });
    expect(buildRunner({ ...o, policy: off }, { runner: rebuilt, before: bigger }).limiter).toBeUndefined();
  });
});
