import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChaosBench, type BenchRun } from './run-bench.js';

// The fault matrix's short form for CI (issue #24): the real runner (`bench:chaos --matrix --tiny`) as a
// subprocess, the faults the first matrix run added beyond crash/hang/blackhole/restart loop, each applied
// to its own throwaway Redis and MariaDB under the steady read/write load, through a target with the store
// preset. The full matrix (every fault, longer faults) is `npm run bench:chaos -- --matrix`, which writes
// docs/faults.md. The assertions are the promises, not timings: the machine is shared.

const dir = mkdtempSync(path.join(tmpdir(), 'reconnect-matrix-'));
const jsonFile = path.join(dir, 'matrix.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const faults = [
  'reply-lost',
  'kill-connections',
  'password-rotated',
  'readonly',
  'table-locked',
  'loading',
  'misconf',
  'deadlock',
  'gone-away',
  'tls-wrong-ca',
  'dns-switch',
  'es-cluster-block',
  'es-bulk-node-leaves',
];
/**
 * Faults that count what they did on the server (kills, deadlocks, LOADING replies, connections the moved name
 * brought to the new address, requests a rule answered), as the target may not show it.
 */
const countedFaults = [
  'kill-connections',
  'loading',
  'deadlock',
  'gone-away',
  'tls-wrong-ca',
  'dns-switch',
  'es-cluster-block',
  'es-bulk-node-leaves',
];

interface ErrorDetail {
  code: string;
  kind?: string;
  outcome?: string;
  count: number;
  message?: string;
}
interface Result {
  store: string;
  fault: string;
  duplicated: number;
  lost: number;
  notSentLanded: number;
  neverSettled: number;
  pastDeadline: number | null;
  readsOk: number;
  leftConnected: number;
  detectMs: number | null;
  faultActed: number | null;
  problems: string[];
  errorDetail: ErrorDetail[];
}
let run: BenchRun;
let results: Result[];

beforeAll(async () => {
  run = await runChaosBench(
    ['--matrix', '--tiny', '--fault', faults.join(','), '--json', jsonFile, '--no-write'],
    230_000,
  );
  const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as { chaos: { results: Result[] } };
  results = json.chaos.results;
}, 240_000);

describe('npm run bench:chaos -- --matrix --tiny (the fault matrix, CI form)', () => {
  it('applies each fault to each store that has it, and every cell ran', () => {
    expect(results.map((r) => `${r.store}/${r.fault}`).sort()).toEqual(
      [
        'elasticsearch/es-bulk-node-leaves',
        'elasticsearch/es-cluster-block',
        'mysql-tls/tls-wrong-ca',
        'mysql/dns-switch',
        'mysql/deadlock',
        'mysql/gone-away',
        'mysql/kill-connections',
        'mysql/password-rotated',
        'mysql/readonly',
        'mysql/reply-lost',
        'mysql/table-locked',
        'redis-tls/tls-wrong-ca',
        'redis/dns-switch',
        'redis/kill-connections',
        'redis/loading',
        'redis/misconf',
        'redis/password-rotated',
        'redis/readonly',
        'redis/reply-lost',
      ].sort(),
    );
  });

  it('each fault happened: a cell whose fault never took effect would prove nothing', () => {
    for (const r of results) {
      const cell = `${r.store}/${r.fault}`;
      // Killed connections, deadlocks, LOADING seen: counted by the fault itself, on the server (a pool may
      // replace killed connections unseen, the target retries a deadlock victim).
      if (countedFaults.includes(r.fault)) expect(r.faultActed, cell).toBeGreaterThan(0);
      // The others show on the client side: the target left connected or noticed, or a caller was refused.
      else if (r.fault !== 'table-locked')
        expect(r.leftConnected + r.errorDetail.length + (r.detectMs === null ? 0 : 1), cell).toBeGreaterThan(
          0,
        );
    }
  });

  it('keeps every promise in every cell: the runner exits 0 and says so', () => {
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const r of results) {
      const cell = `${r.store}/${r.fault}`;
      expect(r.problems, cell).toEqual([]);
      expect(r.duplicated, cell).toBe(0);
      expect(r.lost, cell).toBe(0);
      expect(r.notSentLanded, cell).toBe(0);
      expect(r.neverSettled, cell).toBe(0);
      expect(r.pastDeadline, cell).toBe(0);
      expect(r.readsOk, cell).toBeGreaterThan(0);
    }
  });

  it('every failure a caller saw is classified and says why', () => {
    for (const r of results)
      for (const e of r.errorDetail) {
        const cell = `${r.store}/${r.fault} ${e.code}`;
        expect(e.message, cell).toBeTruthy();
        // A Reconnect error carries its outcome; the driver's own errors reach callers unchanged on a first attempt.
        if (e.code.startsWith('ERR_')) expect(['not_sent', 'unknown', 'failed'], cell).toContain(e.outcome);
      }
  });

  it('a write refused by a read-only MariaDB (the workload an application account) says why: 1290, --read-only', () => {
    const readonly = results.find((r) => r.store === 'mysql' && r.fault === 'readonly');
    const messages = (readonly?.errorDetail ?? []).map((e) => e.message ?? '');
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatch(/ER_OPTION_PREVENTS_STATEMENT|read-only/);
  });

  it('a write refused by a Redis that cannot persist says MISCONF', () => {
    const misconf = results.find((r) => r.store === 'redis' && r.fault === 'misconf');
    const messages = (misconf?.errorDetail ?? []).map((e) => e.message ?? '');
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatch(/MISCONF/);
  });

  it('a certificate from an untrusted CA: no reconnect storm, and what callers saw says why', () => {
    for (const store of ['redis-tls', 'mysql-tls']) {
      const r = results.find((x) => x.store === store && x.fault === 'tls-wrong-ca');
      // Connection attempts the proxy accepted during the 1 s fault: at most one per operation issued meanwhile
      // (the tiny load is 30 operations a second), not a tight loop.
      expect(r?.faultActed, store).toBeLessThanOrEqual(30);
      for (const e of r?.errorDetail ?? [])
        if (e.code !== 'ERR_OUTCOME_UNKNOWN')
          expect(e.message, `${store} ${e.code}`).toMatch(/certificate|CERTIFICATE|TLS|deadline|timed out/);
    }
  });

  it('a write refused by a read-only Redis reaches the caller saying READONLY', () => {
    const readonly = results.find((r) => r.store === 'redis' && r.fault === 'readonly');
    const messages = (readonly?.errorDetail ?? []).map((e) => e.message ?? '');
    // The fault took effect: writes were refused (a readonly that refused nothing would pass the loop below).
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatch(/READONLY/);
  });
});
