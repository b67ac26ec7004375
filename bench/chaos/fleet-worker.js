/* global setInterval, clearInterval */
// The fleet's clients, in a process of their own (so the parent's 100 ms sampling of the server is
// not delayed by 1 000 clients' work): `count` Reconnect targets with `policy`, or `count` raw ioredis
// clients at their defaults, against one Redis. Talks to the parent over IPC:
//   → { type: 'ready', ms }                 every client connected
//   ← { type: 'watch', killedAt }           the server was killed at `killedAt` (Date.now())
//   → { type: 'back', times, down }         once every client reconnected (or the time limit): when each
//                                           one was connected again (Date.now()), how many never came back
//   ← { type: 'stop' }                      close everything and exit
// With `--trafficMs N` (> 0) each client also has a caller: an idempotent GET every N ms (jittered ×0.5–1.5), 1 s
// pause after a failure; the errors its calls meet after the restart are reported with `back` (`errors`). Reconnect
// targets with traffic reconnect on demand too (an arriving operation brings an attempt forward), not only on
// their backoff schedule.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createTarget } from '@reconnect/core';
import redisDriver from '@reconnect/driver-redis';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    count: { type: 'string', default: '1000' },
    kind: { type: 'string', default: 'reconnect' },
    policy: { type: 'string', default: '{}' },
    limitMs: { type: 'string', default: '60000' },
    trafficMs: { type: 'string', default: '0' },
  },
});
const trafficMs = Number(values.trafficMs);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const port = Number(values.port);
const count = Number(values.count);
const limitMs = Number(values.limitMs);
const policy = JSON.parse(values.policy);
const send = (m) => process.send?.(m);

/** Per client: `up()` true while connected; `onUp(fn)` called each time it is connected again. */
const clients = [];
const started = Date.now();
if (values.kind === 'raw') {
  for (let i = 0; i < count; i++) {
    const c = new Redis({ host: '127.0.0.1', port });
    c.on('error', () => {});
    clients.push({
      up: () => c.status === 'ready',
      onUp: (fn) => c.on('ready', fn),
      call: () => c.get('fleet'),
      close: async () => c.disconnect(),
    });
  }
  await Promise.all(
    clients.map(
      (c) =>
        new Promise((resolve) => {
          if (c.up()) resolve();
          else c.onUp(resolve);
        }),
    ),
  );
} else {
  const targets = [];
  for (let i = 0; i < count; i++) {
    targets.push(
      createTarget({ name: `fleet-${i}`, driver: redisDriver, options: { host: '127.0.0.1', port }, policy }),
    );
  }
  // Started 100 at a time, as a service's instances would not all boot in the same millisecond; a start
  // that times out (a 150 ms probe on a busy machine) keeps reconnecting, so wait for every target.
  for (let i = 0; i < targets.length; i += 100) {
    await Promise.all(targets.slice(i, i + 100).map((t) => t.start().catch(() => {})));
  }
  const until = Date.now() + 60_000;
  while (!targets.every((t) => t.isConnected()) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50));
  for (const t of targets) {
    clients.push({
      up: () => t.isConnected(),
      onUp: (fn) => t.on('stateChange', (e) => e.to === 'connected' && fn()),
      call: () => t.execute((client) => client.get('fleet'), { idempotent: true }),
      close: () => t.stop(),
    });
  }
}
let running = true;
let restartedAt = Number.POSITIVE_INFINITY;
const errorsAfterRestart = {};
if (trafficMs > 0)
  for (const c of clients)
    void (async () => {
      await pause(Math.random() * trafficMs);
      while (running) {
        const t0 = Date.now();
        try {
          await c.call();
          await pause(trafficMs * (0.5 + Math.random()));
        } catch (e) {
          if (t0 >= restartedAt) {
            const code = String(e?.code ?? e?.name ?? 'unknown');
            errorsAfterRestart[code] = (errorsAfterRestart[code] ?? 0) + 1;
          }
          await pause(1000);
        }
      }
    })();
send({ type: 'ready', ms: Date.now() - started });

const backAt = new Array(count).fill(undefined);
let watching = false;
clients.forEach((c, i) =>
  c.onUp(() => {
    if (watching && backAt[i] === undefined) backAt[i] = Date.now();
  }),
);

process.on('message', async (m) => {
  if (m?.type === 'restarted') restartedAt = m.at;
  else if (m?.type === 'watch') {
    watching = true;
    const until = Date.now() + limitMs;
    // Every client must first have noticed the crash (then it is "connected again" only after a reconnect).
    const tick = setInterval(() => {
      const done = backAt.every((v) => v !== undefined);
      if (done || Date.now() > until) {
        clearInterval(tick);
        // The errors of calls ended so far (one still waiting when every client is back is not counted).
        send({
          type: 'back',
          times: backAt,
          down: backAt.filter((v) => v === undefined).length,
          errors: errorsAfterRestart,
        });
      }
    }, 50);
  } else if (m?.type === 'stop') {
    running = false;
    const hard = setTimeout(() => process.exit(0), 10_000);
    hard.unref();
    await Promise.allSettled(clients.map((c) => c.close()));
    process.exit(0);
  }
});
