// Every reload is visible: one reconnect.policy_reload span (file, result, changed paths, the changes in words with
// secrets redacted) and one reconnect.policy_reloads count, applied or refused.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { metrics, SpanStatusCode } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { TestReader } from '../support/test-metric-reader.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeNames, createManager, MetricNames, SpanNames } from '../../src/index.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';
import { createMemoryDriver } from '../lifecycle/memory-driver.js';

const exporter = useInMemoryTracing();
const reader = new TestReader();
beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(() => metrics.disable());

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-reload-otel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const text = (retries: string, password: string) =>
  `version: 1\ntargets:\n  a:\n    driver: memory\n    options: { password: ${password} }\n    policy: { retry: { maxRetries: ${retries} } }\n`;

describe('reconnect.policy_reload', () => {
  it('one span and one count per reload, applied or refused; secret values never recorded', async () => {
    const file = path.join(tmp, 'reconnect.config.yaml');
    writeFileSync(file, text('2', 'hunter2'));
    const { driver } = createMemoryDriver();
    const m = await createManager({ config: file, drivers: { memory: driver }, env: {} });
    writeFileSync(file, text('5', 's3cret'));
    await m.reload();
    writeFileSync(file, text('"${NOT_SET}"', 's3cret'));
    await m.reload();
    await m.stopAll();

    const spans = exporter.getFinishedSpans().filter((s) => s.name === SpanNames.POLICY_RELOAD);
    expect(spans).toHaveLength(2);
    const [applied, refused] = spans;
    expect(applied!.attributes).toEqual({
      [AttributeNames.CONFIG_FILE]: file,
      [AttributeNames.RELOAD_RESULT]: 'applied',
      [AttributeNames.RELOAD_CHANGED_PATHS]: ['a.options.password', 'a.retry.maxRetries'],
      [AttributeNames.RELOAD_CHANGES]: ['a: options.password *** → ***', 'a: retry.maxRetries 2 → 5'],
    });
    expect(applied!.status.code).toBe(SpanStatusCode.OK);
    expect(applied!.parentSpanContext).toBeUndefined(); // a root span
    expect(refused!.attributes[AttributeNames.RELOAD_RESULT]).toBe('failed');
    expect(refused!.attributes[AttributeNames.ERROR_TYPE]).toBe('ERR_CONFIG_INVALID');
    expect(refused!.status.code).toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify(spans.map((s) => [s.attributes, s.status]))).not.toMatch(/hunter2|s3cret/);

    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((x) => x.descriptor.name === MetricNames.POLICY_RELOADS);
    const counts = (metric?.dataPoints ?? []).map((p) => [
      p.attributes[AttributeNames.RELOAD_RESULT],
      p.value,
    ]);
    expect(counts.sort()).toEqual([
      ['applied', 1],
      ['failed', 1],
    ]);
  });
});
