import type { estypes } from '@elastic/elasticsearch';
import { createFakeClock, createTarget, defineDriver, type Target } from '@reconnect/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bulkWithRetries } from './bulk.js';
import { classifyElasticsearchError } from './classify.js';
import type { ElasticsearchClient } from './client.js';
import { isElasticsearchDriverError } from './errors.js';

// bulkWithRetries' rounds are the attempts of one execute: their waits are the target's backoff on the target's
// clock and randomness (a fake clock here, no real time), within its deadline, and each round resends only the
// items that failed with a status the policy retries.

type ItemAnswer = { status: number; error?: { type: string; reason: string } };

/** A client whose bulk answers each round with the next script entry (one answer per item sent). */
function scriptedClient(script: ItemAnswer[][], sent: unknown[][]): ElasticsearchClient {
  return {
    bulk(request: { operations: unknown[] }): Promise<estypes.BulkResponse> {
      sent.push(request.operations);
      const answers = script.shift() ?? [];
      return Promise.resolve({
        errors: answers.some((a) => a.status >= 300),
        took: 1,
        items: answers.map((a, k) => ({
          index: {
            _index: 'logs',
            _id: `id${k}`,
            status: a.status,
            ...(a.status < 300 ? { result: 'created' } : { error: a.error }),
          },
        })) as estypes.BulkResponse['items'],
      });
    },
  } as unknown as ElasticsearchClient;
}

const rejected: ItemAnswer = {
  status: 429,
  error: { type: 'es_rejected_execution_exception', reason: 'queue full' },
};
const created: ItemAnswer = { status: 201 };

const targets: Target<ElasticsearchClient>[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.stop()));
});

async function startedTarget(
  script: ItemAnswer[][],
  retry: Record<string, unknown>,
): Promise<{
  target: Target<ElasticsearchClient>;
  clock: ReturnType<typeof createFakeClock>;
  sent: unknown[][];
}> {
  const clock = createFakeClock(0);
  const sent: unknown[][] = [];
  const client = scriptedClient(script, sent);
  const driver = defineDriver<Record<string, never>, ElasticsearchClient>({
    name: 'scripted-elasticsearch',
    system: 'elasticsearch',
    options: z.strictObject({}),
    connect: () => Promise.resolve(client),
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
      retry: {
        maxRetries: 3,
        attemptTimeout: 0,
        budget: { enabled: false },
        retryOn: { errors: ['connection', 'throttled'] },
        ...retry,
      },
      healthCheck: { enabled: false },
      circuitBreaker: { enabled: false },
    },
    clock,
    random: () => 0.5,
  });
  targets.push(target);
  const starting = target.start();
  await clock.advanceAsync(0);
  await starting;
  return { target, clock, sent };
}

const operations = [
  { index: { _index: 'logs', _id: 'a' } },
  { n: 1 },
  { index: { _index: 'logs', _id: 'b' } },
  { n: 2 },
];

describe('bulkWithRetries on the target’s clock', () => {
  it('waits the backoff between rounds on the target’s clock and resends only the rejected items', async () => {
    // Round 1: the first item is rejected; round 2: rejected again; round 3: applied.
    const { target, clock, sent } = await startedTarget([[rejected, created], [rejected], [created]], {
      backoff: { type: 'exponential', base: 100, factor: 2, max: 10_000, jitter: 'none' },
      deadline: '10s',
    });
    let result: Awaited<ReturnType<typeof bulkWithRetries>> | undefined;
    const done = bulkWithRetries(target, { operations }).then((r) => (result = r));
    await clock.advanceAsync(0);
    expect(sent).toHaveLength(1);
    await clock.advanceAsync(99);
    expect(sent).toHaveLength(1);
    await clock.advanceAsync(1); // 100 ms: the first retry's delay
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(operations.slice(0, 2));
    await clock.advanceAsync(199);
    expect(sent).toHaveLength(2);
    await clock.advanceAsync(1); // 200 ms more: the second retry's delay
    expect(sent).toHaveLength(3);
    await done;
    expect(result?.rounds).toBe(3);
    expect(result?.errors).toBe(false);
    expect(result?.items.map((i) => [i.outcome, i.attempts])).toEqual([
      ['applied', 3],
      ['applied', 1],
    ]);
  });

  it('draws jitter from the target’s randomness', async () => {
    // full jitter: uniform(0, 400) with random() = 0.5 is 200 ms.
    const { target, clock, sent } = await startedTarget([[rejected, created], [created]], {
      backoff: { type: 'fixed', base: 400, max: 400, jitter: 'full' },
      deadline: '10s',
    });
    const done = bulkWithRetries(target, { operations });
    await clock.advanceAsync(199);
    expect(sent).toHaveLength(1);
    await clock.advanceAsync(1);
    expect(sent).toHaveLength(2);
    expect((await done).items.map((i) => i.outcome)).toEqual(['applied', 'applied']);
  });

  it('stops at the deadline on the target’s clock: the rejected item is failed, the others applied', async () => {
    const { target, clock, sent } = await startedTarget([[rejected, created], [rejected], [created]], {
      backoff: { type: 'fixed', base: 400, max: 400, jitter: 'none' },
    });
    const done = bulkWithRetries(target, { operations, deadline: 600 });
    await clock.advanceAsync(400);
    expect(sent).toHaveLength(2);
    // The next wait would end past the deadline (800 ≥ 600): no third round.
    const result = await done;
    expect(sent).toHaveLength(2);
    expect(result.rounds).toBe(2);
    expect(result.items.map((i) => [i.outcome, i.status])).toEqual([
      ['failed', 429],
      ['applied', 201],
    ]);
    expect(result.items[0]?.error).toEqual(rejected.error);
  });

  it('each round the executor retries is one BulkItemsRetryableError, classified as its items', async () => {
    const seen: { error: unknown; classification: unknown }[] = [];
    const { target, clock } = await startedTarget([[rejected, created], [created]], {
      backoff: { type: 'fixed', base: 10, max: 10, jitter: 'none' },
      retryIf: (error: unknown, ctx: { classification: unknown }) => {
        seen.push({ error, classification: ctx.classification });
        return true;
      },
    });
    const done = bulkWithRetries(target, { operations });
    await clock.advanceAsync(10);
    expect((await done).items.map((i) => i.outcome)).toEqual(['applied', 'applied']);
    expect(seen).toHaveLength(1);
    const error = seen[0]!.error;
    expect(isElasticsearchDriverError(error)).toBe(true);
    expect(error).toMatchObject({
      name: 'BulkItemsRetryableError',
      code: 'BULK_ITEMS_RETRYABLE',
      retrying: 1,
    });
    expect((error as Error).cause).toEqual(rejected.error);
    const classification = {
      kind: 'throttled',
      code: 'es_rejected_execution_exception',
      statusCode: 429,
      sent: false,
    };
    expect(seen[0]!.classification).toEqual(classification);
    expect(classifyElasticsearchError(error)).toEqual(classification);
  });

  it('a bulk holding an item unsafe to replay resends only the items refused unapplied', async () => {
    const unavailable: ItemAnswer = { status: 503, error: { type: 'some_unknown_exception', reason: '?' } };
    const retry = {
      backoff: { type: 'fixed', base: 10, max: 10, jitter: 'none' },
      retryOn: { errors: ['throttled', 'transient'] },
    };
    // An index without _id (unsafe) and one with: the 503 (may have run) is not resent, the 429 is.
    const unsafe = [
      { index: { _index: 'logs' } },
      { n: 1 },
      { index: { _index: 'logs', _id: 'b' } },
      { n: 2 },
    ];
    const first = await startedTarget([[rejected, unavailable], [created]], retry);
    const done = bulkWithRetries(first.target, { operations: unsafe });
    await first.clock.advanceAsync(10);
    expect((await done).items.map((i) => [i.outcome, i.attempts])).toEqual([
      ['applied', 2],
      ['failed', 1],
    ]);
    expect(first.sent[1]).toEqual(unsafe.slice(0, 2));
    // Every item safe to replay: both are resent.
    const second = await startedTarget(
      [
        [rejected, unavailable],
        [created, created],
      ],
      retry,
    );
    const again = bulkWithRetries(second.target, { operations });
    await second.clock.advanceAsync(10);
    expect((await again).items.map((i) => [i.outcome, i.attempts])).toEqual([
      ['applied', 2],
      ['applied', 2],
    ]);
  });
});
