import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, isConfigError, type Clock } from '../../src/index.js';
import { createManager, Manager } from '../../src/manager/manager.js';
import { createTarget } from '../../src/lifecycle/target/target.js';
import { createMemoryDriver, type MemoryClient } from '../lifecycle/memory-driver.js';

const quickPolicy = {
  retry: { budget: { enabled: false } },
  healthCheck: { interval: 1000, timeout: 200, jitter: 0 },
  reconnect: {
    backoff: { type: 'fixed' as const, base: 500, max: 500, jitter: 'none' as const },
    maxRetries: 1,
    onExhausted: 'stop' as const,
  },
};

function memTarget(name: string, required = true, clock = createFakeClock(0)) {
  const { driver, control } = createMemoryDriver();
  const target = createTarget({ name, driver, options: {}, policy: quickPolicy, required, clock });
  return { target, control, clock };
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const port = (server!.address() as AddressInfo).port;
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.json() };
}

describe('Manager', () => {
  it('startAll / stopAll return each name’s result; one failing target does not stop the others', async () => {
    const manager = new Manager();
    const good = memTarget('good');
    const bad = memTarget('bad');
    bad.control.connect = 'fail';
    manager.register('good', good.target).register('bad', bad.target);
    const starting = manager.startAll();
    await good.clock.advanceAsync(0);
    await bad.clock.advanceAsync(1000);
    const results = await starting;
    expect(results.good).toEqual({ ok: true });
    expect(results.bad?.ok).toBe(false);
    expect(manager.target('good').state).toBe('connected');
    const stopped = await manager.stopAll();
    expect(stopped).toEqual({ good: { ok: true }, bad: { ok: true } });
    expect(good.control.clients.every((c) => c.closed)).toBe(true);
  });

  it('get / target / register', () => {
    const manager = new Manager();
    const { target } = memTarget('a');
    manager.register('a', target);
    expect(manager.get('a')).toBe(target);
    expect(manager.get('nope')).toBeUndefined();
    expect(() => manager.target('nope')).toThrow(/No target named "nope"; registered targets: a/);
    expect(() => manager.register('a', target)).toThrow(/already registered/);
  });

  it('health(): ok, degraded (an optional target down), down (a required target down)', async () => {
    const manager = new Manager();
    const req = memTarget('req', true);
    const opt = memTarget('opt', false);
    manager.register('req', req.target).register('opt', opt.target);
    const s = manager.startAll();
    await req.clock.advanceAsync(0);
    await opt.clock.advanceAsync(0);
    await s;
    expect(manager.health().status).toBe('ok');
    opt.control.probe = 'fail';
    opt.control.connect = 'fail';
    await opt.clock.advanceAsync(1000); // a failed probe at the interval, confirmed at once: down
    const h = manager.health();
    expect(h.status).toBe('degraded');
    expect(h.ready).toBe(true);
    expect(h.targets.opt).toMatchObject({ state: 'reconnecting', connected: false, required: false });
    req.control.probe = 'fail';
    await req.clock.advanceAsync(1000);
    expect(manager.health()).toMatchObject({ status: 'down', ready: false });
    await manager.stopAll();
  });

  it('healthHandler: /healthz 200 always, /readyz 200 only when every required target is connected', async () => {
    const manager = new Manager();
    const req = memTarget('req', true);
    const opt = memTarget('opt', false);
    manager.register('req', req.target).register('opt', opt.target);
    server = createServer(manager.healthHandler());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));

    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'alive' } });
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ ready: false, targets: { req: { state: 'idle' } } });

    opt.control.connect = 'fail';
    const s = manager.startAll();
    await req.clock.advanceAsync(0);
    await opt.clock.advanceAsync(1000);
    await s;
    const ready = await get('/readyz');
    expect(ready.status).toBe(200); // the optional target being down does not matter
    expect(ready.body).toMatchObject({ status: 'degraded', ready: true });
    expect((await get('/nope')).status).toBe(404);
    await manager.stopAll();
  });

  it('createManager({ config, drivers }) builds targets from a config object with injected drivers', async () => {
    const { driver } = createMemoryDriver();
    const manager = await createManager({
      config: {
        version: 1,
        defaults: { healthCheck: { interval: '5s' } },
        targets: {
          cache: { driver: 'memory', options: { label: 'c' }, policy: { retry: { maxRetries: 5 } } },
          side: { driver: 'memory', required: false },
        },
      },
      drivers: { memory: driver },
    });
    expect(manager.names()).toEqual(['cache', 'side']);
    expect(manager.target('cache').policy.retry.maxRetries).toBe(5);
    expect(manager.target('cache').policy.healthCheck.interval).toBe(5000);
    expect(manager.target('side').required).toBe(false);
  });

  it('createManager reports invalid driver options like policy errors (path, expected)', async () => {
    const { driver } = createMemoryDriver();
    const error = await createManager({
      config: {
        version: 1,
        targets: {
          a: { driver: 'memory', options: { label: 7 } },
          b: { driver: 'memory', options: { nope: 1 } },
        },
      },
      drivers: { memory: driver },
    }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    const issues = (error as { issues: { path: unknown[]; expected?: string }[] }).issues;
    expect(issues.map((i) => i.path.join('.'))).toEqual([
      'targets.a.options.label',
      'targets.b.options.nope',
    ]);
    expect(issues.map((i) => i.expected)).toEqual(['a string', 'one of label, nodes, replicas, password']);
  });

  it('stopAll() leaves no timer or socket behind (process.getActiveResourcesInfo)', async () => {
    // A clock with ref'd timers, so a leaked timer shows up in the active resources.
    const live = new Set<NodeJS.Timeout>();
    const refClock: Clock = {
      now: () => performance.now(),
      setTimeout(fn, ms) {
        const t = setTimeout(() => {
          live.delete(t);
          fn();
        }, ms);
        live.add(t);
        return t;
      },
      clearTimeout(h) {
        live.delete(h as NodeJS.Timeout);
        clearTimeout(h as NodeJS.Timeout);
      },
    };
    const count = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = count();
    const manager = new Manager();
    for (const name of ['a', 'b']) {
      const { driver } = createMemoryDriver();
      manager.register(
        name,
        createTarget({
          name,
          driver,
          options: {},
          policy: { healthCheck: { interval: 20, timeout: 10 } },
          clock: refClock,
        }),
      );
    }
    await manager.startAll();
    await manager.target<MemoryClient>('a').execute((c) => c.query('x'), { idempotent: true });
    await new Promise((r) => setTimeout(r, 60)); // a few health checks ran
    expect(count()).toBeGreaterThan(before);
    await manager.stopAll();
    expect(live.size).toBe(0);
    expect(count()).toBeLessThanOrEqual(before);
  });
});
