/* global setInterval, clearInterval */
// The MariaDB fleet's instances, in a process of their own (so the parent's 100 ms sampling of the server is not
// delayed by their work): `count` instances, each a pool of 10 with `callers` callers, each running `SELECT SLEEP(s)`
// then thinking ~`thinkMs` (on average one connection of the 10 busy; all 10 wanted at once by the calls that waited
// through an outage) — raw mysql2 pools at their defaults, or Reconnect targets with `policy` and `options`. Talks to the
// parent over IPC:
//   → { type: 'ready', ms }                 every instance served a call (its pool warmed for `warmMs`)
//   ← { type: 'restarted', at }             the server was restarted at `at` (Date.now()), after a kill
//   → { type: 'back', backAt, down }        once every instance served a call started after `at` (or the limit)
//   ← { type: 'report', killedAt, at }      → { type: 'report', errors } what reached the callers, by phase
//   ← { type: 'stop' }                      close everything and exit
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { createTarget } from '@reconnect/core';
import { mysqlDriver, mysqlOptionsSchema } from '@reconnect/driver-mysql';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    count: { type: 'string', default: '1000' },
    kind: { type: 'string', default: 'reconnect' },
    policy: { type: 'string', default: '{}' },
    options: { type: 'string', default: '{}' },
    callers: { type: 'string', default: '10' },
    sleep: { type: 'string', default: '0.05' },
    thinkMs: { type: 'string', default: '450' },
    warmMs: { type: 'string', default: '3000' },
    limitMs: { type: 'string', default: '90000' },
  },
});
const port = Number(values.port);
const count = Number(values.count);
const callers = Number(values.callers);
const limitMs = Number(values.limitMs);
const sql = `SELECT SLEEP(${Number(values.sleep)})`;
const thinkMs = Number(values.thinkMs);
const account = { host: '127.0.0.1', port, user: 'app', password: 'app-pw', database: 'test' };
const send = (m) => process.send?.(m);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per instance: `call()` runs one statement as the application would; `close()`. */
const instances = [];
if (values.kind === 'raw') {
  for (let i = 0; i < count; i++) {
    const pool = mysql.createPool({ ...account, connectionLimit: 10 });
    pool.on('error', () => {});
    instances.push({ call: () => pool.query(sql), close: () => pool.end() });
  }
} else {
  const policy = JSON.parse(values.policy);
  const options = mysqlOptionsSchema.parse({
    ...account,
    connectionLimit: 10,
    ...JSON.parse(values.options),
  });
  const targets = [];
  for (let i = 0; i < count; i++)
    targets.push(createTarget({ name: `fleet-${i}`, driver: mysqlDriver, options, policy }));
  // Started 100 at a time, as a service's instances would not all boot in the same millisecond.
  for (let i = 0; i < targets.length; i += 100)
    await Promise.all(targets.slice(i, i + 100).map((t) => t.start().catch(() => {})));
  for (const t of targets)
    instances.push({
      call: () => t.execute((pool) => pool.query(sql), { idempotent: true }),
      close: () => t.stop(),
    });
}

const started = Date.now();
let running = true;
/** Every call's end: [instance, startedAt, endedAt, error code or undefined]. */
const ends = [];
const firstOk = new Array(count).fill(undefined);
let restartedAt = Number.POSITIVE_INFINITY;
const backAt = new Array(count).fill(undefined);
const codeOf = (e) => String(e?.code ?? e?.cause?.code ?? e?.name ?? 'unknown');
const loops = [];
instances.forEach((inst, i) => {
  for (let k = 0; k < callers; k++)
    loops.push(
      (async () => {
        while (running) {
          const t0 = Date.now();
          try {
            await inst.call();
            const t1 = Date.now();
            firstOk[i] ??= t1;
            if (t0 >= restartedAt) backAt[i] ??= t1;
            ends.push([i, t0, t1, undefined]);
            // Think time, jittered: ~1 connection busy per instance on average, all 10 after an outage.
            await pause(thinkMs * (0.5 + Math.random()));
          } catch (e) {
            ends.push([i, t0, Date.now(), codeOf(e)]);
            // An application would not spin on a failing call.
            await pause(100);
          }
        }
      })(),
    );
});
while (firstOk.some((t) => t === undefined) && Date.now() - started < 60_000) await pause(50);
await pause(Number(values.warmMs));
send({ type: 'ready', ms: Date.now() - started });

process.on('message', async (m) => {
  if (m?.type === 'restarted') {
    restartedAt = m.at;
    const until = Date.now() + limitMs;
    const tick = setInterval(() => {
      if (backAt.every((v) => v !== undefined) || Date.now() > until) {
        clearInterval(tick);
        send({ type: 'back', backAt, down: backAt.filter((v) => v === undefined).length });
      }
    }, 50);
  } else if (m?.type === 'report') {
    const errors = { outage: {}, afterRestart: {} };
    for (const [, t0, t1, code] of ends) {
      if (code === undefined || t1 < m.killedAt) continue;
      const phase = t0 >= m.at ? errors.afterRestart : errors.outage;
      phase[code] = (phase[code] ?? 0) + 1;
    }
    const ok = ends.filter(([, t0, , code]) => code === undefined && t0 >= m.at).length;
    send({ type: 'report', errors, okAfterRestart: ok });
  } else if (m?.type === 'stop') {
    running = false;
    const hard = setTimeout(() => process.exit(0), 15_000);
    hard.unref();
    await Promise.allSettled(instances.map((inst) => inst.close()));
    await Promise.race([Promise.allSettled(loops), pause(5000)]);
    process.exit(0);
  }
});
