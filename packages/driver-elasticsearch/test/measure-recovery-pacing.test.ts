import { startElasticsearchCluster, startFaultProxy, useServer, type FaultProxy } from '@reconnect/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ElasticsearchClient } from '../src/index.js';
import { esTarget, preset, stopTargets, until } from './helpers.js';

// What pacing while a node recovers (issue #26) does, with the driver's defaults and preset:elasticsearch as
// shipped, side by side with it off (recoveryConnectRate: 0: the driver before it) in alternating rounds on the same
// test cluster. Opt-in (RECONNECT_MEASURE=1, a few minutes); prints the tables the report quotes.
// 1. A fleet: FLEET targets (one process) with CALLERS callers each, every caller one request after another with a
//    short pause; the node is killed, restarted after OUTAGE_MS, and the new TCP connections are counted per 100 ms
//    at a fault proxy in front of it, with the callers' failures and the slowest request.
// 2. A healthy node's burst: 16 concurrent requests, each held 50 ms by the node, on a fresh target (one socket)
//    and then on the same target warm (sockets open): the time until all are answered.
const enabled = process.env['RECONNECT_MEASURE'] === '1';
const fleet = Number(process.env['FLEET'] ?? 100);
const callers = Number(process.env['CALLERS'] ?? 6);
const outageMs = Number(process.env['OUTAGE_MS'] ?? 2000);
const rounds = Number(process.env['ROUNDS'] ?? 2);
const burstSize = 16;

const health = (c: ElasticsearchClient) => c.cluster.health();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits = 0) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

/** Every connection the proxy accepts, by id (its stats keep the latest 1000 only): polled every 10 ms. */
function recordOpens(p: FaultProxy) {
  const opened = new Map<number, number>();
  const poll = () => {
    for (const c of p.stats().connections) opened.set(c.id, c.openedAt);
  };
  const timer = setInterval(poll, 10);
  return {
    stop(): number[] {
      clearInterval(timer);
      poll();
      return [...opened.values()].sort((a, b) => a - b);
    },
  };
}

/** The largest number of `times` in any 100 ms window (sliding), from `since` on. */
function peakPer100ms(times: number[], since: number): number {
  const ts = times.filter((t) => t >= since);
  let peak = 0;
  for (let i = 0, j = 0; i < ts.length; i++) {
    while (ts[i]! - ts[j]! >= 100) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

describe.skipIf(!enabled)('measured: pacing while a node recovers', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 1 }));
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await stopTargets();
    await proxy?.close();
    proxy = undefined;
  });

  it('a fleet whose node restarts: new sockets per 100 ms, off vs on', async () => {
    const node = cluster().nodes[0]!;
    const sides: Record<string, Record<string, unknown>> = {
      'off (recoveryConnectRate: 0, the driver before)': { recoveryConnectRate: 0 },
      'defaults (recoveryConnectRate 5, recoverySettle 5s)': {},
      ...(process.env['RATE10'] === '1' ? { 'recoveryConnectRate 10': { recoveryConnectRate: 10 } } : {}),
    };
    const figures: Record<
      string,
      {
        peak: number[];
        sockets: number[];
        failed: number[];
        slowest: number[];
        p99After: number[];
        notBack: number[];
      }
    > = {};
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? Object.entries(sides) : Object.entries(sides).reverse();
      for (const [name, extra] of order) {
        const p = await startFaultProxy({ target: { host: '127.0.0.1', port: node.port } });
        proxy = p;
        const targets = Array.from({ length: fleet }, () =>
          esTarget([`http://127.0.0.1:${p.port}`], preset('elasticsearch'), extra),
        );
        await Promise.all(targets.map((t) => t.start()));
        let running = true;
        let failed = 0;
        let slowest = 0;
        /** [started at (Date.now), took ms] of every call. */
        const calls: [number, number][] = [];
        const loops = targets.flatMap((t) =>
          Array.from({ length: callers }, async () => {
            await sleep(Math.random() * 500);
            while (running) {
              const t0 = performance.now();
              const at = Date.now();
              try {
                await t.execute(health, { idempotent: true });
              } catch {
                failed++;
              }
              const took = performance.now() - t0;
              slowest = Math.max(slowest, took);
              calls.push([at, took]);
              await sleep(200 + Math.random() * 300);
            }
          }),
        );
        await sleep(2000);
        const opens = recordOpens(p);
        await node.kill();
        await sleep(outageMs);
        await node.restart();
        const back = Date.now();
        // Bounded: a target still reconnecting after 60 s is counted, not waited for.
        await until(() => targets.every((t) => t.state === 'connected'), 60_000).catch(() => undefined);
        const notBack = targets.filter((t) => t.state !== 'connected').length;
        await sleep(8000);
        const times = opens.stop();
        running = false;
        await Promise.all(loops);
        const after = calls
          .filter(([at]) => at >= back)
          .map(([, took]) => took)
          .sort((a, b) => a - b);
        const f = (figures[name] ??= {
          peak: [],
          sockets: [],
          failed: [],
          slowest: [],
          p99After: [],
          notBack: [],
        });
        f.p99After.push(after[Math.floor(after.length * 0.99)] ?? 0);
        f.notBack.push(notBack);
        f.peak.push(peakPer100ms(times, back));
        f.sockets.push(times.filter((t) => t >= back).length);
        f.failed.push(failed);
        f.slowest.push(slowest);
        await stopTargets();
        await p.close();
        proxy = undefined;
      }
    }
    const rows = Object.entries(figures).map(
      ([name, f]) =>
        `| ${name} | ${range(f.peak)} | ${range(f.sockets)} | ${range(f.failed)} | ${range(f.slowest)} | ${range(f.p99After)} | ${range(f.notBack)} |`,
    );
    console.log(
      [
        `fleet ${fleet} targets × ${callers} callers, outage ${outageMs} ms, ${rounds} rounds (median (min–max))`,
        '| side | peak new sockets per 100 ms after the restart | new sockets after the restart | failed calls | slowest call ms (outage included) | p99 ms of calls started after the restart | targets not connected 60 s after |',
        '|---|---|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
  }, 900_000);

  it("a healthy node's burst: time until all answered, off vs on", async () => {
    const node = cluster().nodes[0]!;
    const sides: Record<string, Record<string, unknown>> = {
      off: { recoveryConnectRate: 0 },
      defaults: {},
    };
    const figures: Record<string, { warm: number[]; fresh: number[] }> = {};
    const burst = async (t: ReturnType<typeof esTarget>) => {
      node.faults.latency(50, { requests: burstSize, match: { path: '/_cluster/health' } });
      const t0 = performance.now();
      await Promise.all(Array.from({ length: burstSize }, () => t.execute(health, { idempotent: true })));
      return performance.now() - t0;
    };
    for (let r = 0; r < 20; r++) {
      const order = r % 2 === 0 ? Object.entries(sides) : Object.entries(sides).reverse();
      for (const [name, extra] of order) {
        const t = esTarget([node.url], preset('elasticsearch'), extra);
        await t.start();
        const f = (figures[name] ??= { warm: [], fresh: [] });
        f.fresh.push(await burst(t));
        f.warm.push(await burst(t));
        await stopTargets();
      }
    }
    const rows = Object.entries(figures).map(
      ([name, f]) => `| ${name} | ${range(f.fresh, 1)} | ${range(f.warm, 1)} |`,
    );
    console.log(
      [
        `burst of ${burstSize}, each held 50 ms by the node, 20 rounds (median (min–max) ms)`,
        '| side | fresh target | warm target |',
        '|---|---|---|',
        ...rows,
      ].join('\n'),
    );
    expect(rows).toHaveLength(2);
  }, 300_000);
});
