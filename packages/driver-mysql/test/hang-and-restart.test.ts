import { resolvePolicy, type Target } from '@reconnect/core';
import { startMariaDB, useServer } from '@reconnect/testkit';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import type { MySqlPool } from '../src/index.js';
import { mysqlTarget, opStream, preset, sleep, until } from './helpers.js';

// The promises measure.test.ts prints figures for (opt-in, RECONNECT_MEASURE=1), asserted in the normal suite in a
// short form: writes running through a hang (SIGSTOP) and a graceful restart never run twice, and no operation waits
// past its deadline under the hang — with each preset as shipped. (acceptance.test.ts does the same for a crash.)
// The hang outlasts the deadline, so the bound is tested, not waited out: measure.test.ts's 5 s hang is shorter than
// preset:mysql's 10 s deadline, so here reads carry a 1.5 s deadline of their own (under the 2 s attempt timeout).
const slackMs = 150;

describe('a hang and a graceful restart under reads and writes', () => {
  const server = useServer(() => startMariaDB());
  let target: Target<MySqlPool> | undefined;
  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  for (const [name, callDeadline] of [
    ['mysql', 1500],
    ['fast-failover', undefined],
  ] as const) {
    it(`preset ${name}: no write runs twice, no read waits past its deadline`, async () => {
      const deadline = callDeadline ?? resolvePolicy(preset(name)).retry.deadline;
      const table = `hang_restart_${name.replace('-', '_')}`;
      const t = mysqlTarget({ port: server().port, user: 'root', database: 'test' }, preset(name));
      target = t;
      await t.start();
      await t.execute((db) => db.query(`CREATE TABLE ${table} (op INT NOT NULL)`), { idempotent: true });
      const readOptions =
        callDeadline === undefined ? { idempotent: true } : { idempotent: true, deadline: callDeadline };
      const reads = opStream(20, () => t.execute((db) => db.query('SELECT 1'), readOptions));
      const acked: number[] = [];
      // Not idempotent: a write whose outcome is unknown must not be sent again.
      const writes = opStream(40, (i) =>
        t.execute((db) => db.query(`INSERT INTO ${table} (op) VALUES (?)`, [i])).then(() => acked.push(i)),
      );
      await sleep(300);

      const hungAt = Date.now();
      await server().hang();
      await sleep(deadline + 1000);
      const resumedAt = Date.now();
      await server().resume();
      await until(() => reads.firstSuccessStartedAfter(resumedAt) !== undefined, 20_000);
      await until(() => t.isConnected(), 20_000);

      // A graceful restart (SIGTERM, then start again on the same port).
      const restartAt = Date.now();
      await server().restart();
      const restartedAt = Date.now();
      await until(() => reads.firstSuccessStartedAfter(restartedAt) !== undefined, 20_000);
      await sleep(300);
      await reads.stop();
      await writes.stop();

      const duringHang = reads.results.filter((r) => r.startedAt >= hungAt && r.startedAt < resumedAt);
      const longest = Math.max(...duringHang.map((r) => r.settledAt - r.startedAt));
      const [rows] = await t.execute(
        (db) => db.query<RowDataPacket[]>(`SELECT op, COUNT(*) AS n FROM ${table} GROUP BY op`),
        { idempotent: true },
      );
      const duplicated = rows.filter((r) => Number(r['n']) > 1).map((r) => Number(r['op']));
      const failedWrites = writes.results.filter((r) => !r.ok);
      const restartFailures = writes.results.filter((r) => !r.ok && r.startedAt >= restartAt).length;
      console.log(
        `hang ${resumedAt - hungAt} ms + restart, preset ${name}: reads during the hang ${duringHang.length}, longest ${longest} ms (deadline ${deadline}); writes ${writes.results.length}, acknowledged ${acked.length}, failed ${failedWrites.length} (${restartFailures} around the restart), duplicated ${duplicated.length}`,
      );
      expect(duplicated).toEqual([]);
      expect(longest).toBeLessThanOrEqual(deadline + slackMs);
      // The faults bit: reads failed under the hang, and writes failed (their outcome unknown) rather than hung.
      expect(duringHang.filter((r) => !r.ok).length).toBeGreaterThan(0);
      expect(failedWrites.length).toBeGreaterThan(0);
    }, 60_000);
  }
});
