// A target's telemetry as the driver describes it (Driver.telemetry, asked again after each connect) and its
// observed metrics (Driver.poolStats summed over its nodes into one pool per target, nodes alive and dead, the retry
// budget), with the experimental names beside the stable ones under OTEL_SEMCONV_STABILITY_OPT_IN=database/dup;
// the observing callback is removed when the target stops.
import { metrics, SpanKind } from '@opentelemetry/api';
import { MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { TestReader } from '../support/test-metric-reader.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createFakeClock,
  PACKAGE_NAME,
  PACKAGE_VERSION,
  type ConnectionPoolStats,
  type DbTelemetry,
} from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';
import { createMemoryDriver, type MemoryClient } from './memory-driver.js';

const exporter = useInMemoryTracing();
const reader = new TestReader();
beforeAll(() => metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] })));
afterAll(() => metrics.disable());
afterEach(() => vi.unstubAllEnvs());

type Point = { attributes: Record<string, unknown>; value: unknown };
async function points(name: string, target: string): Promise<Point[]> {
  const { resourceMetrics }: { resourceMetrics: ResourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return ((metric?.dataPoints ?? []) as Point[]).filter((p) => p.attributes['reconnect.target'] === target);
}

const policy = {
  retry: { maxRetries: 0 },
  healthCheck: { interval: 1000, timeout: 200, jitter: 0 },
  reconnect: { connectTimeout: 300 },
};

/** The memory driver with the two telemetry hooks: a pool per client, and a server that says what it is once connected. */
function describedDriver() {
  const { driver, control } = createMemoryDriver();
  const told: (MemoryClient | undefined)[] = [];
  return {
    control,
    told,
    driver: {
      ...driver,
      telemetry(_options: unknown, client?: MemoryClient): DbTelemetry {
        told.push(client);
        return client === undefined ? { namespace: 'shop' } : { namespace: 'shop', system: 'memorydb' };
      },
      poolStats(client: MemoryClient): ConnectionPoolStats {
        return { used: client.id, idle: 2, max: 10, idleMax: 5, pending: 1, timeouts: 3 };
      },
    },
  };
}

describe("a target's database as its driver says, and its observed metrics", () => {
  it('asks the driver again after a connect: the operation spans take the server’s word', async () => {
    const clock = createFakeClock(0);
    const { driver, told } = describedDriver();
    const target = createTarget({ name: 'described', driver, options: { nodes: [7001] }, policy, clock });
    const start = target.start();
    await clock.advanceAsync(0);
    await start;
    await target.execute((c) => c.query('q'), { name: 'GET' });
    await target.stop();
    expect(told[0]).toBeUndefined(); // at build time, options only
    expect(told.at(-1)).toMatchObject({ id: expect.any(Number) as number });
    const op = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(op.name).toBe('GET shop');
    expect(op.attributes).toMatchObject({
      'db.system.name': 'memorydb',
      'db.namespace': 'shop',
      // One named node: it is the target's server, and an address is also the peer.
      'server.address': '127.0.0.1',
      'server.port': 7001,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': 7001,
    });
  });

  it("sums the pools of a multi-node target's clients into one pool named after it, with nodes and budget, until it stops", async () => {
    vi.stubEnv('OTEL_SEMCONV_STABILITY_OPT_IN', 'database/dup');
    const clock = createFakeClock(0);
    const { driver, control } = describedDriver();
    const target = createTarget({ name: 'pooled', driver, options: { nodes: [7001, 7002] }, policy, clock });
    const start = target.start();
    await clock.advanceAsync(0);
    await start;
    const ids = control.clients.map((c) => c.id);
    expect(ids).toHaveLength(2);
    const named = { 'reconnect.target': 'pooled', 'db.client.connection.pool.name': 'pooled' };
    expect(
      (await points('db.client.connection.count', 'pooled')).map((p) => [p.attributes, p.value]),
    ).toEqual([
      [{ ...named, 'db.client.connection.state': 'idle' }, 4],
      [{ ...named, 'db.client.connection.state': 'used' }, ids[0]! + ids[1]!],
    ]);
    expect((await points('db.client.connection.max', 'pooled')).map((p) => p.value)).toEqual([20]);
    expect((await points('db.client.connection.idle.max', 'pooled')).map((p) => p.value)).toEqual([10]);
    expect((await points('db.client.connection.pending_requests', 'pooled')).map((p) => p.value)).toEqual([
      2,
    ]);
    expect((await points('db.client.connection.timeouts', 'pooled')).map((p) => p.value)).toEqual([6]);
    // database/dup: the experimental names, with their own attribute keys.
    const old = { 'reconnect.target': 'pooled', 'pool.name': 'pooled' };
    expect(
      (await points('db.client.connections.usage', 'pooled')).map((p) => [p.attributes, p.value]),
    ).toEqual([
      [{ ...old, state: 'idle' }, 4],
      [{ ...old, state: 'used' }, ids[0]! + ids[1]!],
    ]);
    expect((await points('db.client.connections.max', 'pooled')).map((p) => p.value)).toEqual([20]);
    expect(
      (await points('reconnect.nodes', 'pooled')).map((p) => [p.attributes['reconnect.node.state'], p.value]),
    ).toEqual([
      ['alive', 2],
      ['dead', 0],
    ]);
    expect((await points('reconnect.budget.available', 'pooled')).length).toBe(1);
    // Counters an alert watches exist from the start, at 0.
    expect((await points('reconnect.reconnects', 'pooled')).map((p) => p.value)).toEqual([0]);
    // A stopped target's callback goes: the meter no longer holds the target (or reads its pool).
    const meter = metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    const removed = vi.spyOn(meter, 'removeBatchObservableCallback');
    await target.stop();
    expect(removed).toHaveBeenCalledTimes(1);
    const [, observables] = removed.mock.calls[0]!;
    expect(observables).toHaveLength(15); // 10 stable ones and 5 experimental (database/dup)
  });

  it('observes the concurrency limit: the limit, operations in flight and waiting, and those refused', async () => {
    const clock = createFakeClock(0);
    const { driver } = describedDriver();
    const limited = { ...policy, concurrency: { limit: 2, maxQueue: 1, queueTimeout: '1s' } };
    const target = createTarget({
      name: 'limited',
      driver,
      options: { nodes: [7001] },
      policy: limited,
      clock,
    });
    const start = target.start();
    await clock.advanceAsync(0);
    await start;
    const release: (() => void)[] = [];
    const held = () => new Promise<void>((resolve) => release.push(resolve));
    const running = [1, 2, 3].map(() => target.execute(held, { idempotent: true }));
    const refused = await target.execute(held, { idempotent: true }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    await clock.advanceAsync(0);
    expect((await points('reconnect.concurrency.limit', 'limited')).map((p) => p.value)).toEqual([2]);
    expect(
      (await points('reconnect.concurrency.operations', 'limited')).map((p) => [
        p.attributes['reconnect.concurrency.state'],
        p.value,
      ]),
    ).toEqual([
      ['in_flight', 2],
      ['waiting', 1],
    ]);
    expect((await points('reconnect.concurrency.refused', 'limited')).map((p) => p.value)).toEqual([1]);
    for (let i = 0; i < 3; i++) {
      release.shift()?.();
      await clock.advanceAsync(0);
    }
    await Promise.all(running);
    await target.stop();
  });
});
