// The OpenTelemetry SDK of the third contender, registered only while that contender runs (its rounds, and
// while its target is built), so the raw client and the plain Reconnect target, in the same process, run as if
// no SDK existed:
// - traces: a BasicTracerProvider with a BatchSpanProcessor into an exporter that counts the spans and drops
//   them (what an OTLP exporter does, minus the network); registered once through the API, then switched by
//   setting and clearing the delegate of the API's global ProxyTracerProvider. Reconnect asks that proxy per
//   operation whether it has a delegate (see core's getTracerHandle), and clients made while it had none hold
//   proxy tracers that resolve per call, so clearing the delegate turns tracing off for them again;
// - context: an AsyncLocalStorageContextManager, registered for the rounds and disabled after (in Node 20 its
//   async hooks cost every promise of the process while enabled);
// - metrics: a MeterProvider with a periodic reader (60 s, an in-memory exporter), registered while the
//   contender's target is built (Reconnect makes its instruments then: made without a provider, they stay no-ops).
import { context, metrics, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AttributeNames, MetricNames } from '@reconnect/core';

export const otelDescription =
  'BasicTracerProvider + BatchSpanProcessor (defaults) into an exporter that drops the spans, AsyncLocalStorageContextManager, MeterProvider with a 60 s periodic reader';

export function createOtel() {
  const proxy = trace.getTracerProvider();
  if (!(proxy instanceof ProxyTracerProvider))
    throw new Error('an OpenTelemetry tracer provider is already registered in this process');
  let exported = 0;
  const spanExporter = {
    export(spans, done) {
      exported += spans.length;
      done({ code: 0 }); // ExportResultCode.SUCCESS
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 60_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager();
  let registered = false;
  let on = false;

  return {
    /** Registers the SDK (traces, context, metrics). */
    on() {
      if (on) return;
      on = true;
      context.setGlobalContextManager(contextManager.enable());
      if (!registered) {
        registered = trace.setGlobalTracerProvider(tracerProvider);
        if (!registered) throw new Error('could not register the tracer provider');
      } else proxy.setDelegate(tracerProvider);
      metrics.setGlobalMeterProvider(meterProvider);
    },
    /** Unregisters it: the process looks as if no SDK had ever been registered. */
    off() {
      if (!on) return;
      on = false;
      context.disable();
      // The delegate cleared: the proxy answers with the API's no-op tracer again (setDelegate takes any value).
      proxy.setDelegate(undefined);
      metrics.disable();
    },
    /** Spans exported so far (after {@link flush}: every span ended so far). */
    spansExported: () => exported,
    flush: () => tracerProvider.forceFlush(),
    /** The `reconnect.attempts` counter's total for `target`, as the reader collects it now. */
    async attemptsRecorded(target) {
      const { resourceMetrics } = await reader.collect();
      let sum = 0;
      for (const scope of resourceMetrics.scopeMetrics)
        for (const m of scope.metrics)
          if (m.descriptor.name === MetricNames.ATTEMPTS)
            for (const p of m.dataPoints) if (p.attributes[AttributeNames.TARGET] === target) sum += p.value;
      metricExporter.reset();
      return sum;
    },
    async shutdown() {
      this.off();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
