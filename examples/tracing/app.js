/* global clearTimeout */
// Reconnect's spans and metrics through the OpenTelemetry SDK: `node app.js` in this directory (after
// `npm run build`, with Redis on 127.0.0.1:6379). Registers a tracer provider that keeps finished spans
// in memory and a meter provider read by the Prometheus exporter (served on a free loopback port),
// runs a few operations through the target of ./reconnect.config.yaml, then prints every span and
// scrapes /metrics. Reconnect itself depends only on @opentelemetry/api; this program brings the SDK.
import http from 'node:http';
import { context, metrics, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createManager, SpanNames } from '@reconnect/core';

// 1. The SDK, before any target exists: metric instruments are made when a target is built, and the
// metrics API has no proxy meter (instruments made earlier stay no-ops).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const spans = new InMemorySpanExporter(); // swap in ConsoleSpanExporter or an OTLP exporter in a service
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
trace.setGlobalTracerProvider(tracerProvider);

const prometheus = new PrometheusExporter({ preventServerStart: true });
const meterProvider = new MeterProvider({ readers: [prometheus] });
metrics.setGlobalMeterProvider(meterProvider);
// The exporter's own server listens on 0.0.0.0:9464; this one takes any free loopback port instead.
const metricsServer = http.createServer((req, res) => prometheus.getMetricsRequestHandler(req, res));
await new Promise((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
const metricsUrl = `http://127.0.0.1:${metricsServer.address().port}/metrics`;

// 2. Reconnect, as in the quick start.
const manager = await createManager();
const started = await manager.startAll();
if (!started.cache.ok) {
  console.error(`start cache: failed: ${String(started.cache.error)}`);
  process.exitCode = 1;
} else {
  const cache = manager.target('cache');
  const key = `reconnect:tracing:${process.pid}`;
  await cache.execute((redis) => redis.set(key, 'traced', 'EX', 60), { idempotent: true, name: 'SET' });
  await cache.execute((redis) => redis.get(key), { idempotent: true, name: 'GET' });
  await cache.execute((redis) => redis.incr(`${key}:hits`), { name: 'INCR' });
  // What Redis answers while it loads its dataset after a restart, once: a transient reply, so the
  // operation is retried and its span shows two attempts and the retry decision between them.
  let loading = true;
  await cache.execute(
    (redis) => {
      if (loading) {
        loading = false;
        throw Object.assign(new Error('LOADING Redis is loading the dataset in memory'), {
          name: 'ReplyError',
        });
      }
      return redis.get(key);
    },
    // The command's name: db.operation.name (the conventions want it low in cardinality, no free text).
    { idempotent: true, name: 'GET' },
  );
  // The server drops the connection (our own, by CLIENT KILL): the target reconnects, and the next
  // operation waits for it (a `reconnect.connection_wait` span under its attempt). A `reconnect.reconnect` span
  // covers the gap.
  const id = await cache.execute((redis) => redis.client('ID'), { idempotent: true, name: 'CLIENT ID' });
  const del = () =>
    cache.execute((redis) => redis.del(key, `${key}:hits`), { idempotent: true, name: 'DEL' });
  // Issued the moment the target notices the loss, so it surely waits for the reconnect (which may take only ms).
  let stopListening = () => {};
  const deleted = new Promise((resolve, reject) => {
    stopListening = cache.on('disconnect', () => {
      stopListening();
      del().then(resolve, reject);
    });
  });
  await cache
    .execute((redis) => redis.client('KILL', 'ID', String(id), 'SKIPME', 'no'), { name: 'CLIENT KILL' })
    .catch((error) => console.log(`CLIENT KILL: ${error.code ?? error.name}: ${error.message}`));
  // Bounded: should the loss go unnoticed for 5 s, the DEL runs anyway (and the test says what is missing).
  let timer;
  const unnoticed = new Promise((resolve) => {
    timer = setTimeout(resolve, 5000);
  }).then(() => {
    stopListening();
    return del();
  });
  await Promise.race([deleted, unnoticed]);
  clearTimeout(timer);
  // Let one active health probe run (every 250ms by this folder's policy) so its span is recorded.
  await waitFor(() => spans.getFinishedSpans().some((s) => s.name === SpanNames.HEALTH_CHECK), 3000);
}
// A reload of the (unchanged) policy file: a `reconnect.policy_reload` span and the reloads counter show it.
await manager.reload();
// 3. A Prometheus scrape of this process while the target is up (reconnect_target_state shows it).
const scrape = await fetch(metricsUrl);
const scraped = await scrape.text();
await manager.stopAll();

// 4. What the SDK recorded: every finished span, children indented under their parent; then the scrape.
printSpans(spans.getFinishedSpans());
console.log(`\n# GET ${metricsUrl} → ${scrape.status}`);
console.log(scraped.trimEnd());

await new Promise((resolve) => metricsServer.close(resolve));
await meterProvider.shutdown();
await tracerProvider.shutdown();
context.disable();

/**
 * Prints `span "NAME" KIND (duration, STATUS) key=value …` per span and `event NAME key=value …` per span event, as a
 * tree. An operation's span is named by the database conventions (`GET 127.0.0.1:6379`) and is the CLIENT one.
 */
function printSpans(finished) {
  const byParent = new Map();
  const ids = new Set(finished.map((s) => s.spanContext().spanId));
  for (const span of finished) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : 'root';
    byParent.set(key, [...(byParent.get(key) ?? []), span]);
  }
  const attrs = (a) =>
    Object.entries(a ?? {})
      .map(([k, v]) => `${k}=${JSON.stringify(typeof v === 'number' ? Math.round(v * 10) / 10 : v)}`)
      .join(' ');
  const print = (span, depth) => {
    const pad = '  '.repeat(depth);
    const ms = (span.duration[0] * 1e3 + span.duration[1] / 1e6).toFixed(1);
    const status = ['UNSET', 'OK', 'ERROR'][span.status.code];
    const kind = SpanKind[span.kind];
    console.log(
      `${pad}span ${JSON.stringify(span.name)} ${kind} (${ms}ms, ${status}) ${attrs(span.attributes)}`,
    );
    for (const event of span.events) console.log(`${pad}  event ${event.name} ${attrs(event.attributes)}`);
    for (const child of byParent.get(span.spanContext().spanId) ?? []) print(child, depth + 1);
  };
  console.log(`# ${finished.length} spans`);
  for (const span of byParent.get('root') ?? []) print(span, 0);
}

/** Resolves once `done()` is true (checked every 25ms), or after `ms` whatever it says. */
async function waitFor(done, ms) {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));
}
