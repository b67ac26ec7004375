import { describe, expect, it } from 'vitest';
import { createFakeClock, type NodeAddress, type PolicyInput } from '../../src/index.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
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

/** A fake clock, the memory driver and a target over `options` with `targetPolicy`; not started. */
function nodesTarget(
  options: { nodes?: number[]; replicas?: number[] },
  targetPolicy: PolicyInput,
  driverOptions?: Parameters<typeof createMemoryDriver>[0],
) {
  const clock = createFakeClock(0);
  const { driver, control } = createMemoryDriver(driverOptions);
  const target = createTarget({ name: 't', driver, options, policy: targetPolicy, clock });
  return { clock, control, target };
}

describe('Target with several nodes', () => {
  it('the connected path hands out the same lease object every time (no allocation per attempt)', async () => {
    const clock = createFakeClock(0);
    const { driver } = createMemoryDriver();
    const target = createTarget({ name: 't', driver, options: {}, clock });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    const source = target as unknown as { acquire(r: unknown): unknown };
    const request = { attempt: 1, signal: new AbortController().signal, avoid: undefined, deadlineAt: 1e9 };
    const a = source.acquire(request);
    const b = source.acquire(request);
    expect(a).toBe(b);
    expect(a).not.toBeInstanceOf(Promise);
    await target.stop();
  });

  it("one failing node of several is the pool's business: its failures never count against the target", async () => {
    const { clock, control, target } = nodesTarget(
      { nodes: [9200, 9201] },
      {
        ...policy({ deadTimeout: 60_000, nodeFailureThreshold: 1 }),
        healthCheck: { interval: 100_000, timeout: 200, jitter: 0, failureThreshold: 1 },
      },
    );
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.downNodes.add('127.0.0.1:9200');
    const probesBefore = control.calls.probe;
    const results: Promise<string>[] = [];
    for (let i = 0; i < 6; i++) results.push(target.execute(query, { idempotent: true }));
    await clock.advanceAsync(100);
    // Not a suspicion of the target (that would probe every node at once), nor a failure counted against it.
    expect(control.calls.probe).toBe(probesBefore);
    expect(target.state).toBe('connected');
    expect(await Promise.all(results)).toEqual(Array(6).fill('q@127.0.0.1:9201'));
    expect(target.health().nodes.find((n) => n.id === '127.0.0.1:9200')?.alive).toBe(false);
    await target.stop();
  });

  it('resurrect ping: a dead node is probed once its dead time is over, then used again', async () => {
    const { clock, control, target } = nodesTarget(
      { nodes: [9200, 9201] },
      policy({ resurrect: 'ping', deadTimeout: 1000 }),
    );
    const events: string[] = [];
    target.on('nodeDead', (e) => events.push(`dead:${e.node.port}:${e.deadCount}`));
    target.on('nodeResurrected', (e) => events.push(`back:${e.node.port}`));
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.downNodes.add('127.0.0.1:9200');
    const run = async () => {
      const op = target.execute(query, { idempotent: true });
      await clock.advanceAsync(50);
      return op;
    };
    for (let i = 0; i < 3; i++) expect(await run()).toBe('q@127.0.0.1:9201');
    expect(events).toEqual(['dead:9200:1']);
    await clock.advanceAsync(1000);
    const probes = control.calls.probe;
    expect(await run()).toBe('q@127.0.0.1:9201'); // served by the alive node while 9200 is pinged
    expect(control.calls.probe).toBe(probes + 1);
    expect(events).toEqual(['dead:9200:1', 'dead:9200:2']); // the ping failed: dead for twice as long
    control.downNodes.delete('127.0.0.1:9200');
    await clock.advanceAsync(2000);
    await run(); // triggers the ping, which succeeds
    expect(events.at(-1)).toBe('back:9200');
    const served = new Set([await run(), await run()]);
    expect(served).toEqual(new Set(['q@127.0.0.1:9200', 'q@127.0.0.1:9201']));
    await target.stop();
  });

  it('every node dead: the target offers the one whose dead time ends first and says so once', async () => {
    // No active probes and a high threshold keep the target itself connected: this is about the pool, not the
    // reconnector. (With probes on, the operations' failures would be confirmed by probes at once, and the
    // target, whose every node is down, would rightly go down.)
    const { clock, control, target } = nodesTarget(
      { nodes: [9200, 9201] },
      {
        ...policy({ resurrect: 'none', deadTimeout: 1000 }),
        healthCheck: { enabled: false, interval: 100_000, timeout: 200, jitter: 0, failureThreshold: 100 },
      },
    );
    const said: unknown[] = [];
    target.on('allNodesDead', (e) => said.push(e));
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.downNodes.add('127.0.0.1:9200');
    control.downNodes.add('127.0.0.1:9201');
    for (let i = 0; i < 3; i++) {
      const op = target.execute(query, { idempotent: true }).catch((e: unknown) => e);
      await clock.advanceAsync(50);
      await op;
    }
    expect(said).toEqual([{ offered: node(9200), nodes: 2 }]);
    control.downNodes.clear();
    const op = target.execute(query, { idempotent: true });
    await clock.advanceAsync(50);
    expect(await op).toMatch(/^q@127\.0\.0\.1:920[01]$/); // a dead node is offered rather than failing
    await target.stop();
  });

  it('one hung node does not keep the target from connecting, nor from reconnecting', async () => {
    const { clock, control, target } = nodesTarget(
      { nodes: [9200, 9201] },
      {
        ...policy({ resurrect: 'ping', deadTimeout: 1000 }),
        healthCheck: { interval: 1000, timeout: 200, jitter: 0, failureThreshold: 1 },
        reconnect: {
          backoff: { type: 'fixed', base: 500, max: 500, jitter: 'none' },
          connectTimeout: 300,
          maxRetries: 'unlimited',
        },
      },
    );
    const events: string[] = [];
    target.on('nodeDead', (e) => events.push(`dead:${e.node.port}:${e.deadCount}`));
    target.on('nodeResurrected', (e) => events.push(`back:${e.node.port}`));
    control.hangNodes.add('127.0.0.1:9201'); // blackholed: its connect never completes
    let started = false;
    void target.start().then(() => (started = true));
    await clock.advanceAsync(0);
    expect(started).toBe(true); // connected by 9200 alone, not after 9201's connect timed out
    expect(target.state).toBe('connected');
    expect(events).toEqual([]);
    await clock.advanceAsync(300);
    expect(events).toEqual(['dead:9201:1']); // 9201's own connect timed out and fed the pool
    const op = target.execute(query, { idempotent: true });
    await clock.advanceAsync(0);
    expect(await op).toBe('q@127.0.0.1:9200');
    // Resurrection per pool.resurrect: once 9201 answers, the ping after its dead time connects it.
    control.hangNodes.clear();
    await clock.advanceAsync(1000);
    const next = target.execute(query, { idempotent: true });
    await clock.advanceAsync(0);
    await next;
    expect(events).toEqual(['dead:9201:1', 'back:9201']);

    // Same on reconnect: every probe fails, the target is lost; 9201 hangs again, 9200 alone brings it back.
    control.hangNodes.add('127.0.0.1:9201');
    control.probe = 'fail';
    const states: string[] = [];
    target.on('stateChange', (e) => states.push(e.to));
    await clock.advanceAsync(1000);
    expect(states).toEqual(['reconnecting']);
    control.probe = 'succeed';
    await clock.advanceAsync(500);
    expect(states).toEqual(['reconnecting', 'connected']);
    await target.stop();
    expect(clock.pending()).toBe(0);
  });

  it('one hung node fails its own probes, not the target: no flapping, healthy clients stay open', async () => {
    const { clock, control, target } = nodesTarget(
      { nodes: [9200, 9201] },
      {
        ...policy({ resurrect: 'ping', deadTimeout: 5000 }),
        healthCheck: { interval: 1000, timeout: 200, jitter: 0, failureThreshold: 2 },
      },
    );
    const states: string[] = [];
    target.on('stateChange', (e) => states.push(`${e.from}->${e.to}`));
    const dead: string[] = [];
    target.on('nodeDead', (e) => dead.push(e.node.id));
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.hangNodes.add('127.0.0.1:9201');
    await clock.advanceAsync(20_000);
    expect(states).toEqual(['idle->connecting', 'connecting->connected']);
    expect(control.calls.close).toBe(0);
    expect(dead[0]).toBe('127.0.0.1:9201');
    expect(target.health().nodes).toMatchObject([
      { id: '127.0.0.1:9200', alive: true },
      { id: '127.0.0.1:9201', alive: false },
    ]);
    const op = target.execute(query, { idempotent: true });
    await clock.advanceAsync(0);
    expect(await op).toBe('q@127.0.0.1:9200');
    // When no node answers, the target is down.
    control.hangNodes.add('127.0.0.1:9200');
    await clock.advanceAsync(3000);
    expect(states).toContain('connected->reconnecting');
    await target.stop();
  });

  it('successThreshold 2: a resurrection ping needs two consecutive successful probes', async () => {
    const { clock, control, target } = nodesTarget(
      { nodes: [9200, 9201] },
      {
        ...policy({ resurrect: 'ping', deadTimeout: 1000 }),
        healthCheck: { interval: 100_000, timeout: 200, jitter: 0, successThreshold: 2 },
      },
    );
    const events: string[] = [];
    target.on('nodeDead', (e) => events.push(`dead:${e.node.port}`));
    target.on('nodeResurrected', (e) => events.push(`back:${e.node.port}`));
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    control.downNodes.add('127.0.0.1:9200');
    const run = async () => {
      const op = target.execute(query, { idempotent: true });
      await clock.advanceAsync(50);
      return op;
    };
    await run();
    await run();
    expect(events).toEqual(['dead:9200']);
    control.downNodes.delete('127.0.0.1:9200');
    await clock.advanceAsync(1000);
    control.probeQueue.push('succeed', 'fail');
    await run(); // the ping: one probe passes, the second fails
    expect(events).toEqual(['dead:9200', 'dead:9200']);
    await clock.advanceAsync(2000);
    const probes = control.calls.probe;
    await run();
    expect(control.calls.probe - probes).toBe(2);
    expect(events.at(-1)).toBe('back:9200');
    await target.stop();
  });

  it('a failed resurrection ping of a node without a client is one death, not two', async () => {
    const { clock, control, target } = nodesTarget(
      { nodes: [9200, 9201] },
      {
        ...policy({ resurrect: 'ping', deadTimeout: 1000, deadTimeoutMax: 10_000_000 }),
        healthCheck: { enabled: false },
      },
    );
    const deaths: number[] = [];
    target.on('nodeDead', (e) => {
      if (e.node.port === 9200) deaths.push(e.deadCount);
    });
    control.downNodes.add('127.0.0.1:9200'); // its connects are refused: it never gets a client
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    for (let i = 0; i < 4; i++) {
      await clock.advanceAsync(200_000);
      const op = target.execute(query, { idempotent: true });
      await clock.advanceAsync(0);
      expect(await op).toBe('q@127.0.0.1:9201');
    }
    expect(deaths).toEqual([1, 2, 3, 4, 5]);
    expect(target.health().nodes.find((n) => n.id === '127.0.0.1:9200')?.deadCount).toBe(5);
    await target.stop();
  });

  it('discovery on start, on an interval and after a fault; keeps metadata; drops nodes the selector rejects', async () => {
    const clock = createFakeClock(0);
    let cluster: NodeAddress[] = [
      node(9200, { roles: ['data'], attributes: { zone: 'a' } }),
      node(9201, { roles: ['data'] }),
      node(9300, { id: 'internal-only', host: 'es.internal' }),
    ];
    const { driver, control } = createMemoryDriver({ discover: () => cluster });
    const target = createTarget({
      name: 't',
      driver,
      options: { nodes: [9200] },
      policy: policy({
        selector: (nodes) => nodes.find((n) => !n.host.endsWith('.internal')),
        discovery: { onStart: true, interval: 60_000, onFault: true },
        resurrect: 'none',
      }),
      clock,
    });
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    expect(control.calls.discover).toBe(1);
    expect(target.health().nodes.map((n) => n.id)).toEqual(['127.0.0.1:9200', '127.0.0.1:9201']);

    cluster = [...cluster, node(9202)];
    await clock.advanceAsync(60_000);
    expect(control.calls.discover).toBe(2);
    expect(target.health().nodes.map((n) => n.id)).toEqual([
      '127.0.0.1:9200',
      '127.0.0.1:9201',
      '127.0.0.1:9202',
    ]);

    // The selector picks the first usable node: 9200. Kill it: the retry fails over, and discovery runs again.
    control.downNodes.add('127.0.0.1:9200');
    const op = target.execute(query, { idempotent: true });
    await clock.advanceAsync(50);
    expect(await op).toBe('q@127.0.0.1:9201');
    expect(control.calls.discover).toBe(3);
    await target.stop();
    expect(clock.pending()).toBe(0);
  });
});

describe('Target with a primary and replicas', () => {
  it('readOnly operations go to the replicas; others to the primary; reads survive the primary going down', async () => {
    const { clock, control, target } = nodesTarget(
      { nodes: [3306], replicas: [3307, 3308] },
      policy({ resurrect: 'optimistic', deadTimeout: 10_000 }),
    );
    const p = target.start();
    await clock.advanceAsync(0);
    await p;
    const run = async (readOnly: boolean) => {
      const op = target.execute(query, { idempotent: true, readOnly });
      await clock.advanceAsync(50);
      return op;
    };
    expect(await run(false)).toBe('q@127.0.0.1:3306');
    expect([await run(true), await run(true)]).toEqual(['q@127.0.0.1:3307', 'q@127.0.0.1:3308']);
    control.downNodes.add('127.0.0.1:3306');
    const write = target.execute(query, { idempotent: true });
    const writeResult = write.then(
      () => 'ok',
      (e: unknown) => e,
    );
    await clock.advanceAsync(200);
    expect(await writeResult).toBeInstanceOf(Error); // never served by a replica
    expect(await run(true)).toMatch(/^q@127\.0\.0\.1:330[78]$/);
    expect(target.isConnected()).toBe(true);
    await target.stop();
  });
});
