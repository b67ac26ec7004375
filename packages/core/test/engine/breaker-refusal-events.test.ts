// A breaker that refuses an operation without changing state (open within openFor, or half-open with every trial
// slot taken) writes no breaker transition on the operation's span: only a real transition is an event.
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/engine/breaker/circuit-breaker.js';
import { RetryExecutor } from '../../src/engine/retry-executor.js';
import { EventNames } from '../../src/telemetry/names.js';
import { createFakeClock, type FakeClock } from '../../src/time/fake-clock.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';
import { breakerPolicy, classify, FakeSource, retryPolicy, track } from './helpers.js';

const exporter = useInMemoryTracing({ activeContext: true });

const breakerEvents: string[] = [
  EventNames.BREAKER_OPEN,
  EventNames.BREAKER_HALF_OPEN,
  EventNames.BREAKER_CLOSED,
];

function executor(clock: FakeClock, breaker: CircuitBreaker): RetryExecutor<string> {
  return new RetryExecutor<string>({
    target: 'db',
    system: 'fakedb',
    policy: retryPolicy(),
    classify,
    source: new FakeSource(),
    clock,
    breaker,
  });
}

function operationSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
}

describe('breaker events on the operation span', () => {
  it('an open breaker refusing within openFor: no transition event', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 1000 }), clock);
    breaker.failure();
    clock.advance(500);
    await executor(clock, breaker)
      .execute(() => 'ok')
      .catch(() => {});
    const [span] = operationSpans();
    expect(span).toBeDefined();
    expect(span!.events.map((e) => e.name).filter((n) => breakerEvents.includes(n))).toEqual([]);
  });

  it('a full half-open breaker refusing: no transition event; the trial that turned it half-open has one', async () => {
    const clock = createFakeClock();
    const breaker = new CircuitBreaker(
      breakerPolicy({ failureThreshold: 1, openFor: 1000, halfOpenMaxCalls: 1 }),
      clock,
    );
    breaker.failure();
    clock.advance(1000);
    const run = executor(clock, breaker);
    let finish: (v: string) => void = () => {};
    const trial = track(
      run.execute(() => new Promise<string>((resolve) => (finish = resolve)), { idempotent: true }),
    );
    await run.execute(() => 'ok').catch(() => {});
    finish('done');
    await clock.advanceAsync(0);
    expect(trial.value).toBe('done');
    const [refused, trialSpan] = operationSpans();
    expect(refused!.events.map((e) => e.name).filter((n) => breakerEvents.includes(n))).toEqual([]);
    expect(trialSpan!.events.map((e) => e.name).filter((n) => breakerEvents.includes(n))).toEqual([
      EventNames.BREAKER_HALF_OPEN,
      EventNames.BREAKER_CLOSED,
    ]);
  });
});
