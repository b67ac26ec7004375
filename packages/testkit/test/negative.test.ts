import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const config = fileURLToPath(new URL('./fixtures/vitest.broken.config.ts', import.meta.url));

/** Runs Vitest on the broken-driver fixtures in a child process; resolves to its exit code (killed after 90 s). */
function runVitest(args: string[], env: Record<string, string> = {}): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config, ...args],
      {
        cwd: root,
        stdio: 'ignore',
        env: { ...process.env, RECONNECT_TESTKIT_ROOT: '', ...env },
      },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
}

interface JsonReport {
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

// A conformance pass only means something if the suite fails drivers that get it wrong.
it('the conformance suite fails a driver that replays writes, retries bad credentials, leaks its client, or leaves a timer running after stop()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-negative-'));
  const output = join(dir, 'report.json');
  try {
    const code = await runVitest(['--reporter=json', `--outputFile=${output}`, 'broken-drivers.conformance']);
    const report = JSON.parse(readFileSync(output, 'utf8')) as JsonReport;
    const results = Object.fromEntries(
      report.testResults
        .flatMap((f) => f.assertionResults)
        .map((a) => [a.fullName.split(':')[0], a.status] as const),
    );
    expect(code).toBe(1);
    const failed = [
      'replaying write unknown-outcome',
      'auth misclassified auth',
      'leaky close stop',
      'leaky timer stop',
    ];
    // Exactly these scenarios failed; every other scenario of each block was skipped.
    expect(
      Object.keys(results)
        .filter((k) => results[k] === 'failed')
        .sort(),
    ).toEqual([...failed].sort());
    expect(
      Object.entries(results)
        .filter(([k]) => !failed.includes(k))
        .every(([, status]) => status === 'skipped'),
    ).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

// Scenarios deselected with Vitest's `-t` did not fail: the report must say they were filtered out.
it('the conformance report shows scenarios filtered out by -t as skipped (filtered), not failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-filtered-'));
  const reportFile = join(dir, 'report.md');
  try {
    const code = await runVitest(['-t', 'filtered auth', 'filtered.conformance'], {
      RECONNECT_FILTERED_REPORT: reportFile,
    });
    expect(code).toBe(0);
    const rows = readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| scenario'))
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .map((cells) => [cells[1], cells[2], cells[6]]);
    expect(rows).toEqual([
      ['crash-restart', 'skipped', 'skipped (filtered)'],
      ['hang', 'skipped', 'skipped (filtered)'],
      ['blackhole', 'skipped', 'skipped (filtered)'],
      ['reset', 'skipped', 'skipped (filtered)'],
      ['unknown-outcome', 'skipped', 'skipped (filtered)'],
      ['auth', 'passed', expect.stringContaining('1 connect call(s)')],
      ['stop', 'skipped', 'skipped (filtered)'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
