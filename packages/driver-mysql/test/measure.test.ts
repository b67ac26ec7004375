import { writeFileSync } from 'node:fs';
import { resolvePolicy, worstCaseDetectionMs, type Target } from '@reconnect/core';
import { startMariaDB, useServer } from '@reconnect/testkit';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { MySqlPool } from '../src/index.js';
import {
  control,
  mysqlTarget,
  opStream,
  preset,
  sleep,
  until,
  whenAccepting,
  type OpResult,
} from './helpers.js';

// Measures raw mysql2 at its defaults and this driver under two presets against the same throwaway
// MariaDB in the same run — a 3 s crash, a 5 s hang, a graceful restart — and prints the table the README
// quotes. Opt-in (RECONNECT_MEASURE=1): it takes about a minute.
// The promises its assertions guard run in the normal suite in a short form: no write runs twice through a crash
// (acceptance.test.ts), a hang and a graceful restart, and no operation waits past its deadline under a hang
// (hang-and-restart.test.ts), with each preset. Here the 5 s hang is shorter than preset:mysql's 10 s deadline.
const enabled = process.env['RECONNECT_MEASURE'] === '1';
const crashMs = 3000;
const hangMs = 5000;

interface Phase {
  failed: string;
  longest: number;
  firstSuccess: number | undefined;
}
interface Row {
  client: string;
  crash: Phase;
  hang: Phase & { detected: number | undefined };
  restart: Phase;
  writes: { acked: number; notSent: number; unknown: number; duplicated: number; lost: number };
  bound: number | undefined;
}

type Runner = {
  read: () => Promise<unknown>;
  write: (op: number) => Promise<unknown>;
  isDown: () => boolean;
  close: () => Promise<void>;
};

const fmt = (n: number | undefined) => (n === undefined ? 'never' : `${n} ms`);

describe.skipIf(!enabled)('measured: raw mysql2 defaults vs the driver, same crash, hang and restart', () => {
  const server = useServer(() => startMariaDB());
  const rows: Row[] = [];

  function phase(results: OpResult[], from: number, until_: number, accepted: number | undefined): Phase {
    const ops = results.filter((r) => r.startedAt >= from - 50 && r.startedAt < until_);
    const firstOk = results
      .filter((r) => r.ok && accepted !== undefined && r.settledAt >= accepted)
      .map((r) => r.settledAt);
    return {
      failed: `${ops.filter((r) => !r.ok).length}/${ops.length}`,
      // Operations still waiting when the phase ends count up to then (raw mysql2 in a hang: never failed).
      longest: Math.max(0, ...ops.map((r) => Math.min(r.settledAt, until_ + 10_000) - r.startedAt)),
      firstSuccess:
        firstOk.length === 0 || accepted === undefined ? undefined : Math.min(...firstOk) - accepted,
    };
  }

  async function measure(client: string, table: string, make: () => Promise<Runner>, bound?: number) {
    const admin = await control(server().port);
    await admin.query(`CREATE TABLE ${table} (op INT NOT NULL)`);
    await admin.end();
    const r = await make();
    const acked = new Set<number>();
    const notSent = new Set<number>();
    const unknown = new Set<number>();
    try {
      const reads = opStream(20, () => r.read());
      const writes = opStream(40, (i) =>
        r.write(i).then(
          () => acked.add(i),
          (e: unknown) => {
            // The driver says whether a failed write may have run; raw mysql2 cannot, except ECONNREFUSED.
            const outcome = (e as { outcome?: string; code?: string }).outcome;
            if (outcome === 'not_sent' || (e as { code?: string }).code === 'ECONNREFUSED') notSent.add(i);
            else unknown.add(i);
            throw e;
          },
        ),
      );
      await sleep(300);
      // Crash for 3 s, then restart.
      const killedAt = Date.now();
      await server().kill();
      await sleep(crashMs);
      const accepting = whenAccepting(server().port);
      await server().restart();
      let acceptedAt = await accepting.at;
      await until(() => reads.firstSuccessAfter(acceptedAt) !== undefined, 20_000).catch(() => undefined);
      const crashEnd = Date.now();
      await sleep(500);
      const crash = phase(reads.results, killedAt, crashEnd, acceptedAt);
      await until(() => !r.isDown(), 20_000).catch(() => undefined);
      await sleep(300);
      // Hang for 5 s, then resume.
      const hungAt = Date.now();
      await server().hang();
      let detected: number | undefined;
      const poll = setInterval(() => {
        if (detected === undefined && r.isDown()) detected = Date.now() - hungAt;
      }, 5);
      await sleep(hangMs);
      clearInterval(poll);
      const resumedAt = Date.now();
      await server().resume();
      await until(() => reads.firstSuccessStartedAfter(resumedAt) !== undefined, 40_000).catch(
        () => undefined,
      );
      const hang = { ...phase(reads.results, hungAt, resumedAt, resumedAt), detected };
      await until(() => !r.isDown(), 20_000).catch(() => undefined);
      await sleep(300);
      // A graceful restart (SIGTERM, start again on the same port); measured from when it is ready again.
      const restartAt = Date.now();
      await server().restart();
      acceptedAt = Date.now();
      await until(() => reads.firstSuccessAfter(acceptedAt) !== undefined, 20_000).catch(() => undefined);
      const restart = phase(reads.results, restartAt, Date.now(), acceptedAt);
      await sleep(500);
      await reads.stop();
      await writes.stop();
      const check = await control(server().port);
      const [counted] = await check.query<RowDataPacket[]>(
        `SELECT op, COUNT(*) AS n FROM ${table} GROUP BY op`,
      );
      await check.end();
      const stored = new Map(counted.map((x) => [Number(x['op']), Number(x['n'])]));
      rows.push({
        client,
        crash,
        hang,
        restart,
        writes: {
          acked: acked.size,
          duplicated: [...stored.values()].filter((n) => n > 1).length,
          lost: [...acked].filter((op) => !stored.has(op)).length,
          notSent: notSent.size,
          unknown: unknown.size,
        },
        bound,
      });
      const kinds = new Map<string, number>();
      for (const x of reads.results.filter((y) => !y.ok)) {
        const e = x.error as { code?: string | number; name?: string };
        const k = String(e.code ?? e.name ?? 'unknown');
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      console.log(`${client}: read errors ${[...kinds].map(([k, n]) => `${k}×${n}`).join(', ')}`);
    } finally {
      await r.close();
    }
  }

  it('raw mysql2 3.24 at its defaults', { timeout: 120_000 }, async () => {
    await measure('raw mysql2 3.24 pool (defaults)', 'm_raw', () => {
      const pool = mysql.createPool({
        host: '127.0.0.1',
        port: server().port,
        user: 'root',
        database: 'test',
      });
      pool.on('connection', (c) => c.on('error', () => undefined));
      return Promise.resolve({
        read: () => pool.query('SELECT 1'),
        write: (op) => pool.query('INSERT INTO m_raw (op) VALUES (?)', [op]),
        isDown: () => false,
        close: async () => {
          await Promise.race([pool.end().catch(() => undefined), sleep(2000)]);
        },
      });
    });
    expect(rows.at(-1)?.hang.detected).toBeUndefined();
  });

  for (const name of ['mysql', 'fast-failover'] as const) {
    it(`driver, preset ${name}`, { timeout: 120_000 }, async () => {
      const policy = resolvePolicy(preset(name));
      await measure(
        `driver, preset:${name}`,
        `m_${name.replace('-', '_')}`,
        async () => {
          const t: Target<MySqlPool> = mysqlTarget(
            { port: server().port, user: 'root', database: 'test' },
            preset(name),
          );
          await t.start();
          const table = `m_${name.replace('-', '_')}`;
          return {
            read: () => t.execute((db) => db.query('SELECT 1'), { idempotent: true }),
            write: (op) => t.execute((db) => db.query(`INSERT INTO ${table} (op) VALUES (?)`, [op])),
            isDown: () => !t.isConnected(),
            close: () => t.stop(),
          };
        },
        worstCaseDetectionMs(policy.healthCheck),
      );
      const row = rows.at(-1)!;
      expect(row.writes.duplicated).toBe(0);
      expect(row.hang.longest).toBeLessThanOrEqual(policy.retry.deadline + 150);
    });
  }

  it('prints the table', () => {
    const table = [
      `| client | crash ${crashMs / 1000} s: failed reads | crash: longest op | crash: first success after MariaDB accepts | hang ${hangMs / 1000} s: detected after (bound) | hang: longest op | hang: failed reads | hang: first success after resume | restart: failed reads | restart: first success after accept | writes: acknowledged / failed, not sent / failed, may have run / duplicated / acknowledged but lost |`,
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.client} | ${r.crash.failed} | ${r.crash.longest} ms | ${fmt(r.crash.firstSuccess)} | ${fmt(r.hang.detected)}${r.bound === undefined ? '' : ` (≤ ${Math.round(r.bound)} ms)`} | ${r.hang.longest} ms | ${r.hang.failed} | ${fmt(r.hang.firstSuccess)} | ${r.restart.failed} | ${fmt(r.restart.firstSuccess)} | ${r.writes.acked} / ${r.writes.notSent} / ${r.writes.unknown} / ${r.writes.duplicated} / ${r.writes.lost} |`,
      ),
    ].join('\n');
    console.log(table);
    if (process.env['RECONNECT_REPORT_DIR'])
      writeFileSync(`${process.env['RECONNECT_REPORT_DIR']}/mysql-measured.md`, table + '\n');
    expect(rows.length).toBe(3);
  });
});
