import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processIo } from '../src/index.js';

// `reconnect … | head`: the reader of stdout goes away before the command is done. That is normal in a
// shell, so the command must end quietly (no EPIPE stack trace) with its own exit code.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'packages', 'cli', 'bin', 'reconnect.js');
const example = path.join(root, 'examples', 'reconnect.config.yaml');
const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-pipes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs the built binary with stdout on a pipe that this side closes before the command starts
 * writing (`reconnect … | true`). Resolves to the exit code and everything on stderr.
 */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.destroy();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a closed stdout', () => {
  it('reconnect schema | head -c 300: exits 0 without a stack trace', () => {
    // The issue's own shell line: head reads 300 bytes and exits while most of the schema is unwritten.
    const script = `"$0" "$1" schema 2>"$2" | head -c 300 >/dev/null; echo "\${PIPESTATUS[0]}"`;
    const err = path.join(tmp, 'head.err');
    const r = spawnSync('bash', ['-c', script, process.execPath, bin, err], {
      cwd: root,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(readFileSync(err, 'utf8')).not.toContain('EPIPE');
    expect(readFileSync(err, 'utf8')).toBe('');
    expect(r.stdout.trim()).toBe('0');
  });

  it.each([
    ['schema', ['schema']],
    ['validate on a valid file', ['validate', '--config', example, '--skip-drivers']],
    ['validate --json', ['validate', '--config', example, '--skip-drivers', '--json']],
    ['explain', ['explain', 'cache', '--config', example]],
    ['--help', ['--help']],
  ])('%s with stdout closed at once exits 0, quietly', async (_name, args) => {
    const r = await runWithClosedStdout(args);
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it("keeps the command's own failure: validate on an invalid file still exits 1 and says why", async () => {
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(
      bad,
      'version: 1\ntargets: { a: { driver: redis, policy: { retry: { maxRetries: -1 } } } }\n',
    );
    const r = await runWithClosedStdout(['validate', '--config', bad]);
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stderr).toContain('targets.a.policy.retry.maxRetries');
    expect(r.code).toBe(1);
  });

  it('keeps the exit code of a command that wrote to stdout before failing (schema --check fresh stale)', async () => {
    const fresh = path.join(tmp, 'fresh.json');
    const written = spawnSync(process.execPath, [bin, 'schema', '--write', fresh], { encoding: 'utf8' });
    expect(written.status).toBe(0);
    const stale = path.join(tmp, 'stale.json');
    writeFileSync(stale, '{}\n');
    // "✓ fresh.json is up to date" goes to the closed stdout, then "✗ stale.json …" to stderr.
    const r = await runWithClosedStdout(['schema', '--check', fresh, '--check', stale]);
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stderr).toBe(
      `✗ ${stale} is out of date with the policy schema; regenerate it with: reconnect schema --write ${stale}\n`,
    );
    expect(r.code).toBe(1);
  });

  it('watches each process stream once, however often main() runs in one process', () => {
    const before = process.stdout.listenerCount('error') + process.stderr.listenerCount('error');
    for (let i = 0; i < 20; i++) processIo();
    const after = process.stdout.listenerCount('error') + process.stderr.listenerCount('error');
    expect(after - before).toBeLessThanOrEqual(2);
  });
});
