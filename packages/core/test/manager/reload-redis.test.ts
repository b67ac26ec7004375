// Issue #14's acceptance on real Redis, with real edits of a real policy file: a throwaway testkit server for each
// part (the plain load, the SIGSTOP, the broken saves; two for a URL change), never the shared 127.0.0.1:6379.
// Connections are counted server-side (CLIENT LIST, by the connection name the target sets).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redisDriver, type RedisClient } from '@reconnect/driver-redis';
import { startRedis, useServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createManager,
  isConfigError,
  worstCaseDetectionMs,
  type Manager,
  type ReloadFailedEvent,
  type ReloadResult,
} from '../../src/index.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-reload-redis-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const managers: Manager[] = [];
const raws: Redis[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stopAll()));
  await Promise.allSettled(raws.splice(0).map((r) => r.quit()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean | Promise<boolean>, ms: number, every = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(every);
  }
}

function raw(port: number): Redis {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  raws.push(r);
  return r;
}

/** The server's connections that carry `name` (CLIENT LIST), by id. */
async function connectionsNamed(r: Redis, name: string): Promise<string[]> {
  const list = (await r.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .filter((l) => l.includes(` name=${name} `))
    .map((l) => /\bid=(\d+)/.exec(l)![1]!);
}

function writeConfig(file: string, port: number, name: string, policy: string): void {
  writeFileSync(
    file,
    [
      'version: 1',
      'targets:',
      '  cache:',
      '    driver: redis',
      `    options: { host: 127.0.0.1, port: ${port}, connectionName: ${name} }`,
      `    policy: ${policy}`,
      '',
    ].join('\n'),
  );
}

async function managerFor(file: string, watch = false) {
  const m = await createManager({
    config: file,
    drivers: { redis: redisDriver },
    env: {},
    ...(watch ? { watch: { debounceMs: 100 } } : {}),
  });
  managers.push(m);
  const events: (ReloadResult | ReloadFailedEvent)[] = [];
  m.on('reload', (e) => events.push(e));
  m.on('reloadFailed', (e) => events.push(e));
  const started = await m.startAll();
  expect(started['cache']).toEqual({ ok: true });
  return { m, events, target: m.target<RedisClient>('cache') };
}

/** Issues `perSecond` operations a second (paced by the wall clock, so a slow tick catches up) until stopped. */
function load(perSecond: number, op: (i: number) => Promise<unknown>) {
  const results: { i: number; startedAt: number; ok: boolean; error?: unknown }[] = [];
  const pending = new Set<Promise<void>>();
  const start = Date.now();
  let issued = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - start) * perSecond) / 1000);
    for (; issued < due; issued++) {
      const i = issued;
      const startedAt = Date.now();
      const p = op(i).then(
        () => void results.push({ i, startedAt, ok: true }),
        (error: unknown) => void results.push({ i, startedAt, ok: false, error }),
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
  }, 5);
  return {
    results,
    issued: () => issued,
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
      return Date.now() - start;
    },
  };
}

describe('reload under load (throwaway Redis)', () => {
  const server = useServer(() => startRedis());

  it('500 ops/s and 50 reloads alternating two valid policies: no operation lost, no connection closed', async () => {
    const name = `reload-load-${process.pid}-${Date.now()}`;
    const key = `reconnect:test:${name}`;
    const file = path.join(mkdtempSync(path.join(tmp, 'load-')), 'reconnect.config.yaml');
    const policies = [
      '{ extends: preset:redis, retry: { maxRetries: 2, attemptTimeout: 2s }, healthCheck: { interval: 1s, timeout: 500ms }, circuitBreaker: { openFor: 5s } }',
      '{ extends: preset:redis, retry: { maxRetries: 3, attemptTimeout: 3s }, healthCheck: { interval: 2s, timeout: 400ms }, circuitBreaker: { openFor: 6s } }',
    ];
    writeConfig(file, server().port, name, policies[0]!);
    const { m, target } = await managerFor(file);
    const admin = raw(server().port);
    await admin.del(key);
    const before = await connectionsNamed(admin, name);
    expect(before.length).toBeGreaterThan(0);

    // INCR is not idempotent: it is never repeated, so the counter says exactly how many operations ran.
    const ops = load(500, () => target.execute((r) => r.incr(key)));
    const reloads: ReloadResult[] = [];
    await sleep(300);
    for (let i = 1; i <= 50; i++) {
      writeConfig(file, server().port, name, policies[i % 2]!);
      reloads.push(await m.reload());
      await sleep(30);
    }
    await sleep(300);
    const elapsed = await ops.stop();
    const failed = ops.results.filter((r) => !r.ok);
    const counter = Number(await admin.get(key));
    const after = await connectionsNamed(admin, name);
    await admin.del(key);
    console.log(
      `reload under load: ${ops.results.length} operations in ${elapsed} ms (${Math.round((ops.results.length * 1000) / elapsed)}/s), ` +
        `${reloads.length} reloads, ${failed.length} failed, counter ${counter}, connections ${before.join(',')} → ${after.join(',')}`,
    );
    expect(reloads.map((r) => r.result)).toEqual(Array(50).fill('applied'));
    expect(reloads[0]!.summary).toContain('cache: retry.maxRetries 2 → 3');
    expect(target.policy.retry.maxRetries).toBe(2); // the 50th reload put policies[0] back
    expect(failed).toEqual([]);
    expect(ops.results.length).toBe(ops.issued());
    expect(counter).toBe(ops.results.length); // every operation ran once: none lost, none repeated
    expect(ops.results.length).toBeGreaterThan(0.8 * 0.5 * elapsed); // the load was 500/s (± a loaded machine)
    expect(after).toEqual(before); // the same connections (same ids): none closed, none opened
  });
});

describe('health check interval lowered by a reload (throwaway Redis, SIGSTOP)', () => {
  const server = useServer(() => startRedis());

  it('10 s → 200 ms: a hung server is detected within the new worstCaseDetectionMs, without a restart', async () => {
    const name = `reload-hc-${process.pid}`;
    const file = path.join(mkdtempSync(path.join(tmp, 'hc-')), 'reconnect.config.yaml');
    const hc = (interval: string) =>
      `{ healthCheck: { interval: ${interval}, timeout: 100ms, jitter: 10%, failureThreshold: 2 } }`;
    writeConfig(file, server().port, name, hc('10s'));
    const { m, target } = await managerFor(file);
    const client = target.client;
    const result = await m.reload(); // unchanged: the same file
    expect(result.result).toBe('unchanged');
    writeConfig(file, server().port, name, hc('200ms'));
    expect((await m.reload()).summary).toEqual(['cache: healthCheck.interval 10s → 200ms']);
    const bound = worstCaseDetectionMs(target.policy.healthCheck);
    expect(bound).toBe(420);
    let downAt: number | undefined;
    target.on('stateChange', (e) => {
      if (e.from === 'connected' && downAt === undefined) downAt = Date.now();
    });
    await server().hang();
    const hungAt = Date.now();
    try {
      await until(() => downAt !== undefined, 5000);
    } finally {
      await server().resume();
    }
    const detected = downAt! - hungAt;
    console.log(`reload 10s → 200ms: SIGSTOP detected in ${detected} ms (worstCaseDetectionMs ${bound})`);
    // The machine's own scheduling (two loaded cores) is the only slack.
    expect(detected).toBeLessThanOrEqual(bound + 250);
    expect(target.client).toBe(client); // no restart: the same client (ioredis reconnects it by itself)
    await until(() => target.isConnected(), 10_000);
  });
});

describe('a URL change moves new operations to a second server (throwaway Redis × 2)', () => {
  const first = useServer(() => startRedis());
  const second = useServer(() => startRedis());

  it('zero failed operations; the old connection closes only after its in-flight operations ended', async () => {
    const name = `reload-url-${process.pid}`;
    const key = 'reconnect:test:url';
    const file = path.join(mkdtempSync(path.join(tmp, 'url-')), 'reconnect.config.yaml');
    const policy = '{ extends: preset:redis, retry: { attemptTimeout: 3s } }';
    writeConfig(file, first().port, name, policy);
    const { m, target } = await managerFor(file);
    const old = raw(first().port);
    const fresh = raw(second().port);
    // Watch the old server's side: when does the target's connection to it go away?
    let closedAt: number | undefined;
    const watcher = (async () => {
      while (closedAt === undefined) {
        if ((await connectionsNamed(old, name)).length === 0) closedAt = Date.now();
        else await sleep(5);
      }
    })();
    const ops = load(200, () => target.execute((r) => r.incr(key)));
    await sleep(300);
    // An operation in flight on the old connection across the whole swap: BLPOP blocks the server for 600 ms.
    let slowEndedAt: number | undefined;
    const slow = target
      .execute((r) => r.blpop('reconnect:test:never', 0.6))
      .then((v) => {
        slowEndedAt = Date.now();
        return v;
      });
    await sleep(20);
    writeConfig(file, second().port, name, policy);
    const result = await m.reload();
    const swappedAt = Date.now();
    expect(result.summary).toEqual([`cache: options.port ${first().port} → ${second().port}`]);
    await sleep(500);
    await ops.stop();
    await expect(slow).resolves.toBeNull(); // it finished on the old connection, untouched
    await until(() => closedAt !== undefined, 10_000);
    await watcher;
    const failed = ops.results.filter((r) => !r.ok);
    const onOld = Number(await old.get(key));
    const onNew = Number(await fresh.get(key));
    const after = ops.results.filter((r) => r.startedAt > swappedAt).length;
    console.log(
      `URL change: ${ops.results.length} operations, ${failed.length} failed; ${onOld} on the old server, ${onNew} on the new ` +
        `(${after} started after the reload returned); old connection closed ${closedAt! - slowEndedAt!} ms after its last operation ended`,
    );
    expect(failed).toEqual([]);
    expect(onOld + onNew).toBe(ops.results.length);
    expect(onNew).toBeGreaterThanOrEqual(after);
    expect(after).toBeGreaterThan(50);
    expect(closedAt!).toBeGreaterThanOrEqual(slowEndedAt!);
    expect((await connectionsNamed(fresh, name)).length).toBeGreaterThan(0);
    expect(target.isConnected()).toBe(true);
  });
});

describe('a broken save keeps the policy in force (throwaway Redis, watched file)', () => {
  const server = useServer(() => startRedis());

  it('YAML error, typo, missing env var: reloadFailed with the located error each time; the next valid save applies', async () => {
    const name = `reload-broken-${process.pid}`;
    const file = path.join(mkdtempSync(path.join(tmp, 'broken-')), 'reconnect.config.yaml');
    writeConfig(file, server().port, name, '{ retry: { maxRetries: 2 } }');
    const { target, events } = await managerFor(file, true);
    const policy = target.policy;
    const ops = load(100, () => target.execute((r) => r.ping()));
    // Each broken save, and where its error must point.
    const saves: [() => void, string, unknown[]][] = [
      [() => writeFileSync(file, 'version: 1\ntargets:\n  cache: { driver: redis\n'), 'parse_error', []],
      [
        () => writeConfig(file, server().port, name, '{ retry: { maxRetrie: 5 } }'),
        'unrecognized_keys',
        ['targets', 'cache', 'policy', 'retry', 'maxRetrie'],
      ],
      [
        () => writeConfig(file, server().port, name, '{ retry: { maxRetries: "${RETRIES_NOT_SET}" } }'),
        'missing_env',
        ['targets', 'cache', 'policy', 'retry', 'maxRetries'],
      ],
    ];
    for (const [i, [save, kind, at]] of saves.entries()) {
      save();
      await until(() => events.length === i + 1, 5000, 10);
      const e = events[i] as ReloadFailedEvent;
      expect(isConfigError(e.error)).toBe(true);
      const issue = isConfigError(e.error) ? e.error.issues[0] : undefined;
      expect(issue).toMatchObject({ kind, file, path: at });
      expect(target.policy).toBe(policy);
    }
    writeConfig(file, server().port, name, '{ retry: { maxRetries: 4 } }');
    await until(() => events.length === 4, 5000, 10);
    expect((events[3] as ReloadResult).summary).toEqual(['cache: retry.maxRetries 2 → 4']);
    expect(target.policy.retry.maxRetries).toBe(4);
    await ops.stop();
    expect(ops.results.filter((r) => !r.ok)).toEqual([]);
  });
});
