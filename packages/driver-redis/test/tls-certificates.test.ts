import { createTarget, type Target } from '@reconnect/core';
import {
  faultNamed,
  makeTestCertificates,
  startFaultProxy,
  startRedis,
  type FaultProxy,
  type RedisServer,
  type TestCertificates,
} from '@reconnect/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';
import { preset } from './target-helpers.js';

// Permanent TLS faults on a real redis-server with a TLS port (issue #24): a certificate the client's CA does not
// sign, from the start and appearing mid-run. What the target does is measured through the fault proxy in front
// of the TLS port, which counts every connection attempt: it fails fast and readably, and it does not retry into
// a storm. What it does once the server side is fixed is pinned too (see the README's "TLS certificates").

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every message down an error's `cause` chain, joined: what a logger that prints causes shows. */
function said(error: unknown): string {
  const out: string[] = [];
  let e = error as { message?: string; cause?: unknown } | undefined;
  while (e !== undefined && e !== null) {
    out.push(String(e.message));
    e = e.cause as typeof e;
  }
  return out.join(' <- ');
}

describe('TLS certificate faults against a Redis target', () => {
  let certificates: TestCertificates;
  let server: RedisServer;
  let proxy: FaultProxy;
  let target: Target<RedisClient> | undefined;
  beforeAll(async () => {
    certificates = makeTestCertificates();
    server = await startRedis({ tls: certificates });
    proxy = await startFaultProxy({ target: { host: server.host, port: server.tls!.port } });
  });
  afterAll(async () => {
    await proxy.close();
    await server.stop();
    certificates.remove();
  });
  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });
  const env = () => ({ store: 'redis' as const, server, proxy, durationMs: 1000 });
  const create = () =>
    createTarget({
      name: 'tls-cache',
      driver: redisDriver,
      options: redisOptionsSchema.parse({ host: proxy.host, port: proxy.port, tls: { ca: certificates.ca } }),
      policy: preset('redis'),
    });

  it('untrusted from the start: start() fails at once saying why; one attempt, then none; stays failed until restarted', async () => {
    const active = await faultNamed('tls-wrong-ca').start(env());
    const before = proxy.stats().accepted;
    target = create();
    const t0 = performance.now();
    const started = await target.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(said(started)).toMatch(
      /could not connect: TLS: the server's certificate is not signed by a CA this client trusts \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    );
    expect(target.state).toBe('failed');
    // An operation fails within a second, and its message chain ends in the certificate error.
    const t1 = performance.now();
    const failed = await target
      .execute((c) => c.get('k'), { idempotent: true })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(performance.now() - t1).toBeLessThan(1500);
    expect(said(failed)).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    await sleep(1500);
    // No storm: the permanent error is final, so the target tried once and gave up.
    expect(proxy.stats().accepted - before).toBe(1);
    await active.heal();
    // Fixed on the server: a target that gave up on a final error does not re-probe; a restart connects.
    await sleep(1200);
    expect(target.state).toBe('failed');
    expect(proxy.stats().accepted - before).toBe(1);
    const again = await target.start().then(
      () => 'started',
      (e: unknown) => said(e),
    );
    // start() again answers from the failure it remembers, without trying: still one attempt in all.
    expect(again).toMatch(/could not connect: TLS: the server's certificate is not signed/);
    expect(proxy.stats().accepted - before).toBe(1);
    // A new target (what a process restart does) connects.
    await target.stop();
    target = create();
    await target.start();
    expect(await target.execute((c) => c.ping(), { idempotent: true })).toBe('PONG');
  });

  it('untrusted mid-run: reconnects are paced by the policy (no storm), and it recovers by itself once fixed', async () => {
    target = create();
    await target.start();
    expect(await target.execute((c) => c.ping(), { idempotent: true })).toBe('PONG');
    const active = await faultNamed('tls-wrong-ca').start(env()); // the connection is killed: reconnects meet it
    await sleep(3000);
    const attempts = active.acted?.() ?? 0;
    // preset:redis backs off from 1 s, doubling: a handful of handshakes in 3 s, not one per operation.
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThanOrEqual(6);
    expect(target.state).not.toBe('connected');
    expect(said(target.lastError())).toMatch(/unable to verify the first certificate/);
    await active.heal();
    const t0 = performance.now();
    while (target.state !== 'connected' && performance.now() - t0 < 20_000) await sleep(50);
    expect(target.state).toBe('connected');
  }, 30_000);
});
