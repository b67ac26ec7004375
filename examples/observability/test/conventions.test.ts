// Fails when a span or metric name, a span kind or a required attribute drifts from OpenTelemetry's database
// semantic conventions (the stable db.* set, semantic-conventions v1.44). The table below is written out in the
// conventions' own words — literal strings, not Reconnect's constants — and checked against what each driver's
// target really emits against a throwaway server: Redis, MariaDB (through the MySQL driver) and the testkit's
// Elasticsearch-protocol cluster.
import { context, metrics, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createTarget, type Target } from '@reconnect/core';
import { elasticsearchDriver, elasticsearchOptionsSchema } from '@reconnect/driver-elasticsearch';
import { mysqlDriver, mysqlOptionsSchema } from '@reconnect/driver-mysql';
import { redisDriver, redisOptionsSchema } from '@reconnect/driver-redis';
import { startElasticsearchCluster, startMariaDB, startRedis, useServer } from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// ─── The conventions, as a table ─────────────────────────────────────────────────────────────────

/** Required (always), when-failed and forbidden attribute keys, per kind of span Reconnect emits. */
const spanTable = {
  /** The logical database operation: `span.db.client`. */
  operation: {
    kind: SpanKind.CLIENT,
    required: ['db.system.name', 'reconnect.target', 'reconnect.attempts'],
    failed: ['error.type'],
  },
  /** One attempt: Reconnect's own, under the operation. */
  attempt: {
    kind: SpanKind.INTERNAL,
    name: 'reconnect.attempt',
    required: ['db.system.name', 'reconnect.attempt', 'reconnect.attempt.outcome'],
    failed: ['error.type', 'reconnect.error.kind'],
  },
  health: {
    kind: SpanKind.INTERNAL,
    name: 'reconnect.health_check',
    required: ['db.system.name', 'reconnect.target', 'reconnect.health.ok'],
    failed: ['error.type'],
  },
} as const;

/** Names the conventions deprecated: not emitted unless OTEL_SEMCONV_STABILITY_OPT_IN=database/dup. */
const deprecated = ['db.system', 'db.name', 'db.operation', 'db.statement', 'db.sql.table', 'net.peer.name'];

/** `error.type`: a status, a stable code or `_OTHER`, never a class name such as `ReplyError`. */
const errorTypeShape = /^(?:_OTHER|\d+|[A-Z][A-Z0-9_]*)$/;

const metricTable = {
  'db.client.operation.duration': {
    type: DataPointType.HISTOGRAM,
    unit: 's',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    required: ['db.system.name'],
    failed: ['error.type'],
  },
  'db.client.connection.count': {
    type: DataPointType.SUM,
    unit: '{connection}',
    required: ['db.client.connection.pool.name', 'db.client.connection.state'],
  },
  'db.client.connection.max': {
    type: DataPointType.SUM,
    unit: '{connection}',
    required: ['db.client.connection.pool.name'],
  },
  'db.client.connection.pending_requests': {
    type: DataPointType.SUM,
    unit: '{request}',
    required: ['db.client.connection.pool.name'],
  },
} as const;

/** Never a metric attribute: a node's address, a node id (values without bound), per the issue and the table. */
const neverOnMetrics = [
  'server.address',
  'server.port',
  'network.peer.address',
  'network.peer.port',
  'reconnect.node.id',
];

/** The conventions' span name: `{db.operation.name} {target}`, the target alone, else `{db.system.name}`. */
function conventionalName(a: Attributes): string {
  const system = a['db.system.name'] as string;
  const server =
    a['server.address'] === undefined
      ? undefined
      : `${String(a['server.address'])}:${String(a['server.port'])}`;
  const target =
    (a['db.collection.name'] as string | undefined) ??
    (system === 'redis' ? undefined : (a['db.namespace'] as string | undefined)) ??
    server;
  const op = a['db.operation.name'] as string | undefined;
  if (op !== undefined) return target === undefined ? op : `${op} ${target}`;
  return target ?? system;
}

// ─── The SDK and three real stores ───────────────────────────────────────────────────────────────

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
const targets: Target<unknown>[] = [];
afterAll(async () => {
  await Promise.allSettled(targets.map((t) => t.stop()));
  trace.disable();
  metrics.disable();
  context.disable();
});

const redis = useServer(() => startRedis());
const mariadb = useServer(() => startMariaDB());
const cluster = useServer(() => startElasticsearchCluster({ nodes: 2 }));

const policy = { healthCheck: { interval: '200ms', timeout: '150ms' }, retry: { maxRetries: 1 } };

async function started<C>(target: Target<C>): Promise<Target<C>> {
  targets.push(target);
  await target.start();
  return target;
}

/** What each store is expected to say of itself. */
interface Store {
  system: string;
  run: () => Promise<{ ok: string; failed: string; status: string }>;
  namespace: string | undefined;
  /** Whether the operation span names one server at its start (a single-server target). */
  singleServer: boolean;
}

const stores: Record<string, Store> = {
  redis: {
    system: 'redis',
    namespace: '0',
    singleServer: true,
    run: async () => {
      const t = await started(
        createTarget({
          name: 'cache',
          driver: redisDriver,
          options: redisOptionsSchema.parse({ url: redis().url }),
          policy,
        }),
      );
      await t.execute((r) => r.rpush('conventions:list', 'x'), { name: 'RPUSH' });
      await t.execute((r) => r.get('conventions:key'), { idempotent: true, name: 'GET' });
      // GET on a list: the server answers WRONGTYPE.
      await t.execute((r) => r.get('conventions:list'), { idempotent: true, name: 'GET' }).catch(() => {});
      return { ok: 'GET', failed: 'GET', status: 'WRONGTYPE' };
    },
  },
  mysql: {
    // The testkit's server is MariaDB: the MySQL driver reads which one from the server's handshake.
    system: 'mariadb',
    namespace: 'test',
    singleServer: true,
    run: async () => {
      const t = await started(
        createTarget({
          name: 'db',
          driver: mysqlDriver,
          options: mysqlOptionsSchema.parse({ ...mariadb().options }),
          policy,
        }),
      );
      await t.execute((p) => p.query('SELECT 1'), { idempotent: true, name: 'SELECT' });
      await t.execute((p) => p.query('SELEC 1'), { idempotent: true, name: 'SELECT' }).catch(() => {});
      return { ok: 'SELECT', failed: 'SELECT', status: '1064' };
    },
  },
  elasticsearch: {
    system: 'elasticsearch',
    namespace: undefined,
    singleServer: false,
    run: async () => {
      const t = await started(
        createTarget({
          name: 'search',
          driver: elasticsearchDriver,
          options: elasticsearchOptionsSchema.parse({ nodes: cluster().urls }),
          policy,
        }),
      );
      const index = { idempotent: true, name: 'index', collection: 'products' };
      await t.execute((c) => c.index({ index: 'products', id: '1', document: { a: 1 } }), index);
      const get = { idempotent: true, name: 'get', collection: 'products' };
      await t.execute((c) => c.get({ index: 'products', id: 'missing' }), get).catch(() => {});
      return { ok: 'index', failed: 'get', status: '404' };
    },
  },
};

const captured: Record<string, { spans: ReadableSpan[]; expect: Awaited<ReturnType<Store['run']>> }> = {};
const foreign: Record<string, ReadableSpan[]> = {};
let metricData: MetricData[] = [];

beforeAll(async () => {
  for (const [name, store] of Object.entries(stores)) {
    spans.reset();
    const expect = await store.run();
    // The health check runs every 200 ms: one is in by now or soon.
    for (let i = 0; i < 50 && !spans.getFinishedSpans().some((s) => s.name === 'reconnect.health_check'); i++)
      await new Promise((r) => setTimeout(r, 20));
    // Reconnect's own spans. The Elasticsearch client adds spans of its own (its transport's instrumentation,
    // on by default), nested under the attempt that sent them: checked apart below.
    const finished = spans.getFinishedSpans();
    captured[name] = {
      spans: finished.filter((s) => s.instrumentationScope.name === '@reconnect/core'),
      expect,
    };
    foreign[name] = finished.filter((s) => s.instrumentationScope.name !== '@reconnect/core');
  }
  await reader.forceFlush();
  metricData =
    metricExporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
}, 60_000);

// ─── The checks ──────────────────────────────────────────────────────────────────────────────────

function checkKeys(span: ReadableSpan, keys: readonly string[]): void {
  for (const key of keys) expect(span.attributes, `${span.name}: ${key}`).toHaveProperty([key]);
}

describe.each(Object.keys(stores))('%s: spans follow the database conventions', (name) => {
  const store = stores[name]!;

  it('each operation is one CLIENT span, named and attributed as the conventions say', () => {
    const { spans: all, expect: e } = captured[name]!;
    const ops = all.filter((s) => s.kind === SpanKind.CLIENT);
    expect(ops.length).toBeGreaterThanOrEqual(2);
    for (const op of ops) {
      checkKeys(op, spanTable.operation.required);
      expect(op.attributes['db.system.name']).toBe(store.system);
      expect(op.name).toBe(conventionalName(op.attributes));
      if (store.namespace !== undefined) expect(op.attributes['db.namespace']).toBe(store.namespace);
      // server.port goes with server.address; network.peer.* of the last node contacted.
      expect(op.attributes['server.address'], op.name).toBe('127.0.0.1');
      expect(typeof op.attributes['server.port']).toBe('number');
      expect(op.attributes['network.peer.address'], op.name).toBe('127.0.0.1');
      expect(typeof op.attributes['network.peer.port']).toBe('number');
      for (const key of deprecated) expect(op.attributes, key).not.toHaveProperty([key]);
      expect(op.attributes).not.toHaveProperty(['db.query.text']); // opt-in only
    }
    const ok = ops.find(
      (s) => s.attributes['db.operation.name'] === e.ok && s.attributes['error.type'] === undefined,
    );
    expect(ok, `a successful ${e.ok}`).toBeDefined();
    const failed = ops.find((s) => s.attributes['error.type'] !== undefined);
    expect(failed, 'a failed operation').toBeDefined();
    checkKeys(failed!, spanTable.operation.failed);
    expect(failed!.attributes['db.operation.name']).toBe(e.failed);
    expect(failed!.attributes['db.response.status_code']).toBe(e.status);
    expect(failed!.attributes['error.type']).toBe(e.status);
    expect(failed!.status.code).toBe(2); // ERROR
  });

  it('attempts are INTERNAL children of their operation, with their number, node and outcome', () => {
    const all = captured[name]!.spans;
    const ops = new Map(
      all.filter((s) => s.kind === SpanKind.CLIENT).map((s) => [s.spanContext().spanId, s]),
    );
    const attempts = all.filter((s) => s.name === spanTable.attempt.name);
    expect(attempts.length).toBeGreaterThanOrEqual(ops.size);
    for (const a of attempts) {
      expect(a.kind).toBe(spanTable.attempt.kind);
      expect(ops.has(a.parentSpanContext?.spanId ?? ''), 'a child of an operation span').toBe(true);
      checkKeys(a, spanTable.attempt.required);
      expect(a.attributes['server.address']).toBe('127.0.0.1');
      if (a.attributes['reconnect.attempt.outcome'] !== 'success') {
        checkKeys(a, spanTable.attempt.failed);
        expect(a.attributes['error.type']).toMatch(errorTypeShape);
      }
      if (!store.singleServer) expect(a.attributes).toHaveProperty(['reconnect.node.id']);
    }
  });

  it('lifecycle spans are INTERNAL; no span carries a deprecated name or a class name as error.type', () => {
    const all = captured[name]!.spans;
    const health = all.filter((s) => s.name === spanTable.health.name);
    expect(health.length).toBeGreaterThan(0);
    for (const h of health) {
      expect(h.kind).toBe(spanTable.health.kind);
      checkKeys(h, spanTable.health.required);
    }
    for (const s of all) {
      if (s.kind !== SpanKind.CLIENT) expect(s.kind, s.name).toBe(SpanKind.INTERNAL);
      for (const key of deprecated) expect(s.attributes, `${s.name}: ${key}`).not.toHaveProperty([key]);
      const type = s.attributes['error.type'];
      if (type !== undefined) expect(type, s.name).toMatch(errorTypeShape);
    }
  });
});

it("a client library's own spans (the Elasticsearch transport's) nest under the attempt that sent them", () => {
  const attempts = new Set(
    Object.values(captured).flatMap((c) =>
      c.spans.filter((s) => s.name === 'reconnect.attempt').map((s) => s.spanContext().spanId),
    ),
  );
  const requests = Object.values(foreign)
    .flat()
    .filter((s) => s.parentSpanContext !== undefined);
  for (const s of requests) expect(attempts.has(s.parentSpanContext!.spanId), s.name).toBe(true);
});

describe('metrics follow the database conventions', () => {
  const byName = (n: string) => metricData.find((m) => m.descriptor.name === n);

  it.each(Object.entries(metricTable))('%s: instrument, unit, buckets and required attributes', (n, rule) => {
    const m = byName(n);
    expect(m, n).toBeDefined();
    expect(m!.dataPointType).toBe(rule.type);
    expect(m!.descriptor.unit).toBe(rule.unit);
    expect(m!.dataPoints.length).toBeGreaterThan(0);
    for (const p of m!.dataPoints) {
      for (const key of rule.required) expect(p.attributes, `${n}: ${key}`).toHaveProperty([key]);
      if ('buckets' in rule)
        expect((p.value as { buckets: { boundaries: number[] } }).buckets.boundaries).toEqual(rule.buckets);
      for (const key of deprecated) expect(p.attributes, `${n}: ${key}`).not.toHaveProperty([key]);
    }
  });

  it('db.client.operation.duration: one series per store system, failures with error.type and the status', () => {
    const points = byName('db.client.operation.duration')!.dataPoints;
    expect(new Set(points.map((p) => p.attributes['db.system.name']))).toEqual(
      new Set(['redis', 'mariadb', 'elasticsearch']),
    );
    const failed = points.filter((p) => p.attributes['error.type'] !== undefined);
    expect(
      failed.map((p) => [p.attributes['db.system.name'], p.attributes['db.response.status_code']]).sort(),
    ).toEqual([
      ['elasticsearch', '404'],
      ['mariadb', '1064'],
      ['redis', 'WRONGTYPE'],
    ]);
  });

  it('no metric carries a node address or node id; every Reconnect metric is namespaced and carries reconnect.target', () => {
    for (const m of metricData) {
      const name = m.descriptor.name;
      expect(name, name).toMatch(/^(?:db\.client\.|reconnect\.)/);
      for (const p of m.dataPoints) {
        for (const key of neverOnMetrics) expect(p.attributes, `${name}: ${key}`).not.toHaveProperty([key]);
        for (const key of Object.keys(p.attributes))
          expect(key, `${name}: ${key}`).toMatch(/^(?:reconnect\.|db\.|error\.type$)/);
        if (name !== 'reconnect.policy_reloads') expect(p.attributes).toHaveProperty(['reconnect.target']);
      }
    }
  });
});
