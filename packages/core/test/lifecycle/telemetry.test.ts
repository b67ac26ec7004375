import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createFakeClock, EventNames, SpanNames } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { useInMemoryTracing } from '../support/in-memory-tracing.js';
import { createMemoryDriver, type MemoryClient } from './memory-driver.js';

const exporter = useInMemoryTracing();

const policy = {
  retry: {
    maxRetries: 1,
    backoff: { type: 'fixed' as const, base: 10, max: 10, jitter: 'none' as const },
    budget: { enabled: false },
  },
  healthCheck: { interval: 1000, timeout: 200, jitter: 0, failureThreshold: 2 },
  reconnect: {
    backoff: { type: 'fixed' as const, base: 500, max: 500, jitter: 'none' as const },
    connectTimeout: 300,
  },
  circuitBreaker: { enabled: false },
};

describe('lifecycle telemetry', () => {
  it('reconnect.health_check per probe; reconnect.reconnect from loss to reconnect with one event per failed try', async () => {
    exporter.reset();
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({ name: 'cache', driver, options: {}, policy, clock });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(1000); // two failed probes (the second confirms the first at once): down
    await clock.advanceAsync(1000); // two failed reconnect tries (500 ms apart)
    control.connect = 'succeed';
    control.probe = 'succeed';
    await clock.advanceAsync(500);
    expect(target.state).toBe('connected');
    await target.stop();

    const spans = exporter.getFinishedSpans();
    const checks = spans.filter((s) => s.name === SpanNames.HEALTH_CHECK);
    expect(checks).toHaveLength(2);
    expect(checks[0]?.attributes).toMatchObject({
      'reconnect.target': 'cache',
      'db.system.name': 'memory',
      'reconnect.health.ok': false,
      'error.type': 'ECONNREFUSED',
    });
    const reconnects = spans.filter((s) => s.name === SpanNames.RECONNECT);
    expect(reconnects).toHaveLength(1);
    const r = reconnects[0]!;
    expect(r.status.code).toBe(1); // OK
    expect(r.events.map((e) => e.name)).toEqual([EventNames.RECONNECT_ATTEMPT, EventNames.RECONNECT_ATTEMPT]);
    expect(r.events[0]?.attributes).toMatchObject({
      'reconnect.attempt': 1,
      'error.type': 'ECONNREFUSED',
      'reconnect.delay_ms': 500,
    });
    expect(r.attributes).toMatchObject({
      'reconnect.target': 'cache',
      'db.system.name': 'memory',
      'reconnect.attempts': 3,
      'reconnect.outcome': 'reconnected',
    });
    expect(r.kind).toBe(SpanKind.INTERNAL);
  });

  it("reconnect.reconnect takes the first failed attempt's code when the loss was a bare Error (kill -9), never its class name", async () => {
    exporter.reset();
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({ name: 'cache', driver, options: {}, policy, clock });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    // A killed server: the probe sees a closed socket with no code; reconnects are then refused.
    control.probeError = new Error('Connection is closed.');
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(1000);
    await clock.advanceAsync(500);
    control.connect = 'succeed';
    control.probe = 'succeed';
    control.probeError = undefined;
    await clock.advanceAsync(500);
    expect(target.state).toBe('connected');
    await target.stop();
    const spans = exporter.getFinishedSpans();
    const r = spans.find((s) => s.name === SpanNames.RECONNECT)!;
    expect(r.attributes['error.type']).toBe('ECONNREFUSED');
    // The probe that saw the bare Error: no code anywhere, so the conventions' fallback, not `Error`.
    expect(spans.find((s) => s.name === SpanNames.HEALTH_CHECK)!.attributes['error.type']).toBe('_OTHER');
    expect(r.events[0]?.attributes).toMatchObject({ 'reconnect.on_demand_attempts': 0 });
  });

  it("a loss the client reports as a bare Error takes the driver's code for it as error.type", async () => {
    exporter.reset();
    const clock = createFakeClock(0);
    const { driver: memory, control } = createMemoryDriver();
    const driver = {
      ...memory,
      classify: (e: unknown) =>
        e instanceof Error && e.message === 'Connection is closed.'
          ? { kind: 'connection' as const, code: 'CONNECTION_CLOSED' }
          : memory.classify(e),
    };
    const target = createTarget({ name: 'cache', driver, options: {}, policy, clock });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.probeError = new Error('Connection is closed.');
    control.probe = 'fail';
    await clock.advanceAsync(1000);
    control.probe = 'succeed';
    control.probeError = undefined;
    await clock.advanceAsync(500);
    expect(target.state).toBe('connected');
    await target.stop();
    const spans = exporter.getFinishedSpans();
    expect(spans.find((s) => s.name === SpanNames.RECONNECT)!.attributes['error.type']).toBe(
      'CONNECTION_CLOSED',
    );
    expect(spans.find((s) => s.name === SpanNames.HEALTH_CHECK)!.attributes['error.type']).toBe(
      'CONNECTION_CLOSED',
    );
  });

  it('node dead / resurrected events name the node', async () => {
    exporter.reset();
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({
      name: 'search',
      driver,
      options: { nodes: [9200, 9201] },
      policy: { ...policy, pool: { resurrect: 'optimistic', deadTimeout: 1000 } },
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.downNodes.add('127.0.0.1:9200');
    const run = async () => {
      const op = target.execute((c: MemoryClient) => c.query('q'), { idempotent: true });
      await clock.advanceAsync(20);
      return op;
    };
    await run();
    control.downNodes.delete('127.0.0.1:9200');
    await clock.advanceAsync(1000);
    await run(); // optimistic: 9200 is tried and succeeds
    await target.stop();
    const names = exporter
      .getFinishedSpans()
      .filter((s) => s.name.startsWith('reconnect.node.'))
      .map((s) => [s.name, s.attributes['reconnect.node.id'], s.attributes['server.port']]);
    expect(names).toEqual([
      [EventNames.NODE_DEAD, '127.0.0.1:9200', 9200],
      [EventNames.NODE_RESURRECTED, '127.0.0.1:9200', 9200],
    ]);
  });
});
