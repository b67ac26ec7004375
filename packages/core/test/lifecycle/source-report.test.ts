// What each attempt's outcome teaches a target (TargetSource.report): passive health and the node pool learn from
// real operations, but only from what says something about the server.
import { describe, expect, it } from 'vitest';
import type { AttemptReport, Lease } from '../../src/engine/types.js';
import type { Classification, ErrorKind } from '../../src/error-kinds.js';
import { nodeA, nodeB, policyWith, setup, type FakeClient } from './source-parts.js';

const ok: AttemptReport = { ok: true, durationMs: 1 };
const failed = (kind: ErrorKind, error: unknown = new Error(kind), extra: Partial<Classification> = {}) =>
  ({ ok: false, durationMs: 1, error, classification: { kind, ...extra } }) satisfies AttemptReport;
const single: Lease<FakeClient> = { client: { node: '' } };
const on = (node: typeof nodeA): Lease<FakeClient> => ({ client: { node: node.id }, node });

describe('TargetSource.report: passive health of a single server', () => {
  it('a server that answers with an error (auth, fatal, transient, throttled) is alive: its failures streak ends', () => {
    for (const kind of ['auth', 'fatal', 'transient', 'throttled'] as const) {
      const { source, health } = setup();
      const downs: unknown[] = [];
      health.on('down', (e) => downs.push(e.error));
      // Three failures in a row take the target down; answers in between mean they are not in a row.
      source.report(single, failed('connection'));
      source.report(single, failed('timeout'));
      source.report(single, failed(kind));
      expect(health.counters, kind).toEqual({ healthy: true, failures: 0, successes: 1 });
      source.report(single, failed('connection'));
      source.report(single, failed('connection'));
      source.report(single, failed(kind));
      source.report(single, failed('connection'));
      expect(downs, kind).toEqual([]);
      expect(health.healthy, kind).toBe(true);
    }
  });

  it('connection and timeout failures count, and the last one is the target’s last failure', () => {
    const { source, health } = setup();
    const downs: unknown[] = [];
    health.on('down', (e) => downs.push(e.error));
    const last = new Error('ECONNRESET');
    source.report(single, failed('connection'));
    source.report(single, failed('timeout'));
    expect(health.counters).toEqual({ healthy: true, failures: 2, successes: 0 });
    source.report(single, failed('connection', last));
    expect(downs).toEqual([last]);
    expect(source.lastFailure).toBe(last);
  });

  it('an error of unknown kind says nothing: it neither counts as a failure nor ends a streak', () => {
    const { source, health } = setup();
    source.report(single, failed('connection'));
    source.report(single, failed('unknown'));
    expect(health.counters).toEqual({ healthy: true, failures: 1, successes: 0 });
    expect(source.lastFailure).toBeInstanceOf(Error);
    expect((source.lastFailure as Error).message).toBe('connection');
  });

  it('a success ends a failure streak', () => {
    const { source, health } = setup();
    source.report(single, failed('connection'));
    source.report(single, failed('connection'));
    source.report(single, ok);
    expect(health.counters).toEqual({ healthy: true, failures: 0, successes: 1 });
  });

  it('the caller’s deadline, or a failure local to the client, says nothing about the server', () => {
    const { source, health } = setup();
    source.report(single, { ...failed('timeout'), interrupt: 'deadline' });
    source.report(single, failed('connection', new Error('pool closing'), { sent: false, local: true }));
    expect(health.counters).toEqual({ healthy: true, failures: 0, successes: 0 });
    expect(source.lastFailure).toBeUndefined();
    // An attempt timeout of the policy's own is a health failure.
    source.report(single, { ...failed('timeout'), interrupt: 'timeout' });
    expect(health.counters.failures).toBe(1);
  });

  it('while the target reconnects, failures are the reconnector’s business: health does not count them', () => {
    const { source, health, reconnector } = setup();
    reconnector.status = 'reconnecting';
    const error = new Error('ECONNREFUSED');
    source.report(single, failed('connection', error));
    expect(health.counters.failures).toBe(0);
    expect(source.lastFailure).toBe(error);
  });

  it('a lease that names a node on a target without a pool counts for health only', () => {
    const { source, health } = setup();
    source.report(single, failed('connection'));
    expect(() => source.report(on(nodeA), ok)).not.toThrow();
    expect(health.counters.failures).toBe(0);
    expect(() => source.report(on(nodeA), failed('connection'))).not.toThrow();
    expect(health.counters.failures).toBe(1);
  });
});

describe('TargetSource.report: a pool of nodes', () => {
  it('a failing node of several dies in the pool; the target stays healthy', () => {
    const { source, health, pool } = setup({ nodes: [nodeA, nodeB] });
    source.report(on(nodeA), failed('connection'));
    expect(pool!.status(nodeA.id)).toMatchObject({ alive: false, deadCount: 1 });
    expect(health.counters.failures).toBe(0);
    expect((source.lastFailure as Error).message).toBe('connection');
  });

  it('the last alive node failing is a failure of the target', () => {
    const { source, health, pool } = setup({ nodes: [nodeA] });
    source.report(on(nodeA), failed('timeout'));
    expect(pool!.alive).toEqual([]);
    expect(health.counters.failures).toBe(1);
  });

  it('a success on a node resets its failures and brings a dead node back', () => {
    const { source, pool, health } = setup({ nodes: [nodeA, nodeB] });
    source.report(on(nodeA), failed('connection'));
    source.report(on(nodeA), ok);
    expect(pool!.status(nodeA.id)).toMatchObject({ alive: true, deadCount: 0, failures: 0 });
    expect(health.counters.failures).toBe(0);
  });

  it('the loser of a hedged read is no failure: its node stays alive, health counts nothing', () => {
    const { source, pool, health } = setup({ nodes: [nodeA, nodeB] });
    source.report(on(nodeA), { ...failed('unknown'), interrupt: 'hedged', durationMs: 500 });
    source.report(on(nodeA), { ...failed('unknown'), interrupt: 'hedged', durationMs: 500 });
    expect(pool!.status(nodeA.id)).toMatchObject({ alive: true, failures: 0 });
    expect(health.counters).toEqual({ healthy: true, failures: 0, successes: 0 });
    expect(source.lastFailure).toBeUndefined();
  });

  it('the pool learns each node’s latency from successes, hedged losers and attempt timeouts (least-latency)', () => {
    const base = policyWith();
    const policy = {
      ...base,
      pool: { ...base.pool, selector: 'least-latency' as const, nodeFailureThreshold: 5 },
    };
    const { source, pool } = setup({ nodes: [nodeA, nodeB], policy });
    source.report(on(nodeB), { ok: true, durationMs: 3 });
    source.report(on(nodeA), { ...failed('unknown'), interrupt: 'hedged', durationMs: 400 });
    // Two nodes: every pick compares both, so the slower one is never chosen while its average stands.
    expect(new Set(Array.from({ length: 10 }, () => pool!.select().id))).toEqual(new Set([nodeB.id]));
    // An attempt cut at its timeout took at least that long: B (0.7 · 3 + 0.3 · 2000 ≈ 602 ms) is now the slower.
    source.report(on(nodeB), { ...failed('timeout'), interrupt: 'timeout', durationMs: 2000 });
    expect(pool!.status(nodeB.id)?.alive).toBe(true);
    expect(new Set(Array.from({ length: 10 }, () => pool!.select().id))).toEqual(new Set([nodeA.id]));
  });

  it('an outcome whose lease names no node (the target’s own) touches no node', () => {
    const { source, pool, health } = setup({ nodes: [nodeA] });
    expect(() => source.report(single, ok)).not.toThrow();
    expect(() => source.report(single, failed('connection'))).not.toThrow();
    expect(pool!.status(nodeA.id)).toMatchObject({ alive: true, failures: 0 });
    expect(health.counters.failures).toBe(1);
  });
});
