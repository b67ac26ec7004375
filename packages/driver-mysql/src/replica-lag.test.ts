import { describe, expect, it } from 'vitest';
import { maxLagMs } from './options.js';
import { replicaLagVerdict } from './replica-lag.js';

// The verdict on a replica from its SHOW REPLICA STATUS rows (the real server's rows: test/replica-lag.test.ts).
const rule = { node: '10.0.0.2:3306', maxLagMs: 1000 };
const mariadb = (o: Record<string, unknown> = {}) => ({
  Slave_IO_Running: 'Yes',
  Slave_SQL_Running: 'Yes',
  Seconds_Behind_Master: 0,
  Last_SQL_Error: '',
  ...o,
});

describe('replicaLagVerdict', () => {
  it('within maxLag serves reads and says how far behind; beyond it, no reads, saying how far and the limit', () => {
    expect(replicaLagVerdict([mariadb({ Seconds_Behind_Master: 1 })], rule)).toEqual({
      ok: true,
      status: 'replica 10.0.0.2:3306: 1 s behind its primary (maxLag 1s)',
    });
    expect(replicaLagVerdict([mariadb({ Seconds_Behind_Master: 2 })], rule)).toEqual({
      ok: false,
      status:
        'replica 10.0.0.2:3306 is 2 s behind its primary (Seconds_Behind_Master), more than maxLag 1s: it takes no reads until it catches up',
    });
    // maxLag 0: any whole second behind is too far.
    expect(replicaLagVerdict([mariadb({ Seconds_Behind_Master: 1 })], { ...rule, maxLagMs: 0 }).ok).toBe(
      false,
    );
    expect(replicaLagVerdict([mariadb({ Seconds_Behind_Master: 0 })], { ...rule, maxLagMs: 0 }).ok).toBe(
      true,
    );
  });

  it("reads MySQL 8's Replica / Source spelling too", () => {
    const mysql8 = { Replica_IO_Running: 'Yes', Replica_SQL_Running: 'Yes', Seconds_Behind_Source: 5 };
    expect(replicaLagVerdict([mysql8], rule).status).toMatch(/is 5 s behind/);
    expect(replicaLagVerdict([{ ...mysql8, Seconds_Behind_Source: 0 }], rule).ok).toBe(true);
  });

  it('replication stopped (SQL thread, or IO thread stopped) means no reads; an IO thread reconnecting to a lost primary does not', () => {
    const sqlStopped = replicaLagVerdict(
      [mariadb({ Slave_SQL_Running: 'No', Seconds_Behind_Master: null, Last_SQL_Error: 'Duplicate entry' })],
      rule,
    );
    expect(sqlStopped.ok).toBe(false);
    expect(sqlStopped.status).toMatch(
      /^replication stopped on replica 10\.0\.0\.2:3306 \(SQL thread: No; Duplicate entry\)/,
    );
    const ioStopped = replicaLagVerdict(
      [mariadb({ Slave_IO_Running: 'No', Seconds_Behind_Master: null })],
      rule,
    );
    expect(ioStopped).toMatchObject({ ok: false });
    expect(ioStopped.status).toMatch(/\(IO thread: No\)/);
    expect(
      replicaLagVerdict([mariadb({ Slave_IO_Running: 'Connecting', Seconds_Behind_Master: null })], rule),
    ).toEqual({
      ok: true,
      status:
        'replica 10.0.0.2:3306 cannot reach its primary (IO thread Connecting): lag unknown, serving reads',
    });
  });

  it('not replicating at all, no reads; several channels, the worst decides', () => {
    expect(replicaLagVerdict([], rule)).toMatchObject({ ok: false });
    expect(replicaLagVerdict([], rule).status).toMatch(/does not replicate \(SHOW REPLICA STATUS is empty\)/);
    const two = [mariadb({ Seconds_Behind_Master: 0 }), mariadb({ Seconds_Behind_Master: 7 })];
    expect(replicaLagVerdict(two, rule).status).toMatch(/is 7 s behind/);
  });

  it('maxLagMs reads milliseconds and durations', () => {
    expect(maxLagMs(1500)).toBe(1500);
    expect(maxLagMs('2s')).toBe(2000);
    expect(maxLagMs('250ms')).toBe(250);
  });
});
