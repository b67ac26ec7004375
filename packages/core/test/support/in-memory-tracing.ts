import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/**
 * Registers a global tracer provider that records every span in memory for this test file, and removes
 * it afterwards; the exporter is emptied before each test. With `activeContext`, a context manager makes
 * a running operation's span the active one, as in an instrumented application.
 */
export function useInMemoryTracing(options: { activeContext?: boolean } = {}): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    if (options.activeContext)
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });
  afterAll(() => {
    trace.disable();
    if (options.activeContext) context.disable();
  });
  beforeEach(() => exporter.reset());
  return exporter;
}
