import { context, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, type NodeAddress, type PolicyInput } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createSelector, preferSelector } from '../../src/lifecycle/nodes/selectors.js';
import { resolvePolicy } from '../../src/policy/resolve.js';
import { createMemoryDriver, type MemoryClient } from './memory-driver.js';

const node = (port: number, extra: Partial<NodeAddress> = {}): NodeAddress => ({
  id: `127.0.0.1:${port}`,
  host: '127.0.0.1',
  port,
  ...extra,
});

const policy = (pool: PolicyInput['pool']): PolicyInput => ({
  retry: {
    maxRetries: 2,
    backoff: { type: 'fixed', base: 10, max: 10, jitter: 'none' },
    budget: { enabled: false },
  },
  healthCheck: { interval: 100_000, timeout: 200, jitter: 0 },
  reconnect: { backoff: { type: 'fixed', base: 500, max: 500, jitter: 'none' }, connectTimeout: 300 },
  circuitBreaker: { enabled: false },
  pool,
});
const query = (c: MemoryClient) => c.query('q');

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  context.disable();
});

describe('discovery probes every discovered node before it joins the pool', () => {
  it('an unreachable discovered node is kept out, reported in health() and as a span event; no call ever reaches it', async () => {
    const clock = createFakeClock(0);
    const cluster = [node(9200), node(9201), node(9999)];
    const { driver, control } = createMemoryDriver({ discover: () => cluster });
    control.downNodes.add('127.0.0.1:9999');
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200] },
      policy: policy({ discovery: { onStart: true, interval: false, onFault: false }, resurrect: 'none' }),
      clock,
    });
    exporter.reset();
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    await clock.advanceAsync(10);
    expect(control.calls.discover).toBe(1);
    expect(target.health().nodes.map((n) => n.id)).toEqual(['127.0.0.1:9200', '127.0.0.1:9201']);
    expect(target.health().unreachable).toEqual([
      {
        id: '127.0.0.1:9999',
        error: expect.objectContaining({ message: 'node down' }),
        at: expect.any(Number),
      },
    ]);
    const events = exporter
      .getFinishedSpans()
      .flatMap((s) => [
        ...(s.name === 'reconnect.node.unreachable' ? [s.attributes] : []),
        ...s.events.filter((e) => e.name === 'reconnect.node.unreachable').map((e) => e.attributes),
      ]);
    expect(events).toEqual([
      expect.objectContaining({ 'reconnect.node.id': '127.0.0.1:9999', 'server.port': 9999 }),
    ]);
    const served = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const op = target.execute(query, { idempotent: true });
      await clock.advanceAsync(1);
      served.add(await op);
    }
    expect([...served].sort()).toEqual(['q@127.0.0.1:9200', 'q@127.0.0.1:9201']);
    // The unreachable node's client (made for the probe) was closed; none is open to it.
    expect(control.clients.filter((c) => c.node?.id === '127.0.0.1:9999' && !c.closed)).toEqual([]);
    await target.stop();
    expect(clock.pending()).toBe(0);
  });

  it('a later discovery admits the node once it answers, and forgets it in health()', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver({ discover: () => [node(9200), node(9201)] });
    control.downNodes.add('127.0.0.1:9201');
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200] },
      policy: policy({ discovery: { onStart: true, interval: 1000, onFault: false } }),
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    await clock.advanceAsync(10);
    expect(target.health().nodes.map((n) => n.id)).toEqual(['127.0.0.1:9200']);
    expect(target.health().unreachable?.map((u) => u.id)).toEqual(['127.0.0.1:9201']);
    control.downNodes.delete('127.0.0.1:9201');
    await clock.advanceAsync(1000);
    await clock.advanceAsync(10);
    expect(target.health().nodes.map((n) => n.id)).toEqual(['127.0.0.1:9200', '127.0.0.1:9201']);
    expect(target.health().unreachable).toEqual([]);
    await target.stop();
  });

  it('when no discovered node is reachable, the seed list stays', async () => {
    const clock = createFakeClock(0);
    // Sniffing answers with internal addresses only (the Docker / private-IP case): none of them answers.
    const { driver, control } = createMemoryDriver({ discover: () => [node(9301), node(9302)] });
    control.downNodes.add('127.0.0.1:9301');
    control.downNodes.add('127.0.0.1:9302');
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200, 9201] },
      policy: policy({ discovery: { onStart: true, interval: false, onFault: false } }),
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    await clock.advanceAsync(10);
    expect(target.health().nodes.map((n) => n.id)).toEqual(['127.0.0.1:9200', '127.0.0.1:9201']);
    expect(
      target
        .health()
        .unreachable?.map((u) => u.id)
        .sort(),
    ).toEqual(['127.0.0.1:9301', '127.0.0.1:9302']);
    const op = target.execute(query, { idempotent: true });
    await clock.advanceAsync(1);
    expect(await op).toMatch(/^q@127\.0\.0\.1:920[01]$/);
    await target.stop();
  });

  it('a node that left the cluster leaves the pool at once, and its client is closed only after its in-flight call ended', async () => {
    const clock = createFakeClock(0);
    let cluster = [node(9200), node(9201)];
    const { driver, control } = createMemoryDriver({ discover: () => cluster });
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200, 9201] },
      policy: policy({ discovery: { onStart: false, interval: 1000, onFault: false } }),
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    // A call in flight on 9201 (it resolves when we say so).
    let release: (() => void) | undefined;
    const slow = target.execute(
      async (c: MemoryClient) => {
        if (c.node?.id !== '127.0.0.1:9201') return 'other';
        await new Promise<void>((r) => (release = r));
        if (c.closed) throw new Error('closed under the call');
        return 'done on 9201';
      },
      { idempotent: true },
    );
    // Round-robin: the first call went to 9200; make sure one is on 9201.
    const second = target.execute(
      async (c: MemoryClient) => {
        if (c.node?.id !== '127.0.0.1:9201') return 'other';
        await new Promise<void>((r) => (release = r));
        return c.closed ? 'closed under the call' : 'done on 9201';
      },
      { idempotent: true },
    );
    await clock.advanceAsync(1);
    expect(release).toBeDefined();
    cluster = [node(9200)];
    await clock.advanceAsync(1000);
    await clock.advanceAsync(10);
    expect(target.health().nodes.map((n) => n.id)).toEqual(['127.0.0.1:9200']);
    const leaving = control.clients.find((c) => c.node?.id === '127.0.0.1:9201')!;
    expect(leaving.closed).toBe(false);
    release!();
    const results = await Promise.all([slow, second]);
    expect(results).toContain('done on 9201');
    expect(results).not.toContain('closed under the call');
    // Closed once no attempt can still be running on it (attemptTimeout, here the default 2 s).
    await clock.advanceAsync(2000);
    expect(leaving.closed).toBe(true);
    await target.stop();
    expect(clock.pending()).toBe(0);
  });
});

describe("a node that left, with a call whose own attemptTimeout is longer than the policy's", () => {
  it("its client is kept until that attempt can no longer be running, not closed at the policy's attemptTimeout", async () => {
    const clock = createFakeClock(0);
    let cluster = [node(9200), node(9201)];
    const { driver, control } = createMemoryDriver({ discover: () => cluster });
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200, 9201] },
      policy: policy({ discovery: { onStart: false, interval: 1000, onFault: false } }),
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    // Two calls, one per node (round-robin), each allowed 10 s; the one on 9201 runs until released.
    let release: (() => void) | undefined;
    const call = () =>
      target.execute(
        async (c: MemoryClient) => {
          if (c.node?.id !== '127.0.0.1:9201') return 'other';
          await new Promise<void>((r) => (release = r));
          return c.closed ? 'closed under the call' : 'done on 9201';
        },
        { idempotent: true, attemptTimeout: '10s', deadline: '20s' },
      );
    const calls = [call(), call()];
    await clock.advanceAsync(1);
    expect(release).toBeDefined();
    cluster = [node(9200)];
    await clock.advanceAsync(1010);
    const leaving = control.clients.find((c) => c.node?.id === '127.0.0.1:9201')!;
    expect(target.health().nodes.map((n) => n.id)).toEqual(['127.0.0.1:9200']);
    // Past the policy's attemptTimeout (2 s), well within the call's own 10 s: still open.
    await clock.advanceAsync(5000);
    expect(leaving.closed).toBe(false);
    release!();
    expect(await Promise.all(calls)).toContain('done on 9201');
    // Closed once no attempt can still be running on it (the call's own 10 s from when it was handed the client).
    await clock.advanceAsync(5000);
    expect(leaving.closed).toBe(true);
    await target.stop();
    expect(clock.pending()).toBe(0);
  });
});

describe('a node that left, on stop()', () => {
  it('stop() closes the clients of nodes that left at once, leaving no timer behind', async () => {
    const clock = createFakeClock(0);
    let cluster = [node(9200), node(9201)];
    const { driver, control } = createMemoryDriver({ discover: () => cluster });
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200, 9201] },
      policy: policy({ discovery: { onStart: false, interval: 1000, onFault: false } }),
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    cluster = [node(9200)];
    await clock.advanceAsync(1000);
    await clock.advanceAsync(10);
    const leaving = control.clients.find((c) => c.node?.id === '127.0.0.1:9201')!;
    expect(leaving.closed).toBe(false); // waiting for calls that may still run on it
    expect(clock.pending()).toBeGreaterThan(0);
    await target.stop();
    expect(leaving.closed).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});

describe('selector { prefer } (the hostname selector)', () => {
  const nodes = [
    node(1, { url: 'http://es1.local:1' }),
    node(2, { url: 'http://es2.local:2' }),
    node(3, { url: 'http://es1-b.local:3' }),
  ];

  it('round-robins over the nodes whose URL contains the text', () => {
    const pick = preferSelector('es1');
    expect([pick(nodes), pick(nodes), pick(nodes)].map((n) => n?.port)).toEqual([1, 3, 1]);
  });

  it('falls back to the others when none of the offered nodes matches (a preference never becomes an outage)', () => {
    const pick = preferSelector('es1');
    expect(pick([nodes[1]!])?.port).toBe(2);
  });

  it('is expressible in a policy file, and createSelector builds it', () => {
    const resolved = resolvePolicy({ pool: { selector: { prefer: 'es2' } } });
    expect(resolved.pool.selector).toEqual({ prefer: 'es2' });
    const pick = createSelector(resolved.pool.selector, Math.random);
    expect(pick(nodes)?.port).toBe(2);
    expect(() => resolvePolicy({ pool: { selector: { prefer: '' } } })).toThrow();
  });

  it('drives a target: calls go to the preferred node while it is alive, to the others when it is dead', async () => {
    const clock = createFakeClock(0);
    const { driver, control } = createMemoryDriver();
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200, 9201, 9202] },
      policy: policy({ selector: { prefer: ':9201' }, resurrect: 'none' }),
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    const run = async () => {
      const op = target.execute(query, { idempotent: true });
      await clock.advanceAsync(20);
      return op;
    };
    expect([await run(), await run(), await run()]).toEqual([
      'q@127.0.0.1:9201',
      'q@127.0.0.1:9201',
      'q@127.0.0.1:9201',
    ]);
    control.downNodes.add('127.0.0.1:9201');
    expect(await run()).toMatch(/^q@127\.0\.0\.1:920[02]$/);
    expect(await run()).toMatch(/^q@127\.0\.0\.1:920[02]$/);
    await target.stop();
  });
});
