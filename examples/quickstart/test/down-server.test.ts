import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

// The first hour (issue #16): the README's quick start booted while Redis is down used to exit 13 after ~6 s
// with no output at all (an unsettled top-level await with every timer unref'd). It must say what happened
// and exit non-zero on its own, within reconnect.startTimeout (5 s) plus start-up.
it('the quick start against a closed port logs the failed attempts, says the target is down, and exits 1', async () => {
  const started = Date.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = execFile(
        process.execPath,
        ['app.js'],
        { cwd: dir, timeout: 20_000, env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' } },
        (error, out, err) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      );
      child.stdin?.end();
    },
  );
  const elapsed = Date.now() - started;
  expect(code).toBe(1);
  expect(stdout).toContain(
    'start cache: failed: Target "cache" did not connect within 5s (reconnect.startTimeout): connect ECONNREFUSED 127.0.0.1:1; it keeps reconnecting in the background',
  );
  // The scheduled attempts (preset:redis: 1 s, 2 s, 4 s …), one line each, not one per on-demand probe.
  expect(stderr).toContain(
    '[reconnect] cache: connect attempt 1 failed; next in 1000 ms (connect ECONNREFUSED 127.0.0.1:1)',
  );
  expect(stderr.split('\n').filter((l) => l.includes('connect attempt')).length).toBeLessThanOrEqual(4);
  expect(elapsed).toBeGreaterThanOrEqual(4_900);
  expect(elapsed).toBeLessThan(15_000);
});
