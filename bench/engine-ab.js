// The engine's success path, one build against another (an A/B of RetryExecutor.execute).
// Usage: npm run bench:engine -- [OLD [NEW]]   (git refs, or directories holding a build; OLD defaults to 216fb2d^,
// the engine before issue #9's split, NEW to this checkout's own build). BENCH_PROCESSES, BENCH_ROUNDS and
// BENCH_BLOCK tune it; node flags given to this script are passed on to the measuring processes.
// Each ref's packages/core is built once in a git worktree under the system temp directory. It writes nothing:
// BENCHMARKS.md's A/B section quotes its output, with the load it was measured under.
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BLOCK = Number(process.env.BENCH_BLOCK ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 12);
const PATHS = {
  default: 'default policy (breaker, budget, 2 s, 10 s)',
  guarded: 'breaker + budget, no timeouts',
  minimal: 'no timeouts, no breaker, no budget',
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** An executor of `core` (a build's dist) on one of the success paths: with timers, and without any. */
function executor(core, kind) {
  const policy = core.resolvePolicy({});
  const retry = kind === 'default' ? policy.retry : { ...policy.retry, attemptTimeout: 0, deadline: 0 };
  // Each executor its own client, lease and functions: nothing the JIT learns about one build's calls is shared.
  const lease = { client: { value: 42 } };
  return {
    op: (c) => Promise.resolve(c.value),
    executor: new core.RetryExecutor({
      target: 'bench',
      system: 'bench',
      policy: retry,
      classify: () => ({ kind: 'unknown' }),
      // Like a Target: a ready client, and report() for passive health.
      source: { acquire: () => lease, report: () => {} },
      ...(kind === 'minimal'
        ? {}
        : {
            breaker: new core.CircuitBreaker(policy.circuitBreaker),
            budget: new core.RetryBudget(policy.retry.budget),
          }),
    }),
  };
}

/**
 * A timing loop of its own for `name` (compiled from source per call, so two builds never share one call site's
 * feedback): runs `n` awaited executes, resolves to the CPU time per call in ns.
 */
function timingLoop(name) {
  return new Function(
    'ex',
    'op',
    'n',
    `/* ${name} */ return (async () => {
      const before = process.cpuUsage();
      for (let i = 0; i < n; i++) await ex.execute(op, { idempotent: true });
      const used = process.cpuUsage(before);
      return ((used.user + used.system) * 1000) / n;
    })();`,
  );
}

/**
 * One process's measurement: both builds loaded (in the given order), short blocks of calls timed old/new back to
 * back with the order alternated (the machine's speed drifts within seconds here); per path, the medians.
 */
async function measure(oldDir, newDir, newFirst) {
  const cores = {};
  for (const side of newFirst ? ['new', 'old'] : ['old', 'new'])
    cores[side] = await import(pathToFileURL(dist(side === 'old' ? oldDir : newDir)).href);
  const subjects = Object.keys(PATHS).map((kind) => ({
    kind,
    old: { ...executor(cores.old, kind), loop: timingLoop(`old ${kind}`) },
    new: { ...executor(cores.new, kind), loop: timingLoop(`new ${kind}`) },
  }));
  const time = (side, n) => side.loop(side.executor, side.op, n);
  for (const s of subjects) for (const side of [s.old, s.new]) await time(side, 50_000);
  const result = {};
  for (const s of subjects) result[s.kind] = { old: [], new: [], ratio: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of subjects) {
      const oldFirst = round % 2 === 0;
      const a = await time(oldFirst ? s.old : s.new, BLOCK);
      const b = await time(oldFirst ? s.new : s.old, BLOCK);
      const [o, n] = oldFirst ? [a, b] : [b, a];
      result[s.kind].old.push(o);
      result[s.kind].new.push(n);
      result[s.kind].ratio.push(n / o);
    }
  }
  for (const kind of Object.keys(result))
    for (const k of ['old', 'new', 'ratio']) result[kind][k] = median(result[kind][k]);
  return result;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (dir) => path.join(dir, 'packages', 'core', 'dist', 'index.js');
if (process.argv[2] === '--child') {
  console.log(
    JSON.stringify(await measure(process.argv[3], process.argv[4], process.argv[5] === 'new-first')),
  );
} else {
  const git = (...args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
  /** A build of `ref`'s packages/core in a worktree of its own (made once, kept under the system temp directory). */
  const buildOf = (ref) => {
    // A directory that holds a build already (packages/core/dist) is taken as it is: a copy of one build against
    // itself shows how large a difference this harness reports where there is none.
    if (existsSync(dist(ref))) return { name: ref, dir: ref };
    const commit = git('rev-parse', '--short', ref);
    const tree = path.join(os.tmpdir(), `reconnect-engine-ab-${commit}`);
    if (!existsSync(dist(tree))) {
      if (!existsSync(tree)) git('worktree', 'add', '--detach', tree, commit);
      if (!existsSync(path.join(tree, 'node_modules')))
        symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'));
      execFileSync(
        path.join(root, 'node_modules', '.bin', 'tsc'),
        ['-b', path.join(tree, 'packages', 'core')],
        {
          stdio: 'inherit',
        },
      );
    }
    return { name: commit, dir: tree };
  };
  const before = buildOf(process.argv[2] ?? '216fb2d^');
  const after =
    process.argv[3] === undefined ? { name: 'this checkout', dir: root } : buildOf(process.argv[3]);

  // Each process compiles the two builds its own way (inlining, tier-up timing): a ratio measured in one process
  // differs from the next by a few per cent. So: many processes, half of them loading the new build first.
  const loadBefore = os.loadavg();
  const runs = [];
  for (let i = 0; i < PROCESSES; i++) {
    const out = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--child',
        before.dir,
        after.dir,
        i % 2 === 0 ? 'old-first' : 'new-first',
      ],
      { encoding: 'utf8' },
    );
    runs.push(JSON.parse(out));
  }
  const loadAfter = os.loadavg();
  const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  console.log(
    `engine A/B: ${before.name} (old) against ${after.name} (new); Node ${process.version}; ${PROCESSES} processes × ${ROUNDS} pairs of ${BLOCK}-call blocks per path; load ${load(loadBefore)} → ${load(loadAfter)}`,
  );
  for (const [kind, name] of Object.entries(PATHS)) {
    const ratios = runs.map((r) => r[kind].ratio).sort((x, y) => x - y);
    console.log(
      `${name.padEnd(45)} ${median(runs.map((r) => r[kind].old))
        .toFixed(0)
        .padStart(5)} → ${median(runs.map((r) => r[kind].new))
        .toFixed(0)
        .padStart(
          5,
        )} ns   new/old ${median(ratios).toFixed(3)} (processes: ${ratios[0].toFixed(3)}–${ratios.at(-1).toFixed(3)})`,
    );
  }
}
