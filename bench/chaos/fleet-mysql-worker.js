/* global setInterval, clearInterval */
// The MariaDB fleet's instances, in processes of their own (so the parent's 100 ms sampling of the server is not
// delayed by their work; a fleet of 1 000 is spread over several such processes, each with `count` instances
// numbered from `first`): each instance a pool of 10 with `callers` callers, each running `SELECT SLEEP(s)` then
// thinking ~`thinkMs` (jittered; all 10 callers want a connection at once after an outage, when the calls that
// waited through it are served) and pausing `failPauseMs` after a failed call — raw mysql2 pools at their defaults,
// or Reconnect targets with `policy` and `options`. Talks to the parent over IPC:
//   → { type: 'ready', ms }                 every instance served a call (its pool warmed for `warmMs`)
//   ← { type: 'restarted', at }             the server was restarted at `at` (Date.now()), after a kill
//   → { type: 'back', backAt, down }        once every instance served a call started after `at` (or the limit)
//   ← { type: 'report', killedAt, at }      → { type: 'report', errors, okAfterRestart, breakerOpens }
//   ← { type: 'stop' }                      close everything and exit
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import mysqlCallbacks from 'mysql2';
import { createTarget } from '@reconnect/core';
import { mysqlDriver, mysqlOptionsSchema, mysqlPoolStats } from '@reconnect/driver-mysql';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    count: { type: 'string', default: '1000' },
    first: { type: 'string', default: '0' },
    kind: { type: 'string', default: 'reconnect' },
    policy: { type: 'string', default: '{}' },
    options: { type: 'string', default: '{}' },
    callers: { type: 'string', default: '10' },
    sleep: { type: 'string', default: '0.05' },
    thinkMs: { type: 'string', default: '450' },
    failPauseMs: { type: 'string', default: '100' },
    warmMs: { type: 'string', default: '3000' },
    limitMs: { type: 'string', default: '90000' },
  },
});
const port = Number(values.port);
const count = Number(values.count);
const first = Number(values.first);
const callers = Number(values.callers);
const limitMs = Number(values.limitMs);
const sql = `SELECT SLEEP(${Number(values.sleep)})`;
const thinkMs = Number(values.thinkMs);
const failPauseMs = Number(values.failPauseMs);
const account = { host: '127.0.0.1', port, user: 'app', password: 'app-pw', database: 'test' };
const send = (m) => process.send?.(m);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const codeOf = (e) => String(e?.code ?? e?.cause?.code ?? e?.name ?? 'unknown');
/** A Reconnect error's code with its innermost cause's (`ERR_DEADLINE_EXCEEDED < ERR_ATTEMPT_TIMEOUT`). */
function codeWithCause(e) {
  let inner = e?.cause;
  for (let i = 0; i < 5 && inner?.cause !== undefined; i++) inner = inner.cause;
  const code = codeOf(e);
  const innerCode = inner?.code ?? inner?.name;
  return innerCode === undefined || String(innerCode) === code ? code : `${code} < ${String(innerCode)}`;
}
// The event loop's delay (a worker starved of CPU answers late, and its calls with it).
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

// Every TCP connection this process starts to the server, by when (the clients' side of the stampede: a server that
// is slow to accept, or still starting, keeps them in its backlog, and its own counters see them later, spread).
const connectsAt = [];
const socketConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  // net.connect() hands its arguments on normalized: one array, whose first element is the options.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const to = typeof first === 'object' && first !== null ? Number(first.port) : Number(first);
  if (to === port) connectsAt.push(Date.now());
  return socketConnect.apply(this, args);
};

// The connections made outside the pools (mysql2's createConnection, which the driver uses for a health check's side
// connection when every pooled one is busy or held back, and for KILL QUERY): when each started.
const sideAt = [];
const createConnection = mysqlCallbacks.createConnection;
mysqlCallbacks.createConnection = function counted(...args) {
  sideAt.push(Date.now());
  return createConnection.apply(this, args);
};

// When each Reconnect target connected again (its reconnector's attempt that succeeded: the pool's first
// connection; the rest of the fleet's connects are its pools growing).
const reconnectsAt = [];

/** Per instance: `call()` runs one statement as the application would; `close()`. */
const instances = [];
/** Each time a target's breaker opened: when, and the failures of the attempts just before (newest last). */
const breakerOpens = [];
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
  for (let i = 0; i < count; i++) {
    const t = createTarget({ name: `fleet-${first + i}`, driver: mysqlDriver, options, policy });
    // The last attempt failures (code and the start of the message), to say what opened a breaker.
    const recent = [];
    const note = (e) => {
      recent.push(`${codeOf(e.error)}: ${String(e.error?.message ?? '').slice(0, 120)}`);
      if (recent.length > 6) recent.shift();
    };
    t.on('reconnect', () => reconnectsAt.push(Date.now()));
    t.on('retry', note);
    t.on('giveUp', note);
    t.on('breakerStateChange', (e) => {
      if (e.to === 'open') breakerOpens.push({ target: first + i, at: Date.now(), recent: [...recent] });
    });
    targets.push(t);
  }
  // Started 100 at a time, as a service's instances would not all boot in the same millisecond.
  for (let i = 0; i < targets.length; i += 100)
    await Promise.all(targets.slice(i, i + 100).map((t) => t.start().catch(() => {})));
  for (const t of targets)
    instances.push({
      call: () => t.execute((pool) => pool.query(sql), { idempotent: true }),
      close: () => t.stop(),
      state: () => t.state,
      // The current pool's driver counters and size (the connections it holds, handshakes included).
      pool: () => {
        try {
          return { ...mysqlPoolStats(t.client), size: t.client.pool._allConnections.length };
        } catch {
          return undefined;
        }
      },
    });
}

const started = Date.now();
let running = true;
/** Every call's end: [instance, startedAt, endedAt, error code or undefined]. */
const ends = [];
const firstOk = new Array(count).fill(undefined);
let restartedAt = Number.POSITIVE_INFINITY;
const backAt = new Array(count).fill(undefined);
const loops = [];
instances.forEach((inst, i) => {
  for (let k = 0; k < callers; k++)
    loops.push(
      (async () => {
        // The callers of one instance do not all start in the same millisecond.
        await pause(Math.random() * thinkMs);
        while (running) {
          const t0 = Date.now();
          try {
            await inst.call();
            const t1 = Date.now();
            firstOk[i] ??= t1;
            if (t0 >= restartedAt) backAt[i] ??= t1;
            ends.push([i, t0, t1, undefined]);
            await pause(thinkMs * (0.5 + Math.random()));
          } catch (e) {
            ends.push([i, t0, Date.now(), codeWithCause(e)]);
            // An application would not spin on a failing call.
            await pause(failPauseMs);
          }
        }
      })(),
    );
});
while (firstOk.some((t) => t === undefined) && Date.now() - started < 90_000) await pause(50);
await pause(Number(values.warmMs));
// Instances none of whose calls succeeded within the 90 s (a warm-up that did not finish), and their targets' states.
const unserved = firstOk.flatMap((t, i) => (t === undefined ? [i] : []));
send({
  type: 'ready',
  ms: Date.now() - started,
  unserved: unserved.length,
  unservedStates: unserved.slice(0, 5).map((i) => instances[i].state?.() ?? 'raw'),
});

process.on('message', async (m) => {
  if (m?.type === 'restarted') {
    restartedAt = m.at;
    loopDelay.reset();
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
    // Errors after the restart per second after it; breaker openings per second after it (negative: in the outage).
    const perSecond = {};
    for (const [, t0, t1, code] of ends)
      if (code !== undefined && t0 >= m.at) {
        const s = Math.floor((t1 - m.at) / 1000);
        perSecond[s] = (perSecond[s] ?? 0) + 1;
      }
    const opens = breakerOpens.filter((b) => b.at >= m.killedAt);
    const opensPerSecond = {};
    for (const b of opens) {
      const s = Math.floor((b.at - m.at) / 1000);
      opensPerSecond[s] = (opensPerSecond[s] ?? 0) + 1;
    }
    // Connections started per 100 ms after the restart (bin → count); targets connected again, the same.
    const per100ms = (times) => {
      const bins = {};
      for (const t of times)
        if (t >= m.at) {
          const bin = Math.floor((t - m.at) / 100);
          bins[bin] = (bins[bin] ?? 0) + 1;
        }
      return bins;
    };
    const connects = per100ms(connectsAt);
    // From the kill on, per second (the outage's connects: on-demand attempts, the schedule's, the pools').
    const perSecondFromKill = {};
    for (const t of connectsAt)
      if (t >= m.killedAt) {
        const s = Math.floor((t - m.killedAt) / 1000);
        perSecondFromKill[s] = (perSecondFromKill[s] ?? 0) + 1;
      }
    const reconnects = per100ms(reconnectsAt);
    const side = per100ms(sideAt);
    // During the outage: the connections started to the down server, and the calls the callers issued.
    const outageConnects = connectsAt.filter((t) => t >= m.killedAt && t < m.at).length;
    const outageCalls = ends.filter(([, t0]) => t0 >= m.killedAt && t0 < m.at).length;
    // The pools at the end: their sizes (size → instances) and the driver's counters summed.
    const poolSizes = {};
    const poolStats = {};
    for (const inst of instances) {
      const p = inst.pool?.();
      if (p === undefined) continue;
      poolSizes[p.size] = (poolSizes[p.size] ?? 0) + 1;
      for (const [k, v] of Object.entries(p)) if (k !== 'size') poolStats[k] = (poolStats[k] ?? 0) + v;
    }
    send({
      type: 'report',
      poolSizes,
      poolStats,
      connects,
      reconnects,
      side,
      connectsPerSecondFromKill: perSecondFromKill,
      outageConnects,
      outageCalls,
      errors,
      okAfterRestart: ok,
      errorsPerSecond: perSecond,
      breakerOpens: opens.filter((b) => b.at >= m.at).slice(0, 10),
      breakerOpened: opens.filter((b) => b.at >= m.at).length,
      breakerOpenedInOutage: opens.filter((b) => b.at < m.at).length,
      opensPerSecond,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
    });
  } else if (m?.type === 'stop') {
    running = false;
    const hard = setTimeout(() => process.exit(0), 15_000);
    hard.unref();
    await Promise.allSettled(instances.map((inst) => inst.close()));
    await Promise.race([Promise.allSettled(loops), pause(5000)]);
    process.exit(0);
  }
});
