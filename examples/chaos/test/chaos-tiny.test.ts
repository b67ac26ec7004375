import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChaosBench, type BenchRun } from './run-bench.js';

// The gating run of `npm run bench:chaos`: the real runner (bench/chaos/run.js) in its tiny mode, as a
// subprocess against its own throwaway Redis, through one crash, with three contenders: the raw client,
// Reconnect with preset:redis, and a raw client that sends every write twice (broken on purpose). The
// assertions are the runner's bookkeeping, not timings: the machine is shared.

const dir = mkdtempSync(path.join(tmpdir(), 'reconnect-chaos-'));
const jsonFile = path.join(dir, 'chaos.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  store: string;
  fault: string;
  contender: string;
  issued: { reads: number; writes: number };
  stillWaitingByKind: { reads: number; writes: number };
  figures: {
    reads: { ok: number; failed: number };
    writes: { ok: number; failed: number; unknown: number; failedLanded: number };
    serverWrites: number;
    duplicated: number;
    lostAcknowledged: number;
  };
  ok: number;
  failed: number;
  duplicated: number;
  lost: number;
  neverSettled: number;
  p99Ms: number;
  longestMs: number;
  distinctServerIds: number;
  foreignServerIds: number;
  problems: string[];
}
interface Group {
  contender: string;
  runs: number;
  metrics: Record<string, { median: number | null; values: (number | null)[] }>;
}
let run: BenchRun;
let results: Result[];
let groups: Group[];

beforeAll(async () => {
  run = await runChaosBench(
    [
      '--tiny',
      '--store',
      'redis',
      '--fault',
      'crash',
      '--contender',
      'raw,preset,replay',
      '--json',
      jsonFile,
      '--no-write',
    ],
    100_000,
  );
  if (run.code !== 0) console.error(`bench:chaos exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as {
    chaos: { results: Result[]; groups: Group[] };
  };
  results = json.chaos.results;
  groups = json.chaos.groups;
}, 120_000);

const byContender = (c: string): Result => {
  const r = results.find((x) => x.contender === c);
  if (!r) throw new Error(`no result for ${c}`);
  return r;
};

describe('npm run bench:chaos --tiny', () => {
  it('runs every contender once through the crash and exits 0 (no bookkeeping problem)', () => {
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(results.map((r) => `${r.store}/${r.fault}/${r.contender}`)).toEqual([
      'redis/crash/raw',
      'redis/crash/preset',
      'redis/crash/replay',
    ]);
    expect(run.stdout).toMatch(/### Redis/);
    expect(run.stdout).toMatch(/\| crash \(SIGKILL\) \+ restart +\| raw client replaying every write/);
  });

  it('accounts for every operation: ok, failed or still waiting, and every id on the server', () => {
    for (const r of results) {
      expect(r.problems, r.contender).toEqual([]);
      expect(r.issued.reads).toBeGreaterThan(10);
      expect(r.issued.writes).toBeGreaterThan(5);
      for (const kind of ['reads', 'writes'] as const) {
        expect(r.figures[kind].ok + r.figures[kind].failed + r.stillWaitingByKind[kind]).toBe(r.issued[kind]);
      }
      expect(r.ok + r.failed + r.neverSettled).toBe(r.issued.reads + r.issued.writes);
      expect(r.foreignServerIds).toBe(0);
      expect(r.distinctServerIds + r.duplicated).toBe(r.figures.serverWrites);
      // Every acknowledged write is on the server (AOF, appendfsync always) unless counted as lost.
      expect(r.distinctServerIds).toBeGreaterThanOrEqual(r.figures.writes.ok - r.lost);
      expect(r.longestMs).toBeGreaterThanOrEqual(r.p99Ms);
    }
  });

  it('catches the contender that replays every write: duplicates > 0, one per acknowledged write', () => {
    const replay = byContender('replay');
    expect(replay.duplicated).toBeGreaterThan(0);
    expect(replay.duplicated).toBeGreaterThanOrEqual(replay.figures.writes.ok);
    expect(run.stdout).toMatch(/redis crash replay: .* dup [1-9]/);
  });

  it('Reconnect duplicates and loses nothing, and every caller settles', () => {
    const r = byContender('preset');
    expect(r.duplicated).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.neverSettled).toBe(0);
  });

  it('aggregates one group per contender, medians over the runs', () => {
    expect(groups.map((g) => g.contender).sort()).toEqual(['preset', 'raw', 'replay']);
    for (const g of groups) {
      expect(g.runs).toBe(1);
      const r = byContender(g.contender);
      expect(g.metrics.duplicated!.median).toBe(r.duplicated);
      expect(g.metrics.ok!.median).toBe(r.ok);
    }
  });
});
