// The real OpenTelemetry SDK, registered before any target exists: every span Reconnect makes is kept
// in memory and written out as OTLP JSON (what an OTLP/HTTP exporter would POST to /v1/traces).
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** Registers the SDK globally; returns the exporter holding finished spans and a shutdown function. */
export function startTracing() {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  let down;
  return {
    exporter,
    tracer: trace.getTracer('reconnect-demo'),
    flush: () => provider.forceFlush(),
    shutdown() {
      down ??= provider.shutdown().finally(() => {
        trace.disable();
        context.disable();
      });
      return down;
    },
  };
}

const nanos = (hr) => (BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])).toString();

/** One attribute value in OTLP's AnyValue form. */
function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { stringValue: String(v) };
}

const attributes = (attrs = {}) =>
  Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([key, value]) => ({ key, value: anyValue(value) }));

/**
 * ReadableSpans as an OTLP JSON `ExportTraceServiceRequest`: ids in hex, times as nanosecond strings,
 * span kind and status codes as OTLP numbers (the API's kind + 1), grouped by resource and scope.
 */
export function toOtlpJson(spans) {
  const byScope = new Map();
  for (const s of spans) {
    const scope = s.instrumentationScope ?? { name: 'unknown' };
    const k = `${scope.name}@${scope.version ?? ''}`;
    if (!byScope.has(k)) byScope.set(k, { scope, spans: [] });
    const ctx = s.spanContext();
    const span = {
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      name: s.name,
      kind: s.kind + 1,
      startTimeUnixNano: nanos(s.startTime),
      endTimeUnixNano: nanos(s.endTime),
      attributes: attributes(s.attributes),
      events: s.events.map((e) => ({
        timeUnixNano: nanos(e.time),
        name: e.name,
        attributes: attributes(e.attributes),
      })),
      status: { code: s.status.code, ...(s.status.message ? { message: s.status.message } : {}) },
    };
    if (s.parentSpanContext?.spanId) span.parentSpanId = s.parentSpanContext.spanId;
    byScope.get(k).spans.push(span);
  }
  const resource = spans[0]?.resource?.attributes ?? {};
  return {
    resourceSpans: [
      {
        resource: { attributes: attributes({ ...resource, 'service.name': 'reconnect-demo' }) },
        scopeSpans: [...byScope.values()].map(({ scope, spans: list }) => ({
          scope: { name: scope.name, ...(scope.version ? { version: scope.version } : {}) },
          spans: list,
        })),
      },
    ],
  };
}
