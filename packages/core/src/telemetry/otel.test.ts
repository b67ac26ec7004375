import { metrics, SpanKind, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { TestReader } from '../../test/support/test-metric-reader.js';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { RetryExecutor } from '../engine/retry-executor.js';
import type { AttemptReport } from '../engine/types.js';
import { createFakeClock } from '../time/fake-clock.js';
import { createEngineInstruments, createLifecycleInstruments, secondsBuckets } from './instruments.js';
import { SpanNames } from './names.js';
import { getTracerHandle, nonRecordingSpan } from './otel.js';

const policy = {
  maxRetries: 0,
  backoff: { type: 'fixed', base: 0, factor: 2, max: 0, jitter: 'none' },
  retryOn: { errors: ['connection'], codes: [], statusCodes: [] },
  attemptTimeout: 0,
  deadline: 0,
  budget: { enabled: false, ratio: 0.2, minPerSecond: 10, window: 10_000 },
  hedge: { enabled: false, delay: 'p95', maxExtraLoad: 0.05, maxAttempts: 2 },
} as const;

function executor(reports: AttemptReport[] = [], clock = createFakeClock()): RetryExecutor<string> {
  return new RetryExecutor<string>({
    target: 't',
    system: 'test',
    policy: { ...policy, retryOn: { errors: ['connection'], codes: [], statusCodes: [] } },
    classify: () => ({ kind: 'unknown' }),
    source: { acquire: () => ({ client: 'c' }), report: (_lease, r) => reports.push(r) },
    clock,
  });
}

afterAll(() => {
  trace.disable();
  metrics.disable();
});

// The steps below run in order: first without any SDK, then with one registered.
describe('telemetry without an SDK, then with one registered later', () => {
  // Made before any SDK exists, and used again after one is registered.
  const early = executor();

  it('knows the tracer and the instruments are no-ops while no SDK is registered', () => {
    expect(getTracerHandle().tracingOff()).toBe(true);
    expect(createEngineInstruments().live).toBe(false);
    expect(nonRecordingSpan.isRecording()).toBe(false);
  });

  it('still reports the attempt duration on success when telemetry is off', async () => {
    const clock = createFakeClock();
    const reports: AttemptReport[] = [];
    const ex = executor(reports, clock);
    const done = ex.execute(async () => {
      await clock.advanceAsync(250);
      return 'ok';
    });
    await expect(done).resolves.toBe('ok');
    expect(reports).toEqual([{ ok: true, durationMs: 250 }]);
  });

  it('traces with an executor made before the SDK was registered (the proxy tracer turns live)', async () => {
    const exporter = new InMemorySpanExporter();
    const handle = getTracerHandle();
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    expect(handle.tracingOff()).toBe(false);
    await expect(early.execute(() => Promise.resolve(1))).resolves.toBe(1);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.kind])).toEqual([
      [SpanNames.ATTEMPT, SpanKind.INTERNAL],
      ['test', SpanKind.CLIENT], // the conventions' name: no operation name nor target, so the system
    ]);
    expect(spans[0]?.parentSpanContext?.spanId).toBe(spans[1]?.spanContext().spanId);
  });

  it('makes live instruments once a MeterProvider is registered', () => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new TestReader()] }));
    expect(createEngineInstruments().live).toBe(true);
  });

  it("duration histograms use the database conventions' buckets in seconds (the SDK default is for milliseconds)", async () => {
    const reader = new TestReader();
    metrics.disable(); // the global provider can be set once: drop the previous test's
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    createEngineInstruments().operationDuration.record(0.2);
    createLifecycleInstruments(false).healthCheckDuration.record(0.003);
    const { resourceMetrics } = await reader.collect();
    const histograms = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    expect(histograms.map((m) => m.descriptor.name).sort()).toEqual([
      'db.client.operation.duration',
      'reconnect.health_check.duration',
    ]);
    expect(secondsBuckets).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
    for (const m of histograms) {
      const point = m.dataPoints[0]!.value as { buckets: { boundaries: number[] } };
      expect(point.buckets.boundaries).toEqual(secondsBuckets);
    }
  });
});
