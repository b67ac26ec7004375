import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { startElasticsearchCluster, useServer } from '@reconnect/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { elasticsearchRequests } from '../src/index.js';
import { esTarget, preset, stopTargets } from './helpers.js';

// The driver's telemetry hook and the request helpers' collection, as the operation spans show them, and the
// client's own instrumentation: off unless the options turn it on.

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const policy = { ...preset('elasticsearch'), healthCheck: { enabled: false } };
/** The spans the Elasticsearch client made itself (not @reconnect/core's). */
const clientSpans = (): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name !== '@reconnect/core');
const operation = (name: string): ReadableSpan | undefined =>
  exporter
    .getFinishedSpans()
    .find((s) => s.name === name && s.instrumentationScope.name === '@reconnect/core');

describe('telemetry', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 2, clusterName: 'orders-cluster' }), {
    heal: false,
  });
  afterEach(stopTargets);

  it('db.namespace is the cluster name; db.collection.name the index of search, index, get and a one-index bulk', async () => {
    const t = esTarget(cluster().urls, policy);
    await t.start();
    const es = elasticsearchRequests(t);
    await es.index({ index: 'orders', id: 'o1', document: { a: 1 }, refresh: true });
    await es.get({ index: 'orders', id: 'o1' });
    await es.search({ index: ['orders', 'archive'] }).catch(() => undefined);
    await es.bulk([{ index: { _index: 'orders', _id: 'o2' } }, { a: 2 }]);
    await es.request({ method: 'GET', path: '/orders/_doc/o1' });
    for (const [span, collection] of [
      ['index orders', 'orders'],
      ['get orders', 'orders'],
      ['search orders,archive', 'orders,archive'],
      ['bulk orders', 'orders'],
      ['GET /orders/_doc/o1 orders', 'orders'],
    ] as const) {
      const s = operation(span);
      expect(s, span).toBeDefined();
      expect(s!.attributes['db.collection.name']).toBe(collection);
      expect(s!.attributes['db.namespace']).toBe('orders-cluster');
      expect(s!.attributes['db.system.name']).toBe('elasticsearch');
    }
    // A bulk over two indices names none.
    await es.bulk([
      { index: { _index: 'a', _id: '1' } },
      { a: 1 },
      { index: { _index: 'b', _id: '1' } },
      { b: 1 },
    ]);
    expect(operation('bulk orders-cluster')?.attributes['db.collection.name']).toBeUndefined();
  });

  it("the client's own instrumentation is off by default, on with openTelemetry: { enabled: true }", async () => {
    const off = esTarget(cluster().urls, policy);
    await off.start();
    await elasticsearchRequests(off)
      .search({ index: 'orders' })
      .catch(() => undefined);
    expect(operation('search orders')).toBeDefined();
    expect(clientSpans()).toEqual([]);
    const on = esTarget(cluster().urls, policy, { openTelemetry: { enabled: true } });
    await on.start();
    await elasticsearchRequests(on)
      .search({ index: 'orders' })
      .catch(() => undefined);
    expect(clientSpans().map((s) => s.attributes['db.system'])).toContain('elasticsearch');
  });
});
