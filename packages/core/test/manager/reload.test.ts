// Hot reload on the in-memory driver, with real policy files in a temp dir: what a reload changes on a live
// target, and what it leaves alone. (The acceptance runs on real Redis are in reload-redis.test.ts; the save
// patterns and the handles in reload-watch.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createFakeClock,
  createManager,
  isBreakerOpenError,
  isConfigError,
  type Manager,
  type ReloadFailedEvent,
  type ReloadResult,
} from '../../src/index.js';
import { createMemoryDriver, MemoryError, type MemoryClient } from '../lifecycle/memory-driver.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-reload-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const managers: Manager[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stopAll()));
});

// No passive health verdicts in these tests (failing operations must not take the target down).
const quiet = 'healthCheck: { enabled: false, failureThreshold: 100 }';

function configFile(text: string): string {
  const dir = mkdtempSync(path.join(tmp, 'case-'));
  const file = path.join(dir, 'reconnect.config.yaml');
  writeFileSync(file, text);
  return file;
}

function config(policy: string, options = '{ label: one }', more = ''): string {
  return `version: 1\ntargets:\n  a:\n    driver: memory\n    options: ${options}\n    policy: ${policy}\n${more}`;
}

async function manager(file: string, extra: Parameters<typeof createManager>[0] = {}) {
  const mem = createMemoryDriver();
  const m = await createManager({ config: file, drivers: { memory: mem.driver }, env: {}, ...extra });
  managers.push(m);
  const events: (ReloadResult | ReloadFailedEvent)[] = [];
  m.on('reload', (e) => events.push(e));
  m.on('reloadFailed', (e) => events.push(e));
  return { m, ...mem, events };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const failing = (attempts: { n: number }) => (_c: MemoryClient) => {
  attempts.n++;
  return Promise.reject(new MemoryError('connection reset', 'connection', 'ECONNRESET'));
};

describe('manager.reload(): a valid file is diffed and only what changed is applied', () => {
  it('retry: from the next operation on; an operation already running finishes under its own policy', async () => {
    // A fake clock: the first operation waits in its backoff, on this clock, until the test lets it go, so the
    // reload lands while it is still running whatever the machine's speed (on real time its four 40 ms retries
    // could all end before the reload did, and the test would pass without testing anything).
    const clock = createFakeClock(0);
    const backoff = 'backoff: { type: fixed, base: 40ms, jitter: none }';
    // No breaker: the two operations' failures together would open it and cut the first one short.
    const off = 'circuitBreaker: { enabled: false }';
    const file = configFile(
      config(`{ ${quiet}, ${off}, retry: { maxRetries: 4, ${backoff}, budget: { enabled: false } } }`),
    );
    const { m } = await manager(file, { clock });
    const starting = m.startAll();
    await clock.advanceAsync(0);
    await starting;
    const target = m.target<MemoryClient>('a');
    const first = { n: 0 };
    let firstSettled = false;
    const running = target.execute(failing(first), { idempotent: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    void running.finally(() => (firstSettled = true));
    await clock.advanceAsync(0);
    expect(first.n).toBe(1); // its first attempt failed; it now waits 40 ms (fake) for its first retry
    writeFileSync(
      file,
      config(`{ ${quiet}, ${off}, retry: { maxRetries: 0, ${backoff}, budget: { enabled: false } } }`),
    );
    const result = await m.reload();
    expect(result.result).toBe('applied');
    expect(result.summary).toEqual(['a: retry.maxRetries 4 → 0']);
    expect(target.policy.retry.maxRetries).toBe(0);
    // The reload happened while the first operation was running.
    expect(first.n).toBe(1);
    expect(firstSettled).toBe(false);
    const second = { n: 0 };
    await target.execute(failing(second), { idempotent: true }).catch(() => undefined);
    expect(second.n).toBe(1); // the new policy: no retry
    for (let i = 0; i < 4; i++) await clock.advanceAsync(40);
    await running;
    expect(first.n).toBe(5); // the policy it started with: 1 + 4 retries
  });

  it('breaker: its state carries over a reload of another section; a changed breaker section starts a new one', async () => {
    const breaker = (openFor: string) =>
      `circuitBreaker: { enabled: true, mode: consecutive, failureThreshold: 2, openFor: ${openFor} }`;
    const file = configFile(
      config(`{ ${quiet}, retry: { maxRetries: 0, budget: { enabled: false } }, ${breaker('1m')} }`),
    );
    const { m } = await manager(file);
    await m.startAll();
    const target = m.target<MemoryClient>('a');
    for (let i = 0; i < 2; i++)
      await target.execute(failing({ n: 0 }), { idempotent: true }).catch(() => undefined);
    const ok = (c: MemoryClient) => c.query('x');
    expect(isBreakerOpenError(await target.execute(ok).catch((e: unknown) => e))).toBe(true);
    // Another section changes: the open breaker stays open.
    writeFileSync(
      file,
      config(`{ ${quiet}, retry: { maxRetries: 1, budget: { enabled: false } }, ${breaker('1m')} }`),
    );
    expect((await m.reload()).summary).toEqual(['a: retry.maxRetries 0 → 1']);
    expect(isBreakerOpenError(await target.execute(ok).catch((e: unknown) => e))).toBe(true);
    // The breaker's own section changes: a new, closed breaker.
    writeFileSync(
      file,
      config(`{ ${quiet}, retry: { maxRetries: 1, budget: { enabled: false } }, ${breaker('2m')} }`),
    );
    expect((await m.reload()).summary).toEqual(['a: circuitBreaker.openFor 1m → 2m']);
    await expect(target.execute(ok)).resolves.toBe('x@single');
  });

  it('healthCheck: the next probe is rescheduled on the new interval (fake clock)', async () => {
    const clock = createFakeClock(0);
    const hc = (interval: string, timeout: string) =>
      `{ healthCheck: { interval: ${interval}, timeout: ${timeout}, jitter: 0 } }`;
    const file = configFile(config(hc('10s', '1s')));
    const { m, control } = await manager(file, { clock });
    const starting = m.startAll();
    await clock.advanceAsync(0);
    await starting;
    const probes = control.calls.probe;
    await clock.advanceAsync(5000);
    expect(control.calls.probe).toBe(probes); // 10 s interval: nothing yet
    writeFileSync(file, config(hc('200ms', '100ms')));
    expect((await m.reload()).summary).toEqual([
      'a: healthCheck.interval 10s → 200ms',
      'a: healthCheck.timeout 1s → 100ms',
    ]);
    await clock.advanceAsync(200);
    expect(control.calls.probe).toBe(probes + 1);
    await clock.advanceAsync(200);
    expect(control.calls.probe).toBe(probes + 2);
  });

  it('driver options: the target is replaced: new client first, new operations on it, the old closes after its operations', async () => {
    const file = configFile(config(`{ ${quiet} }`, '{ label: one }'));
    const { m, control } = await manager(file);
    await m.startAll();
    const target = m.target<MemoryClient>('a');
    const old = control.clients[0]!;
    let release = () => undefined as void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = target.execute(async (c) => {
      await gate;
      return c.id;
    });
    writeFileSync(file, config(`{ ${quiet} }`, '{ label: two }'));
    const result = await m.reload();
    expect(result.summary).toEqual(['a: options.label "one" → "two"']);
    expect(m.target('a')).toBe(target); // the same object: code holding it follows the reload
    expect(control.clients).toHaveLength(2);
    const fresh = control.clients[1]!;
    await expect(target.execute((c) => Promise.resolve(c.id))).resolves.toBe(fresh.id);
    expect(old.closed).toBe(false); // its operation is still running
    release();
    await expect(slow).resolves.toBe(old.id);
    await until(() => old.closed);
    expect(fresh.closed).toBe(false);
    expect(target.isConnected()).toBe(true);
  });

  it('stopAll() while a replaced target still drains stops it at once (no drain timer left)', async () => {
    const file = configFile(
      config(`{ ${quiet}, retry: { deadline: 1m, attemptTimeout: 1m } }`, '{ label: one }'),
    );
    const { m, control } = await manager(file);
    await m.startAll();
    const target = m.target<MemoryClient>('a');
    const hung = target.execute(() => new Promise<never>(() => undefined)).catch((e: unknown) => e);
    writeFileSync(
      file,
      config(`{ ${quiet}, retry: { deadline: 1m, attemptTimeout: 1m } }`, '{ label: two }'),
    );
    await m.reload();
    expect((target as unknown as { draining: number }).draining).toBe(1);
    const started = Date.now();
    await m.stopAll();
    expect(Date.now() - started).toBeLessThan(2000); // not the drain bound (the 1 min deadline)
    expect((target as unknown as { draining: number }).draining).toBe(0);
    expect(control.clients.every((c) => c.closed)).toBe(true);
    void hung;
  });

  it('stopAll() during a reload whose new client is still connecting leaves nothing running', async () => {
    const policy = `{ ${quiet}, reconnect: { startTimeout: 2s, connectTimeout: 1s } }`;
    const file = configFile(config(policy, '{ label: one }'));
    const { m, control } = await manager(file);
    await m.startAll();
    const target = m.target<MemoryClient>('a');
    control.connect = 'hang';
    writeFileSync(file, config(policy, '{ label: two }'));
    const reloading = m.reload();
    await until(() => control.calls.connect === 2);
    const stopping = Date.now();
    await m.stopAll();
    expect(Date.now() - stopping).toBeLessThan(1500); // not the replacement's startTimeout
    const result = await reloading;
    expect(result.notApplied.map((n) => n.target)).toEqual(['a']); // the new client never connected
    expect(target.state).toBe('stopped');
    expect(control.clients.every((c) => c.closed)).toBe(true);
  });

  it('targets added are started, targets removed are stopped once their operations ended', async () => {
    const file = configFile(config(`{ ${quiet} }`));
    const { m, control } = await manager(file);
    await m.startAll();
    const a = m.target<MemoryClient>('a');
    let release = () => undefined as void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = a.execute(async (c) => {
      await gate;
      return c.query('last');
    });
    writeFileSync(
      file,
      `version: 1\ntargets:\n  b:\n    driver: memory\n    options: { label: b }\n    policy: { ${quiet} }\n`,
    );
    const result = await m.reload();
    expect(result.summary).toEqual([
      'b: added (started)',
      'a: removed (stopped after its in-flight operations)',
    ]);
    expect(m.names()).toEqual(['b']);
    expect(m.target('b').state).toBe('connected');
    expect(a.state).toBe('connected'); // still finishing its operation
    release();
    await expect(slow).resolves.toBe('last@single');
    await until(() => a.state === 'stopped');
    expect(control.clients[0]!.closed).toBe(true);
  });

  it('an unchanged file is a reload that changes nothing (and says so)', async () => {
    const file = configFile(config(`{ ${quiet} }`));
    const { m, events } = await manager(file);
    const before = m.target('a').policy;
    const result = await m.reload();
    expect(result).toMatchObject({ result: 'unchanged', changes: [], file });
    expect(m.target('a').policy).toBe(before);
    expect(events).toHaveLength(1);
  });
});

describe('manager.reload(): a broken file changes nothing', () => {
  it.each([
    ['a YAML error', 'version: 1\ntargets:\n  a: { driver: memory\n', 'parse_error', []],
    [
      'a typo in a key',
      config('{ healthCheck: { intervall: 1s } }'),
      'unrecognized_keys',
      ['targets', 'a', 'policy', 'healthCheck', 'intervall'],
    ],
    [
      'a missing env var',
      config('{ retry: { maxRetries: "${RETRIES}" } }'),
      'missing_env',
      ['targets', 'a', 'policy', 'retry', 'maxRetries'],
    ],
    [
      'bad driver options',
      config('{}', '{ lable: two }'),
      'unrecognized_keys',
      ['targets', 'a', 'options', 'lable'],
    ],
  ])(
    '%s: the old policy stays, reloadFailed carries the located ConfigError, the next valid save applies',
    async (_what, broken, kind, at) => {
      const file = configFile(config(`{ ${quiet}, retry: { maxRetries: 2 } }`));
      const { m, events } = await manager(file);
      await m.startAll();
      const target = m.target('a');
      const before = target.policy;
      writeFileSync(file, broken);
      const failed = await m.reload();
      expect(failed.result).toBe('failed');
      expect(target.policy).toBe(before);
      expect(events).toHaveLength(1);
      const event = events[0] as ReloadFailedEvent;
      expect(event.file).toBe(file);
      expect(isConfigError(event.error)).toBe(true);
      const issue = isConfigError(event.error) ? event.error.issues[0] : undefined;
      expect(issue).toMatchObject({ kind, file, path: at });
      expect(issue?.expected).toBeTruthy();
      expect(target.isConnected()).toBe(true);
      writeFileSync(file, config(`{ ${quiet}, retry: { maxRetries: 5 } }`));
      const applied = await m.reload();
      expect(applied.summary).toEqual(['a: retry.maxRetries 2 → 5']);
      expect(target.policy.retry.maxRetries).toBe(5);
    },
  );
});

describe('manager.reload(): the reconnect schedule, the node pool and the log', () => {
  it('reconnect backoff: from the next attempt on (fake clock)', async () => {
    const clock = createFakeClock(0);
    const policy = (base: string) =>
      `{ healthCheck: { interval: 1s, timeout: 100ms, jitter: 0, failureThreshold: 1 }, reconnect: { backoff: { type: fixed, base: ${base}, max: 1m, jitter: none } } }`;
    const file = configFile(config(policy('10s')));
    const { m, control } = await manager(file, { clock });
    const starting = m.startAll();
    await clock.advanceAsync(0);
    await starting;
    const target = m.target('a');
    const waits: (number | undefined)[] = [];
    target.on('reconnectFailed', (e) => waits.push(e.nextDelayMs));
    control.probe = 'fail';
    control.connect = 'fail';
    await clock.advanceAsync(1000); // the probe fails: lost, the first attempt is 10 s away
    expect(target.state).toBe('reconnecting');
    writeFileSync(file, config(policy('1s')));
    expect((await m.reload()).summary).toEqual(['a: reconnect.backoff.base 10s → 1s']);
    await clock.advanceAsync(10_000); // the attempt already scheduled keeps its time
    expect(waits).toEqual([1000]); // the wait after it follows the new backoff
    await clock.advanceAsync(1000);
    expect(waits).toEqual([1000, 1000]);
  });

  it('pool settings: applied to the live node pool (a threshold counts the failures already seen)', async () => {
    const pool = (threshold: number) =>
      `{ ${quiet}, circuitBreaker: { enabled: false }, retry: { maxRetries: 0 }, pool: { nodeFailureThreshold: ${threshold} } }`;
    const file = configFile(config(pool(5), '{ nodes: [7001, 7002] }'));
    const { m, control } = await manager(file);
    await m.startAll();
    const target = m.target<MemoryClient>('a');
    const dead: string[] = [];
    target.on('nodeDead', (e) => dead.push(e.node.id));
    control.downNodes.add('127.0.0.1:7001');
    control.downNodes.add('127.0.0.1:7002');
    const op = () => target.execute((c) => c.query('x')).catch(() => undefined);
    for (let i = 0; i < 4; i++) await op(); // two failures per node: below 5
    expect(dead).toEqual([]);
    writeFileSync(file, config(pool(2), '{ nodes: [7001, 7002] }'));
    expect((await m.reload()).summary).toEqual(['a: pool.nodeFailureThreshold 5 → 2']);
    await op();
    await op();
    expect(dead.sort()).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
    expect(target.health().nodes.every((n) => !n.alive)).toBe(true);
  });

  it('the logger hears every reload: the changes at info, a refused file at error', async () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const at =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void =>
        void lines.push({ level, message, fields });
    const logger = { info: at('info'), warn: at('warn'), error: at('error') };
    const file = configFile(config(`{ ${quiet}, retry: { maxRetries: 2 } }`, '{ password: hunter2 }'));
    const { m } = await manager(file, { logger });
    writeFileSync(file, config(`{ ${quiet}, retry: { maxRetries: 5 } }`, '{ password: s3cret }'));
    await m.reload();
    writeFileSync(file, config('{ retry: { maxRetriez: 5 } }'));
    await m.reload();
    const reloads = lines.filter((l) => l.message.startsWith('policy'));
    expect(reloads.map((l) => [l.level, l.message])).toEqual([
      ['info', 'policy reloaded: a: options.password *** → ***; a: retry.maxRetries 2 → 5'],
      [
        'error',
        expect.stringMatching(/^policy reload refused, the policy in force stays: .*retry\.maxRetriez/s),
      ],
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/hunter2|s3cret/);
  });
});

describe('a manager not built from a file has nothing to reload', () => {
  it('reload() and watch() throw a TypeError; createManager({ watch }) with a config object too', async () => {
    const { driver } = createMemoryDriver();
    const config = { version: 1 as const, targets: { a: { driver: 'memory' } } };
    const m = await createManager({ config, drivers: { memory: driver } });
    managers.push(m);
    expect(() => m.reload()).toThrow(TypeError);
    expect(() => m.watch()).toThrow(TypeError);
    expect(m.watching).toBe(false);
    await expect(createManager({ config, drivers: { memory: driver }, watch: true })).rejects.toThrow(
      /needs a policy file/,
    );
  });
});
