// `npm run bench:amplification` (= tsc -b && node bench/amplification/run.js): what one target sends to a server that
// is down, against what its callers ask for (issue #26). A fleet multiplies it: 1 000 instances at 3× their
// normal rate are a 3× load on the server the moment it comes back.
//
// The target is the real one (createTarget, the preset's resolved policy, engine, budget, breaker, reconnector,
// health checker) on a fake clock, with a stand-in driver that counts every request a server would see: each
// operation attempt, each connect, each health probe. Virtual time makes a 0.1 op/s caller as exact as a
// 1 000 op/s one. The server answers for `healthyS` seconds (the budget earns its credit), then refuses
// everything for `outageS` seconds: its connections reset, new ones refused. Callers keep issuing idempotent
// reads at `rate` per second on a fixed schedule, each with the preset's deadline.
//   node bench/amplification/run.js [--rates 0.1,1,10,100,1000] [--presets redis,mysql,elasticsearch,fast-failover]
//                               [--healthy 60] [--outage 300] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createFakeClock, createTarget, defineDriver } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import { z } from 'zod';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '0.1,1,10,100,1000' },
    presets: { type: 'string', default: 'redis,mysql,elasticsearch,fast-failover' },
    healthy: { type: 'string', default: '60' },
    outage: { type: 'string', default: '300' },
    json: { type: 'string' },
  },
});
const rates = values.rates.split(',').map(Number);
const presetNames = values.presets.split(',');
const healthyS = Number(values.healthy);
const outageS = Number(values.outage);

/** A refused connect, a reset connection: what a server that is down answers. */
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

function standIn(server) {
  return defineDriver({
    name: 'stand-in',
    system: 'other_sql',
    options: z.object({}),
    async connect() {
      server.count('connect');
      if (!server.up) throw refused();
      return { generation: server.generation };
    },
    async probe() {
      server.count('probe');
      if (!server.up) throw reset();
    },
    async close() {},
    classify(error) {
      const code = error?.code;
      if (code === 'ECONNREFUSED') return { kind: 'connection', code, sent: false };
      if (code === 'ECONNRESET') return { kind: 'connection', code };
      return { kind: 'unknown' };
    },
  });
}

async function measure(presetName, rate) {
  const clock = createFakeClock(0);
  const server = {
    up: true,
    generation: 0,
    phase: 'healthy',
    counts: { healthy: {}, outage: {} },
    count(what) {
      const c = this.counts[this.phase];
      c[what] = (c[what] ?? 0) + 1;
    },
  };
  const target = createTarget({
    name: 'amp',
    driver: standIn(server),
    options: {},
    policy: presets[presetName].policy,
    clock,
  });
  await target.start();
  // The backoff schedule's connect attempts (one reconnectFailed each); every other connect the server saw was
  // brought forward by a waiting operation.
  const connects = { scheduled: 0 };
  target.on('reconnectFailed', () => {
    if (server.phase === 'outage') connects.scheduled++;
  });
  const op = async () => {
    server.count('attempt');
    if (!server.up) throw reset();
    return 1;
  };
  const outcomes = {
    healthy: { ok: 0, failed: 0 },
    outage: { ok: 0, failed: 0 },
    after: { ok: 0, failed: 0 },
  };
  const issue = () => {
    const phase = server.phase;
    server.counts[phase].issued = (server.counts[phase].issued ?? 0) + 1;
    target.execute(op, { idempotent: true }).then(
      () => outcomes[phase].ok++,
      () => outcomes[phase].failed++,
    );
  };
  // Operations on a fixed schedule, time moved in steps no longer than the gap between two of them.
  const gapMs = 1000 / rate;
  const stepMs = Math.min(gapMs, 50);
  let nextAt = 0;
  const runFor = async (ms) => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      while (nextAt <= clock.now()) {
        issue();
        nextAt += gapMs;
      }
      await clock.advanceAsync(Math.min(stepMs, end - clock.now()));
    }
  };
  await runFor(healthyS * 1000);
  server.phase = 'outage';
  server.up = false;
  await runFor(outageS * 1000);
  server.phase = 'after';
  server.counts.after = {};
  server.up = true;
  server.generation++;
  await runFor(30_000); // let every waiting caller settle
  await target.stop();
  const o = server.counts.outage;
  const issued = o.issued ?? 0;
  const attempts = o.attempt ?? 0;
  const allConnects = o.connect ?? 0;
  const onDemand = allConnects - connects.scheduled;
  const probes = o.probe ?? 0;
  return {
    preset: presetName,
    rate,
    issued,
    attempts,
    connects: allConnects,
    onDemandConnects: onDemand,
    scheduledConnects: connects.scheduled,
    probes,
    /**
     * What the callers' requests caused the down server to see — operation attempts and the connects they brought
     * forward — per operation issued: the retry traffic a fleet multiplies by its size.
     */
    retryAmplification: issued === 0 ? 0 : (attempts + onDemand) / issued,
    /** Every request the down server saw (attempts, connects of any kind, probes) per operation issued. */
    totalAmplification: issued === 0 ? 0 : (attempts + allConnects + probes) / issued,
    /** The backoff schedule's connects per second: the same for an idle target; spread across a fleet by jitter. */
    scheduledPerS: connects.scheduled / outageS,
    failed: outcomes.outage.failed,
  };
}

const rows = [];
for (const p of presetNames)
  for (const r of rates) {
    const row = await measure(p, r);
    rows.push(row);
    process.stdout.write(
      `preset:${p} ${r} op/s: issued ${row.issued}, attempts ${row.attempts}, on-demand connects ${row.onDemandConnects} → retry traffic ${row.retryAmplification.toFixed(3)}×; scheduled connects ${row.scheduledConnects} (${row.scheduledPerS.toFixed(2)}/s), connects seen ${row.connects}, probes ${row.probes}; all ${row.totalAmplification.toFixed(3)}×\n`,
    );
  }
if (values.json !== undefined)
  writeFileSync(values.json, `${JSON.stringify({ healthyS, outageS, rows }, null, 2)}\n`);
