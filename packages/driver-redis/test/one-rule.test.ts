// One rule for every outage (issue #15): while a target is reconnecting, `reconnect.whileReconnecting` decides
// what a new operation does — wait within its deadline, or fail fast — whatever way the server died. The
// breaker guards what is sent to a server believed up. The same 5 s outage as a crash (SIGKILL + restart),
// a hang (SIGSTOP) and a network blackhole (the fault proxy), under preset:redis (10 s deadline), must fail
// no idempotent read; with `whileReconnecting: fail-fast` all three fail fast once the target knows it is down.
import { isNotConnectedError, type PolicyInput, type Target } from '@reconnect/core';
import { startFaultProxy, startRedis, useServer, type FaultProxy } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from './helpers.js';
import { opStream, preset, startTarget } from './target-helpers.js';

type Outage = 'crash' | 'hang' | 'blackhole';

const server = useServer(() => startRedis());
let proxy: FaultProxy | undefined;
const targets: Target[] = [];
afterEach(async () => {
  await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
  await proxy?.close();
  proxy = undefined;
});

async function outage(kind: Outage, ms: number): Promise<void> {
  if (kind === 'crash') {
    await server().kill();
    await new Promise((r) => setTimeout(r, ms));
    await server().restart();
  } else if (kind === 'hang') {
    await server().hang();
    await new Promise((r) => setTimeout(r, ms));
    await server().resume();
  } else {
    proxy!.blackhole();
    await new Promise((r) => setTimeout(r, ms));
    await proxy!.pass();
  }
}

/** Reads every 20 ms through a proxy in front of the server, through an outage of `ms`; the results. */
async function readsThrough(kind: Outage, policy: PolicyInput, ms: number) {
  proxy = await startFaultProxy({ target: server().options });
  const t = await startTarget(proxy.port, policy);
  targets.push(t);
  let downAt: number | undefined;
  t.on('stateChange', (e) => {
    if (e.from === 'connected' && downAt === undefined) downAt = Date.now();
  });
  const ops = opStream(20, () => t.execute((r) => r.get('one-rule'), { idempotent: true }));
  await new Promise((r) => setTimeout(r, 200));
  const startedAt = Date.now();
  await outage(kind, ms);
  const endedAt = Date.now();
  await until(() => t.isConnected(), 15_000, 20);
  await new Promise((r) => setTimeout(r, 200));
  await ops.stop();
  return { results: ops.results, startedAt, endedAt, downAt };
}

describe('one rule for every outage, under preset:redis', () => {
  for (const kind of ['crash', 'hang', 'blackhole'] as const) {
    it(`a 5 s ${kind} fails no idempotent read (each one's 10 s deadline outlasts the outage)`, async () => {
      const { results } = await readsThrough(kind, preset('redis'), 5000);
      const failed = results.filter((r) => !r.ok);
      const names = [...new Set(failed.map((r) => (r.error as Error).name))];
      console.log(`${kind}: ${failed.length} of ${results.length} reads failed ${names.join(', ')}`);
      expect(results.length).toBeGreaterThan(100);
      expect(failed.length, `failed with ${names.join(', ')}`).toBe(0);
    });
  }

  for (const kind of ['crash', 'hang', 'blackhole'] as const) {
    it(`whileReconnecting fail-fast: during a ${kind}, reads started after the target knew it was down fail at once`, async () => {
      const policy: PolicyInput = {
        extends: 'preset:redis',
        reconnect: { whileReconnecting: 'fail-fast' },
      } as PolicyInput;
      const { results, downAt, endedAt } = await readsThrough(kind, policy, 4000);
      expect(downAt).toBeDefined();
      expect(downAt!).toBeLessThan(endedAt - 500);
      // Started while the target was reconnecting (after it noticed, well before the outage ended).
      const whileDown = results.filter((r) => r.startedAt > downAt! + 50 && r.startedAt < endedAt - 200);
      expect(whileDown.length).toBeGreaterThan(10);
      const slow = whileDown.filter((r) => r.ok || r.settledAt - r.startedAt > 100);
      expect(slow, 'every read started while reconnecting fails within 100 ms').toEqual([]);
      expect(whileDown.every((r) => isNotConnectedError(r.error))).toBe(true);
    });
  }
});
