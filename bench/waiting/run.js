// `npm run bench:waiting` (= tsc -b && node --expose-gc bench/waiting/run.js): what one operation waiting for a
// reconnect costs in memory (issue #29). A real target (createTarget, preset:redis's policy) with a stand-in
// driver whose server goes down; once the target is reconnecting, N idempotent operations are issued and left
// waiting; the heap after a full GC, before and after, divided by N. Run per deadline: 0 (no limit: every
// operation waits) and the preset's 10 s (each wait also holds its deadline's link).
//   node --expose-gc bench/waiting/run.js [--count 20000] [--json FILE]
/* global gc, setInterval, clearInterval */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createTarget, defineDriver } from '@reconnect/core';
import { z } from 'zod';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '20000' }, json: { type: 'string' } },
});
const count = Number(values.count);
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

async function measure(deadline) {
  const server = { up: true };
  const driver = defineDriver({
    name: 'stand-in',
    system: 'other_sql',
    options: z.object({}),
    async connect() {
      if (!server.up) throw refused();
      return {};
    },
    async probe() {
      if (!server.up) throw refused();
    },
    async close() {},
    classify: (e) =>
      e?.code === 'ECONNREFUSED' ? { kind: 'connection', code: e.code, sent: false } : { kind: 'unknown' },
  });
  const target = createTarget({
    name: 'db',
    driver,
    options: {},
    policy: { extends: 'preset:redis', retry: { deadline }, reconnect: { maxWaiting: 'unlimited' } },
  });
  await target.start();
  server.up = false;
  await target.execute(() => Promise.reject(refused()), { idempotent: true, deadline: 200 }).catch(() => {});
  for (let i = 0; i < 50 && target.state === 'connected'; i++) await new Promise((r) => setTimeout(r, 20));
  if (target.state !== 'reconnecting') throw new Error(`expected reconnecting, got ${target.state}`);
  const op = async () => 1;
  const waiting = new Array(count);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) waiting[i] = target.execute(op, { idempotent: true });
  await new Promise((r) => setTimeout(r, 100));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const settled = waiting.map((p) =>
    p.then(
      () => 'ok',
      () => 'failed',
    ),
  );
  server.up = true;
  await target.stop();
  await Promise.all(settled);
  // The array of promises the harness keeps: one pointer each.
  return { deadlineMs: deadline, count, bytesPerWaiting: Math.round((after - before) / count) - 8 };
}

const keep = setInterval(() => {}, 1000);
const rows = [];
for (const deadline of [0, 10_000]) rows.push(await measure(deadline));
clearInterval(keep);
console.log('| deadline | waiting operations | bytes per waiting operation |');
console.log('| ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.deadlineMs === 0 ? 'none (0)' : `${r.deadlineMs / 1000} s`} | ${r.count} | ${r.bytesPerWaiting} |`,
  );
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      {
        command: `node --expose-gc bench/waiting/run.js --count ${count}`,
        node: process.version,
        cpus: os.cpus().length,
        rows,
      },
      null,
      2,
    ) + '\n',
  );
