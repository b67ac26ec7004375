import { metrics, SpanKind } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { TestReader } from '../support/test-metric-reader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeAddress } from '../../src/driver/driver.js';
import { RetryExecutor } from '../../src/engine/retry-executor.js';
import type { AttemptContext } from '../../src/engine/types.js';
import { MetricNames, SpanNames } from '../../src/telemetry/names.js';
import { createFakeClock, type FakeClock } from '../../src/time/fake-clock.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';
import { classify, FakeSource, nodes, retryPolicy, track } from './helpers.js';

// What a hedged read shows: an attempt span per attempt (the hedge's marked), the loser's outcome `hedge_lost`,
// the winner on the operation span, and the reconnect.hedges counter by result.

const exporter = useInMemoryTracing({ activeContext: true });
const reader = new TestReader();
beforeAll(() => metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] })));
afterAll(() => metrics.disable());

class HedgeSource extends FakeSource {
  hedgeable(avoid: NodeAddress): boolean {
    return this.pool.some((n) => n.id !== avoid.id);
  }
}

function executor(clock: FakeClock): RetryExecutor<string> {
  return new RetryExecutor<string>({
    target: 'hedged-db',
    system: 'fakedb',
    policy: retryPolicy({ hedge: { enabled: true, delay: 50, maxExtraLoad: 1, maxAttempts: 2 } }),
    classify,
    source: new HedgeSource(nodes),
    clock,
  });
}

/** A read answering after `ms[node]` on the fake clock. */
const read =
  (clock: FakeClock, ms: Record<string, number>) =>
  (client: string, ctx: AttemptContext): Promise<string> =>
    new Promise((resolve) => clock.setTimeout(() => resolve(client), ms[ctx.node?.id ?? ''] ?? 0));

async function hedgeResults(): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === MetricNames.HEDGES);
  const out: Record<string, number> = {};
  for (const p of metric?.dataPoints ?? [])
    out[String(p.attributes['reconnect.hedge.result'])] = p.value as number;
  return out;
}

describe('hedged read telemetry', () => {
  it('spans say which attempt was the hedge, which lost, which won; the counter counts won and lost', async () => {
    const clock = createFakeClock();
    const ex = executor(clock);
    const won = track(
      ex.execute(read(clock, { 'a:1': 1000, 'b:2': 10 }), { readOnly: true, idempotent: true }),
    );
    await clock.advanceAsync(1000);
    expect(won.value).toBe('client@b:2');

    const all = exporter.getFinishedSpans();
    const op = all.filter((s) => s.kind === SpanKind.CLIENT);
    const attempts = all.filter((s) => s.name === SpanNames.ATTEMPT);
    expect(op).toHaveLength(1);
    expect(op[0]!.attributes['reconnect.hedge.winner']).toBe(2);
    expect(op[0]!.attributes['reconnect.attempts']).toBe(2);
    const byNumber = Object.fromEntries(
      attempts.map((s) => [s.attributes['reconnect.attempt'], s.attributes]),
    );
    expect(byNumber[1]).toMatchObject({
      'reconnect.attempt.outcome': 'hedge_lost',
      'error.type': 'ERR_HEDGE_CANCELLED',
    });
    expect(byNumber[1]).not.toHaveProperty('reconnect.attempt.hedge');
    expect(byNumber[2]).toMatchObject({
      'reconnect.attempt.outcome': 'success',
      'reconnect.attempt.hedge': true,
    });
    // Both attempt spans are children of the operation span.
    for (const a of attempts) expect(a.parentSpanContext?.spanId).toBe(op[0]!.spanContext().spanId);

    const lost = track(
      ex.execute(read(clock, { 'a:1': 70, 'b:2': 1000 }), { readOnly: true, idempotent: true }),
    );
    await clock.advanceAsync(1000);
    expect(lost.value).toBe('client@a:1');
    expect(await hedgeResults()).toEqual({ won: 1, lost: 1 });
  });
});
