// The generated part of BENCHMARKS.md's chaos section: the command, the machine, the tables.
import { readFileSync } from 'node:fs';
import { contenders, COCKATIEL } from './contenders.js';
import { fleetContenders } from './fleet.js';
import { cell, markdownTable, storeTables } from './table.js';
import { median } from './runner.js';

const load = (l) => (l ? l.map((x) => x.toFixed(2)).join(' / ') : '?');

/** The open-files limit of this process (`ulimit -n`), from /proc. */
export function fdLimit() {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const sec = (v) => (v === null || v === undefined ? 'never' : `${(v / 1000).toFixed(2)} s`);

export function fleetTable(fleet) {
  const byName = new Map();
  for (const r of fleet) {
    if (!byName.has(r.contender)) byName.set(r.contender, []);
    byName.get(r.contender).push(r);
  }
  const m = (rs, k) => {
    const values = rs.map((r) => r[k]);
    const nums = values.filter((v) => v !== null && v !== undefined);
    return {
      median: median(values),
      min: nums.length ? Math.min(...nums) : null,
      max: nums.length === values.length ? Math.max(...nums) : null,
      values,
    };
  };
  const body = [...byName.entries()].map(([name, rs]) => [
    fleetContenders[name].title,
    cell(m(rs, 'peakPer100ms')),
    cell(m(rs, 'clientPeakPer100ms')),
    cell(m(rs, 'acceptedAfterRestart')),
    cell(m(rs, 'firstBackMs'), sec),
    cell(m(rs, 'allBackMs'), sec),
    cell(m(rs, 'neverBack')),
    sec(fleetContenders[name].capMs),
  ]);
  return markdownTable(
    [
      'clients',
      'peak accepted / 100 ms (server)',
      'peak reconnected / 100 ms (clients)',
      'connections accepted after restart',
      'first back',
      'all back',
      'never back',
      'backoff cap',
    ],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    body,
  );
}

export function renderSection({ command, chaos, fleet, runs }) {
  const out = [];
  out.push('## Chaos: every store through real faults (`npm run bench:chaos`)');
  out.push('');
  out.push(
    'Command: `npm run bench:chaos` (= `tsc -b && node bench/chaos/run.js`: 3 runs of every store × fault × contender, then 3 fleet runs of each kind of client; `--runs N`, `--store`, `--fault`, `--contender`, `--fleet only|skip`, `--fleet-contender`, `--from saved.json` to re-render; a full unfiltered run rewrites this section between its markers). ' +
      `These figures: \`${command}\`. Not part of \`npm test\`; its tiny mode is (\`examples/chaos/test/chaos-tiny.test.ts\`: bookkeeping, and a contender that sends every write twice is reported with duplicates).`,
  );
  out.push('');
  if (chaos) {
    const t = chaos.machine.timing;
    out.push(
      `Setup: Node ${chaos.machine.node}, ${chaos.machine.cpu}, ${chaos.machine.cpus} cores shared with other work (load average ${load(chaos.machine.loadBefore)} before, ${load(chaos.machine.loadAfter)} after, 1 / 5 / 15 min; the 1-minute load ranged ${chaos.machine.load1Min?.toFixed(2)}–${chaos.machine.load1Max?.toFixed(2)} across the runs), open-files limit ${fdLimit() ?? '?'}, loopback only; ${new Date(chaos.machine.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${(chaos.machine.durationMs / 60000).toFixed(1)} min. ` +
        `Each cell is the median of ${runs} run(s), the spread (min–max) in brackets when the runs differ. Every contender runs alone against its own throwaway server(s), started fresh for each run: Redis with AOF (\`appendfsync always\`), MariaDB (InnoDB), the testkit's 3-node Elasticsearch-protocol cluster (a stand-in, not Lucene: the documents live in its coordinator). ` +
        `Workload: an idempotent read every ${t.readEveryMs} ms and a non-idempotent write of a unique id every ${t.writeEveryMs} ms (Redis \`GET\` / \`RPUSH\`, MariaDB \`SELECT\` / \`INSERT\`, ES \`GET _doc\` / \`POST _doc\`), issued on schedule whatever the earlier ones did; ${t.warmMs / 1000} s before the fault, the fault ${t.faultMs / 1000} s (the restart loop: ${t.loopCycles} × (SIGKILL, ${t.loopDownMs} ms down, restart, ${t.loopUpMs} ms up), then SIGKILL and ${t.faultMs / 1000} s down), ${t.tailMs / 1000} s after the server is back, then up to ${t.drainMs / 1000} s for what is still in flight; then the writes are counted on the server.`,
    );
    out.push('');
    out.push(
      `Contenders: **raw client** at its defaults (ioredis, a mysql2 pool, \`@elastic/elasticsearch\` with all three nodes); **raw + cockatiel**: the same client with cockatiel 3's \`retry(handleAll, { maxAttempts: ${COCKATIEL.maxAttempts}, ExponentialBackoff 100 ms–1 s })\` around \`timeout(${COCKATIEL.timeoutMs} ms, Aggressive)\` on every call, as users glue it; **Reconnect** with the store's preset (\`preset:redis\`, \`preset:mysql\`, \`preset:elasticsearch\`, no overrides) and with \`preset:fast-failover\`; reads declared idempotent, writes not.`,
    );
    out.push('');
    out.push(
      'Columns: _writes … (unknown)_: failed writes whose error said `outcome: unknown` (the write may have run; Reconnect never replays it); _acked writes lost_: writes the client acknowledged that the server does not hold; _writes duplicated_: extra copies of a write id on the server; _p99_, _longest op_: over every operation of the run (one still waiting counts until the end); _past deadline_: operations longer than the contender’s own bound (Reconnect: `retry.deadline` + 250 ms timer slack + the longest event-loop stall; cockatiel: 4 attempts × 1 s + 3 × 1 s backoff) — the raw clients promise none; _never settled_: callers still waiting when the run ended; _detected after_: from the fault to the first sign (Reconnect: the target leaves `connected`, a retry, a node declared dead or a give-up; cockatiel: its first retry; raw: its first failed operation), `never` when there was none before the server was back + 2 s; _server back → 1st success_: from the moment the server accepts connections again to the first operation that succeeds after it.',
    );
    for (const s of storeTables(chaos.groups)) {
      out.push('');
      out.push(`### ${s.title}`);
      out.push('');
      out.push(s.table);
    }
    const problems = chaos.groups.flatMap((g) => g.problems);
    out.push('');
    out.push(
      problems.length === 0
        ? 'Bookkeeping: every issued operation is accounted for as ok, failed or still waiting, and every id on the servers is one the lane wrote (checked per run).'
        : `Bookkeeping problems: ${problems.join('; ')}.`,
    );
  }
  if (fleet.length > 0) {
    const f = fleet[0];
    out.push('');
    out.push('### The fleet after a restart');
    out.push('');
    out.push(
      `${f.count} clients in one Node process against one throwaway Redis (no persistence), killed (SIGKILL) and restarted on the same port after ${f.downMs / 1000} s; each kind of client alone, ${Math.max(...fleet.map((r) => r.run))} run(s) each, median (min–max); 1-minute load average ${Math.min(...fleet.map((r) => r.load1)).toFixed(2)}–${Math.max(...fleet.map((r) => r.load1)).toFixed(2)} during these runs. ` +
        `_Peak accepted / 100 ms (server)_: the largest rise of the restarted server’s own \`INFO stats total_connections_received\`, sampled every 100 ms by the benchmark over one connection of its own (normalised to 100 ms when a sample came late; the sampler’s and the readiness check’s connections are taken off); _peak reconnected / 100 ms (clients)_: the most clients connected again within one 100 ms bin, as the clients reported it; _first back_ / _all back_: from the restart command (the server takes ~${median(fleet.map((r) => r.restartReadyMs))} ms to answer its readiness check) until the first / last client was connected again. Open-files limit ` +
        `${fdLimit() ?? '?'}; the clients run in a child process so the sampling is not delayed by their work. The Reconnect targets are idle (no operations), so only their reconnect schedule (\`reconnect.backoff\`) decides when they come back; the backoff cap is that schedule's longest wait.`,
    );
    out.push('');
    out.push(fleetTable(fleet));
  }
  return out.join('\n');
}

export { contenders };
