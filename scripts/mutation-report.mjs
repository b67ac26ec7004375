// Writes docs/mutation-report.md from Stryker's JSON reports (reports/mutation/*.json, one per `npm run mutate`
// run; a later run of the same group replaces the earlier one's files): the score per group and file, and every
// mutant that survived, with its line. Usage: node scripts/mutation-report.mjs [report.json ...]
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { groups } from '../stryker.config.mjs';

const dir = 'reports/mutation';
const inputs =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(dir, f));

// A file in several reports: the newest report's result wins (read oldest first).
const files = new Map();
const runs = [];
for (const path of inputs.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)) {
  runs.push({ name: basename(path), at: statSync(path).mtime.toISOString().slice(0, 16).replace('T', ' ') });
  const report = JSON.parse(readFileSync(path, 'utf8'));
  // A test file is never a subject (an early configuration mutated one by a too wide glob).
  for (const [file, result] of Object.entries(report.files))
    if (!file.endsWith('.test.ts')) files.set(file, result);
}

// The "was it sent" tables: the goal is every mutant killed.
const sentTables = new Set([
  'packages/driver-redis/src/classify.ts',
  'packages/driver-mysql/src/classify.ts',
  'packages/driver-elasticsearch/src/classify.ts',
]);

const groupOf = (file) =>
  Object.entries(groups).find(([, patterns]) =>
    patterns.some(
      (p) => !p.startsWith('!') && (p === file || (p.endsWith('/*.ts') && file.startsWith(p.slice(0, -4)))),
    ),
  )?.[0] ?? 'other';

function count(mutants) {
  const c = { total: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 };
  for (const m of mutants) {
    if (m.status === 'Ignored') continue;
    if (m.status === 'CompileError' || m.status === 'RuntimeError') {
      c.errors++;
      continue;
    }
    c.total++;
    if (m.status === 'Killed') c.killed++;
    else if (m.status === 'Timeout') c.timeout++;
    else if (m.status === 'Survived') c.survived++;
    else if (m.status === 'NoCoverage') c.noCoverage++;
  }
  return c;
}
const score = (c) => (c.total === 0 ? '—' : `${((100 * (c.killed + c.timeout)) / c.total).toFixed(1)} %`);
const add = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] + b[k]]));
const zero = () => ({ total: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 });
const row = (name, c) =>
  `| ${name} | ${c.total} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${score(c)} |`;
const header = [
  '| | mutants | killed | timed out | survived | no coverage | score |',
  '|---|---|---|---|---|---|---|',
];

const byGroup = new Map();
const perFile = [];
const survivors = [];
for (const [file, result] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const c = count(result.mutants);
  perFile.push([file, c]);
  const g = groupOf(file);
  byGroup.set(g, add(byGroup.get(g) ?? zero(), c));
  const lines = result.source.split('\n');
  for (const m of result.mutants) {
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    const { start, end } = m.location;
    const original = lines[start.line - 1] ?? '';
    const code =
      start.line === end.line
        ? original.slice(start.column - 1, end.column - 1)
        : `${original.slice(start.column - 1)} …`;
    survivors.push({
      file,
      line: start.line,
      mutator: m.mutatorName,
      status: m.status,
      code,
      replacement: m.replacement,
    });
  }
}
// Survivors examined and explained (equivalent mutants, mutants Stryker cannot count): scripts/mutation-notes.json.
const { runs: runNotes = {}, survivors: notes = [] } = JSON.parse(
  readFileSync('scripts/mutation-notes.json', 'utf8'),
);
const noteOf = (s) =>
  notes.find((n) => n.file === s.file && n.line === s.line && n.replacement === s.replacement)?.why;
const explained = survivors.filter((s) => noteOf(s) !== undefined).length;
const total = [...byGroup.values()].reduce(add, zero());
const sent = perFile.filter(([f]) => sentTables.has(f)).reduce((a, [, c]) => add(a, c), zero());

const clip = (s) => {
  const one = String(s ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return (one.length > 90 ? `${one.slice(0, 87)}…` : one).replace(/\|/g, '\\|').replace(/`/g, "'");
};
const out = [
  '# Mutation report',
  '',
  'Written by `node scripts/mutation-report.mjs` from the JSON reports of `npm run mutate` (Stryker, see',
  '[testing.md](testing.md)). A mutant is one small change to a safety-critical module (a flipped comparison, a removed',
  'condition, a `sent: false` dropped); it is killed when a test fails on it. The score is killed + timed out over all',
  'mutants. Goal: ≥ 90 % overall, 100 % on the "was it sent" tables (the drivers\' `classify.ts`).',
  '',
  `Groups in this report: ${[...byGroup.keys()].join(', ')}${
    Object.keys(groups).every((g) => byGroup.has(g))
      ? ''
      : ` (not run yet: ${Object.keys(groups)
          .filter((g) => !byGroup.has(g))
          .join(', ')})`
  }.`,
  '',
  '## Runs',
  '',
  ...runs.map((r) => `- \`${r.name}\`, ${r.at} UTC${runNotes[r.name] ? `: ${runNotes[r.name]}` : ''}`),
  '',
  '## Score',
  '',
  ...header,
  ...[...byGroup].map(([g, c]) => row(`**${g}**`, c)),
  row('**all**', total),
  row('"was it sent" tables', sent),
  '',
  '## By file',
  '',
  ...header,
  ...perFile.map(([f, c]) => row(`\`${f}\``, c)),
  '',
  `## Surviving mutants (${survivors.length})`,
  '',
  'Each one is a change no test noticed: a missing test, or a change that cannot alter behaviour (an equivalent mutant).',
  '',
  `${explained} of them are explained (equivalent, or killed in a way Stryker does not count); the rest are to do.`,
  '',
  '| file:line | mutator | original | mutant | why it survives |',
  '|---|---|---|---|---|',
  ...survivors.map(
    (s) =>
      `| \`${s.file}:${s.line}\` | ${s.mutator}${s.status === 'NoCoverage' ? ' (no test runs it)' : ''} | \`${clip(s.code)}\` | \`${clip(s.replacement)}\` | ${noteOf(s) ?? 'to do'} |`,
  ),
  '',
];
writeFileSync('docs/mutation-report.md', out.join('\n'));
console.log(
  `docs/mutation-report.md: ${score(total)} of ${total.total} mutants killed; ${survivors.length} survived`,
);
