import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

// The README's quick start, run as a newcomer would (after the build): it must connect through the
// policy file, round-trip through Redis, report ready, and exit by itself once stopAll() returns.
it('the quick start connects, reads, writes, reports ready and exits by itself', async () => {
  const started = Date.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = execFile(process.execPath, ['app.js'], { cwd: dir, timeout: 15_000 }, (error, out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      );
      child.stdin?.end();
    },
  );
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toContain('start cache: connected');
  expect(stdout).toMatch(/GET reconnect:quickstart:\d+ → hello/);
  expect(stdout).toContain('INCR → 1');
  expect(stdout).toContain('/readyz → 200 "ok"');
  expect(stdout.trimEnd().endsWith('stopped')).toBe(true);
  // No timer or socket keeps the process alive after stopAll(): it ends well before the 15 s kill.
  expect(Date.now() - started).toBeLessThan(10_000);
});
