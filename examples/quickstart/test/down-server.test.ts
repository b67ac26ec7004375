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
  // The scheduled attempts, one line each, not one per on-demand probe: preset:redis waits a random time within
  // 1 s, 2 s, 4 s … (full jitter inside the seed's schedule), so each line's wait is within its envelope.
  const attempts = [
    ...stderr.matchAll(
      /\[reconnect\] cache: connect attempt (\d+) failed; next in (\d+) ms \(connect ECONNREFUSED 127\.0\.0\.1:1\)/g,
    ),
  ];
  expect(attempts.length).toBeGreaterThanOrEqual(1);
  expect(attempts[0]![1]).toBe('1');
  for (const [, n, ms] of attempts)
    expect(Number(ms), `after attempt ${n}`).toBeLessThanOrEqual(1000 * 2 ** (Number(n) - 1));
  // At most preset:redis's 5 scheduled attempts (reconnect.maxRetries), never one per on-demand probe.
  expect(stderr.split('\n').filter((l) => l.includes('connect attempt')).length).toBeLessThanOrEqual(5);
  expect(elapsed).toBeGreaterThanOrEqual(4_900);
  expect(elapsed).toBeLessThan(15_000);
});
