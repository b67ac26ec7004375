// `npm run bench:chaos` (= tsc -b && node bench/chaos/run.js): the chaos benchmark of issue #15.
//   node bench/chaos/run.js [--runs N] [--tiny] [--store redis,mysql,elasticsearch]
//        [--fault crash,hang,blackhole,restart-loop,node-down] [--contender raw,cockatiel,preset,fast]
//        [--fleet only|skip] [--fleet-count 1000] [--fleet-contender raw,redis,redis-full-jitter,fast]
//        [--json FILE] [--write | --no-write]
// Prints the tables; writes the raw results as JSON (default bench/chaos/last-run.json) and, for a full
// unfiltered run (or with --write), the chaos section of BENCHMARKS.md (between its markers).
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cleanupAll } from '@reconnect/testkit';
import { contenders, defaultContenders } from './contenders.js';
import { defaultFleet, fleetContenders, runFleet } from './fleet.js';
import { runChaos } from './runner.js';
import { faultNames, stores } from './stores.js';
import { renderSection } from './section.js';

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
    'fleet-contender': { type: 'string' },
    json: { type: 'string' },
    from: { type: 'string' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean', default: false },
  },
});
const list = (v, all) => (v === undefined ? all : v.split(',').map((s) => s.trim()));
const runs = Number(values.runs ?? (values.tiny ? 1 : 3));
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number ≥ 1');
const storeNames = list(values.store, Object.keys(stores));
const faultFilter = list(values.fault, faultNames);
const contenderNames = list(values.contender, defaultContenders);
const fleetNames = list(values['fleet-contender'], defaultFleet);
for (const n of fleetNames) if (!fleetContenders[n]) throw new Error(`unknown fleet contender "${n}"`);
for (const n of contenderNames) if (!contenders[n]) throw new Error(`unknown contender "${n}"`);
const fleetMode = values.fleet ?? (values.tiny ? 'skip' : 'run');
const fleetCount = Number(values['fleet-count'] ?? (values.tiny ? 50 : 1000));
const filtered =
  values.store !== undefined ||
  values.fault !== undefined ||
  values.contender !== undefined ||
  values['fleet-contender'] !== undefined ||
  values.fleet !== undefined;
const write = values['no-write'] ? false : (values.write ?? (!filtered && !values.tiny));

process.once('SIGINT', () => {
  process.stdout.write('\n✗ interrupted: every throwaway server is being stopped\n');
  process.exit(130);
});
const say = (line) => process.stdout.write(`${line}\n`);

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
          fleet.push({ ...(await runFleet({ contender: n, count: fleetCount, log: say })), run: i + 1 });
          save();
        }
      }
    }
  } finally {
    await cleanupAll();
  }
}

const section = renderSection({ command, chaos, fleet, runs: chaos?.machine.runs ?? runs });
say(`\n${section}`);
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
