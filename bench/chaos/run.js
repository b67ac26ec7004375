// `npm run bench:chaos` (= tsc -b && node bench/chaos/run.js): the chaos benchmark of issue #15.
//   node bench/chaos/run.js [--runs N] [--tiny] [--store redis,mysql,elasticsearch]
//        [--fault crash,hang,blackhole,restart-loop,node-down] [--contender raw,cockatiel,preset,fast,keys,durable]
//        [--fleet only|skip] [--fleet-count 1000] [--fleet-down 3000] [--fleet-contender raw,redis,redis-no-jitter,fast]
//        [--fleet-store redis|mysql]  mysql: the MariaDB fleet of issue #26 instead (fleet-mysql.js; contenders
//                                    raw,mysql,mysql-unpaced; a 30 s outage); its table is printed, not written to BENCHMARKS.md
//        [--json FILE] [--write | --no-write]
//        [--matrix]                  the fault matrix of issue #24: the testkit's fault catalogue × stores, preset; writes docs/faults.md
//        [--rate 60,200,1000,5000]   the sweep of issue #29: the same faults at these operation rates (two reads to one
//                                    write), contenders preset by default, one run; its own section of BENCHMARKS.md
//        [--slow [all|server,node,mysql-replica,redis-replica]]  the slow faults of issue #28 instead: the only server
//                                    slowed 10× (bench/slow/run.js), one Elasticsearch node of three (node.js), one MySQL
//                                    replica of two (mysql-replica.js), one Redis Cluster replica (redis-replica.js),
//                                    each as its own npm script (bench:slow, bench:slow-node, …) runs it
// Prints the tables; writes the raw results as JSON (default bench/chaos/last-run.json) and, for a full
// unfiltered run (or with --write), the chaos section of BENCHMARKS.md (between its markers).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cleanupAll } from '@reconnect/testkit';
import { contenders, defaultContenders } from './contenders.js';
import { defaultFleet, fleetContenders, runFleet } from './fleet.js';
import { defaultMysqlFleet, mysqlFleetContenders, renderMysqlFleet, runMysqlFleet } from './fleet-mysql.js';
import { aggregate, runChaos } from './runner.js';
import { allFaultNames, faultNames, stores } from './stores.js';
import { renderSection } from './section.js';
import { brokenPromises, renderFaultsDoc } from './matrix.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    tiny: { type: 'boolean', default: false },
    store: { type: 'string' },
    fault: { type: 'string' },
    contender: { type: 'string' },
    fleet: { type: 'string' },
    'fleet-count': { type: 'string' },
    'fleet-down': { type: 'string' },
    'fleet-contender': { type: 'string' },
    'fleet-store': { type: 'string', default: 'redis' },
    json: { type: 'string' },
    from: { type: 'string' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
    rate: { type: 'string' },
    matrix: { type: 'boolean', default: false },
    slow: { type: 'string' },
  },
});
const list = (v, all) => (v === undefined ? all : v.split(',').map((s) => s.trim()));
const runs = Number(values.runs ?? (values.tiny ? 1 : 3));
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number ≥ 1');
const storeNames = list(values.store, Object.keys(stores));
const faultFilter = list(values.fault, values.matrix ? allFaultNames : faultNames);
const contenderNames = list(values.contender, defaultContenders);
const mysqlFleet = values['fleet-store'] === 'mysql';
if (!mysqlFleet && values['fleet-store'] !== 'redis') throw new Error('--fleet-store takes redis or mysql');
const fleetNames = list(values['fleet-contender'], mysqlFleet ? defaultMysqlFleet : defaultFleet);
for (const n of fleetNames)
  if (!(mysqlFleet ? mysqlFleetContenders : fleetContenders)[n])
    throw new Error(`unknown fleet contender "${n}"`);
for (const n of contenderNames) if (!contenders[n]) throw new Error(`unknown contender "${n}"`);
const fleetMode = values.fleet ?? (values.tiny ? 'skip' : 'run');
const fleetCount = Number(values['fleet-count'] ?? (values.tiny ? 50 : 1000));
// --fleet-down MS: how long the server stays down (the Redis fleet; default 3 s).
const fleetDown = values['fleet-down'] === undefined ? {} : { downMs: Number(values['fleet-down']) };
const filtered =
  values.store !== undefined ||
  values.fault !== undefined ||
  values.contender !== undefined ||
  values['fleet-contender'] !== undefined ||
  values.fleet !== undefined ||
  mysqlFleet;
const write = values['no-write'] ? false : (values.write ?? (!filtered && !values.tiny));

process.once('SIGINT', () => {
  process.stdout.write('\n✗ interrupted: every throwaway server is being stopped\n');
  process.exit(130);
});
const say = (line) => process.stdout.write(`${line}\n`);

if (values.slow !== undefined) {
  slowFaults(values.slow);
  process.exit(process.exitCode ?? 0);
}
if (values.rate !== undefined) {
  await sweep();
  process.exit(process.exitCode ?? 0);
}
if (values.matrix) {
  await matrix();
  process.exit(process.exitCode ?? 0);
}

let chaos;
let fleet = [];
let command = `npm run bench:chaos${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const jsonFile = path.resolve(values.json ?? path.join(here, 'last-run.json'));
const save = () =>
  writeFileSync(jsonFile, `${JSON.stringify({ command, machine: chaos?.machine, chaos, fleet }, null, 2)}\n`);
if (values.from !== undefined) {
  // Render saved results (one file, or a chaos file and a fleet file) without running anything.
  const saved = values.from.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')));
  chaos = saved.find((j) => j.chaos)?.chaos;
  fleet = saved.flatMap((j) => j.fleet ?? []);
  command = saved.map((j) => j.command).join('`, then `');
} else {
  say(
    `${command}: ${os.cpus().length} cores, Node ${process.version}, load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}`,
  );
  try {
    if (fleetMode !== 'only') {
      chaos = await runChaos({ runs, tiny: values.tiny, storeNames, faultFilter, contenderNames, log: say });
      save();
    }
    if (fleetMode !== 'skip') {
      for (let i = 0; i < runs; i++) {
        for (const n of fleetNames) {
          const run = mysqlFleet ? runMysqlFleet : runFleet;
          fleet.push({
            ...(await run({ contender: n, count: fleetCount, ...fleetDown, log: say })),
            run: i + 1,
          });
          save();
        }
      }
    }
  } finally {
    await cleanupAll();
  }
}

const mysqlResults = fleet.filter((r) => r.store === 'mysql');
if (mysqlResults.length > 0) say(`\n${renderMysqlFleet(mysqlResults)}`);
const section = renderSection({
  command,
  chaos,
  fleet: fleet.filter((r) => r.store !== 'mysql'),
  runs: chaos?.machine.runs ?? runs,
});
// A MariaDB fleet run alone has nothing for the chaos section.
if (!mysqlFleet || chaos !== undefined) say(`\n${section}`);
if (values.from === undefined) {
  save();
  say(`results: ${jsonFile}`);
}
if (write) {
  const file = path.join(here, '..', '..', 'BENCHMARKS.md');
  const md = readFileSync(file, 'utf8');
  const start = '<!-- bench:chaos:start -->';
  const end = '<!-- bench:chaos:end -->';
  const block = `${start}\n\n${section}\n\n${end}`;
  const a = md.indexOf(start);
  const b = md.indexOf(end);
  const next =
    a >= 0 && b > a ? md.slice(0, a) + block + md.slice(b + end.length) : `${md.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
  say(`wrote the chaos section of ${file}`);
}
const problems = (chaos?.groups ?? []).flatMap((g) => g.problems);
if (problems.length > 0) {
  say(`✗ bookkeeping problems:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exitCode = 1;
}
setTimeout(() => {
  console.error(
    `! a handle kept the process alive 3 s after the benchmark ended (${process.getActiveResourcesInfo().join(', ')}); exiting`,
  );
  process.exit(process.exitCode ?? 0);
}, 3000).unref();

/** `--rate`: every store × fault at each rate, the sweep's table, and its own section of BENCHMARKS.md. */
async function sweep() {
  const rates = values.rate.split(',').map((r) => Number(r.trim()));
  for (const r of rates) if (!(r > 0)) throw new Error(`--rate takes operations per second > 0, not "${r}"`);
  const names = list(values.contender, ['preset']);
  const sweepRuns = Number(values.runs ?? 1);
  const cmd = `npm run bench:chaos -- ${process.argv.slice(2).join(' ')}`;
  say(
    `${cmd}: ${os.cpus().length} cores, Node ${process.version}, load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}`,
  );
  const all = [];
  try {
    const r = await runChaos({
      runs: sweepRuns,
      storeNames,
      faultFilter,
      contenderNames: names,
      rates,
      log: say,
    });
    all.push(...r.groups.sort((a, b) => a.rate - b.rate));
  } finally {
    await cleanupAll();
  }
  const cell = (m) => (m.median === null || m.median === undefined ? '—' : String(m.median));
  const rows = all.map((g) => {
    const m = g.metrics;
    return `| ${g.rate} | ${g.store} | ${g.fault} | ${g.contender} | ${cell(m.issuedPerSec)} | ${cell(m.duplicated)} | ${cell(m.lost)} | ${cell(m.pastDeadline)} | ${cell(m.readsFailedWithinDeadline)} | ${cell(m.failedAfterBack)} | ${cell(m.writesUnknown)} | ${cell(m.skipped)} | ${cell(m.heapMaxMB)} |`;
  });
  const bad = all.filter((g) => {
    const m = g.metrics;
    return [m.duplicated, m.lost, m.pastDeadline, m.readsFailedWithinDeadline, m.failedAfterBack].some(
      (x) => (x.max ?? 0) > 0,
    );
  });
  const section = [
    '## Faults under load: the chaos sweep (issue #29)',
    '',
    `Command: \`${cmd}\`. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}, Node ${process.version}, measured ${new Date().toISOString().slice(0, 10)}; ${sweepRuns} run(s) per cell (median). Each cell: one target (the contender), a throwaway server, the fault for 3 s after 1 s of load, 3 s of tail; two idempotent reads to one non-idempotent write of a unique id, issued open-loop at the rate.`,
    '',
    'Columns: issued (ops/s actually issued), duplicated and lost acknowledged writes (on the server), past deadline (callers answered later than their deadline + slack), reads failed within deadline (idempotent reads that failed although their deadline outlasted the outage by 1 s), failed after back (operations issued 1 s or more after the server was back that failed), unknown writes, skipped (the workload stopped issuing: too many pending), heap high-water of the process (MB).',
    '',
    '| rate | store | fault | contender | issued | duplicated | lost | past deadline | reads failed within deadline | failed after back | unknown writes | skipped | heap MB |',
    '| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    bad.length === 0
      ? 'Every promise held in every cell.'
      : `Promises broken in ${bad.length} cell(s): ${bad.map((g) => `${g.store} ${g.fault} at ${g.rate}/s`).join('; ')}.`,
  ].join('\n');
  say(`\n${section}`);
  writeFileSync(
    path.resolve(values.json ?? path.join(here, 'last-sweep.json')),
    `${JSON.stringify({ command: cmd, groups: all }, null, 2)}\n`,
  );
  if (!values['no-write']) {
    const file = path.join(here, '..', '..', 'BENCHMARKS.md');
    const md = readFileSync(file, 'utf8');
    const start = '<!-- bench:chaos-sweep:start -->';
    const end = '<!-- bench:chaos-sweep:end -->';
    const block = `${start}\n\n${section}\n\n${end}`;
    const a = md.indexOf(start);
    const b = md.indexOf(end);
    writeFileSync(
      file,
      a >= 0 && b > a ? md.slice(0, a) + block + md.slice(b + end.length) : `${md.trimEnd()}\n\n${block}\n`,
    );
    say(`wrote the sweep section of ${file}`);
  }
  if (bad.length > 0) process.exitCode = 1;
}

/**
 * `--matrix`: every fault of the testkit's catalogue (and the restart loop) × every store that has them, with the
 * store preset (`--contender` to change), one run by default; writes docs/faults.md for an unfiltered run.
 */
async function matrix() {
  const names = values.contender === undefined ? ['preset'] : contenderNames;
  const matrixStores = storeNames.filter((n) => stores[n].matrixFaults.length > 0);
  const command =
    values.from === undefined
      ? `npm run bench:chaos -- ${process.argv.slice(2).join(' ')}`
      : values.from
          .split(',')
          .map((f) => JSON.parse(readFileSync(f, 'utf8')).command)
          .join('`, then `');
  say(`${command}: ${os.cpus().length} cores, Node ${process.version}`);
  const runsN = Number(values.runs ?? 1);
  // --from a.json,b.json: render saved matrix runs together (a cell re-run after a fix replaces the earlier one).
  const chaos =
    values.from === undefined
      ? await runChaos({
          runs: runsN,
          tiny: values.tiny,
          storeNames: matrixStores,
          faultFilter,
          contenderNames: names,
          matrix: true,
          log: say,
        })
      : mergeMatrix(values.from.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8'))));
  const file = path.resolve(values.json ?? path.join(here, 'last-matrix.json'));
  writeFileSync(file, `${JSON.stringify({ command, machine: chaos.machine, chaos }, null, 2)}\n`);
  say(`results: ${file}`);
  const doc = renderFaultsDoc({ chaos, command });
  const writeDoc = values['no-write'] ? false : (values.write ?? (!filtered && !values.tiny));
  if (writeDoc) {
    const out = path.join(here, '..', '..', 'docs', 'faults.md');
    writeFileSync(out, doc);
    say(`wrote ${out}`);
  } else say(`\n${doc}`);
  const broken = chaos.groups.filter((g) => brokenPromises(g).length > 0);
  for (const g of broken) say(`✗ ${g.store} ${g.fault} ${g.contender}: ${brokenPromises(g).join('; ')}`);
  if (broken.length > 0) process.exitCode = 1;
}

/** Saved matrix runs as one: later files' cells replace earlier ones of the same store × fault × contender. */
function mergeMatrix(saved) {
  const byCell = new Map();
  for (const j of saved)
    for (const r of j.chaos.results) {
      const k = `${r.store}|${r.fault}|${r.contender}`;
      if (!byCell.has(k) || byCell.get(k).from !== j) byCell.set(k, { from: j, runs: [] });
      byCell.get(k).runs.push(r);
    }
  const results = [...byCell.values()].flatMap((c) => c.runs);
  return { results, groups: aggregate(results), machine: saved[0].chaos.machine };
}

/**
 * `--slow`: the slow faults of issue #28, each the npm script that runs it on its own (so the two ways to run one
 * are the same command), one after the other; their tables and JSON results are theirs.
 */
function slowFaults(which) {
  const scripts = {
    server: 'bench:slow',
    node: 'bench:slow-node',
    'mysql-replica': 'bench:slow-replica',
    'redis-replica': 'bench:slow-redis',
  };
  const names = which === '' || which === 'all' ? Object.keys(scripts) : list(which, []);
  for (const n of names)
    if (scripts[n] === undefined)
      throw new Error(`--slow: unknown slow fault "${n}" (known: all, ${Object.keys(scripts).join(', ')})`);
  const npmScripts = JSON.parse(readFileSync(path.join(here, '..', '..', 'package.json'), 'utf8')).scripts;
  for (const n of names) {
    // The script without its leading `tsc -b &&`: this process's own npm script has built already.
    const command = npmScripts[scripts[n]]?.replace(/^tsc -b && /, '');
    if (command === undefined) throw new Error(`--slow ${n}: no npm script ${scripts[n]} in package.json`);
    say(`\n--slow ${n}: ${command}`);
    const run = spawnSync(command, { shell: true, stdio: 'inherit', cwd: path.join(here, '..', '..') });
    if (run.status !== 0) {
      say(`✗ --slow ${n} ended with ${run.status ?? run.signal}`);
      process.exitCode = 1;
    }
  }
}
