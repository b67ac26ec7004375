import { errors } from '@elastic/elasticsearch';
import { createFakeClock, createTarget, defineDriver, type PolicyInput, type Target } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyElasticsearchError } from './classify.js';
import type { ElasticsearchClient } from './client.js';

// Issue 26: a 429 without Retry-After waits preset:elasticsearch's backoff, and that wait is jittered (drawn from the
// target's randomness), so instances throttled together do not retry together. On a fake clock: no real time.

const targets: Target<ElasticsearchClient>[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.stop()));
});

/** Elasticsearch's 429 as the client throws it, without Retry-After. */
const rejected = () =>
  new errors.ResponseError({
    body: { error: { type: 'es_rejected_execution_exception', reason: 'queue full' }, status: 429 },
    statusCode: 429,
    headers: { 'x-elastic-product': 'Elasticsearch' },
    warnings: null,
    meta: {} as never,
  });

/** When (on the fake clock) the second attempt of an operation rejected once with 429 starts, under `random`. */
async function secondAttemptAt(random: number): Promise<number> {
  const clock = createFakeClock(0);
  const preset: PolicyInput = presets.elasticsearch!.policy;
  const driver = defineDriver<Record<string, never>, ElasticsearchClient>({
    name: 'throttled-elasticsearch',
    system: 'elasticsearch',
    options: z.strictObject({}),
    connect: () => Promise.resolve({} as ElasticsearchClient),
    probe: () => Promise.resolve(),
    close: () => Promise.resolve(),
    classify: classifyElasticsearchError,
  });
  const target = createTarget({
    name: 'search',
    driver,
    options: {},
    validateOptions: false,
    policy: {
      ...preset,
      retry: { ...preset.retry, budget: { enabled: false } },
      healthCheck: { enabled: false },
    },
    clock,
    random: () => random,
  });
  targets.push(target);
  const starting = target.start();
  await clock.advanceAsync(0);
  await starting;
  const attempts: number[] = [];
  const done = target.execute(
    () => {
      attempts.push(clock.now());
      return attempts.length === 1 ? Promise.reject(rejected()) : Promise.resolve('ok');
    },
    { idempotent: true },
  );
  for (let step = 0; step < 100 && attempts.length < 2; step++) await clock.advanceAsync(100);
  await expect(done).resolves.toBe('ok');
  expect(attempts[0]).toBe(0);
  return attempts[1]!;
}

describe('a 429 without Retry-After under preset:elasticsearch', () => {
  it('waits the backoff with equal jitter: 1–2 s before the first retry, drawn from the target’s randomness', async () => {
    // exponential 2 s, equal jitter: 1000 + random · 1000 ms.
    const low = await secondAttemptAt(0);
    const high = await secondAttemptAt(0.999);
    expect(low).toBe(1000);
    expect(high).toBe(1999);
  });
});
