import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  cleanupAll,
  findLeaks,
  startFaultProxy,
  startRedis,
  TESTKIT_ROOT_ENV,
  testkitRoot,
  trackedResources,
} from '../src/index.js';
import { familyMembers } from '../src/cleanup/process-group.js';
import setup from '../src/vitest-global-setup.js';
import { connectOutcome } from './helpers/raw.js';

async function withOwnRoot(
  fn: (teardown: () => Promise<void>, root: string) => Promise<void>,
): Promise<void> {
  const previous = process.env[TESTKIT_ROOT_ENV];
  const teardown = setup();
  const root = process.env[TESTKIT_ROOT_ENV]!;
  try {
    await fn(teardown, root);
  } finally {
    if (previous === undefined) delete process.env[TESTKIT_ROOT_ENV];
    else process.env[TESTKIT_ROOT_ENV] = previous;
  }
}

describe('cleanup', () => {
  it('the global setup gives workers one root and, at the end, kills and reports what survived', async () => {
    await withOwnRoot(async (teardown, root) => {
      expect(testkitRoot()).toBe(root);
      const leaked = await startRedis();
      const pid = leaked.pid!;
      expect(leaked.dir.startsWith(root)).toBe(true);
      expect(findLeaks(root)).toEqual([{ dir: leaked.dir, kind: 'redis', pgid: pid, pids: [pid] }]);
      try {
        await expect(teardown()).rejects.toThrow(/1 server\(s\) outlived the test run.*\n.*redis/);
        expect(familyMembers(pid)).toEqual([]);
        expect(existsSync(root)).toBe(false);
      } finally {
        await cleanupAll();
      }
    });
    expect(trackedResources()).toEqual([]);
  });

  it('the global setup passes a run that cleaned up after itself', async () => {
    await withOwnRoot(async (teardown, root) => {
      const server = await startRedis();
      await server.stop();
      expect(findLeaks(root)).toEqual([]);
      await expect(teardown()).resolves.toBeUndefined();
      expect(existsSync(root)).toBe(false);
    });
  });

  it('cleanupAll() stops every server and proxy of the process', async () => {
    const server = await startRedis();
    const proxy = await startFaultProxy({ target: server.options });
    const pid = server.pid!;
    expect(trackedResources().map((r) => r.description)).toEqual([
      expect.stringContaining(`redis 127.0.0.1:${server.port}`),
      expect.stringContaining(`fault proxy 127.0.0.1:${proxy.port}`),
    ]);
    await cleanupAll();
    expect(trackedResources()).toEqual([]);
    expect(familyMembers(pid)).toEqual([]);
    expect(existsSync(server.dir)).toBe(false);
    expect(await connectOutcome(proxy.port)).toBe('ECONNREFUSED');
  });

  // The exit hooks run in a plain Node process, so these use the built package (npm run build).
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  describe.skipIf(!existsSync(dist))('exit hooks (built package)', () => {
    for (const ending of ['process.exit(3)', 'SIGTERM', 'SIGINT', 'uncaught exception'] as const) {
      it(`a process that ends by ${ending} without stop() leaves no server or directory`, async () => {
        const tail =
          ending === 'process.exit(3)'
            ? 'process.exit(3);'
            : ending === 'uncaught exception'
              ? 'setTimeout(() => { throw new Error("boom"); }, 500);'
              : 'setInterval(() => {}, 1000);';
        const script = `import { startRedis } from ${JSON.stringify(dist)};
const s = await startRedis();
console.log(JSON.stringify({ pid: s.pid, dir: s.dir, port: s.port }));
${tail}`;
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, [TESTKIT_ROOT_ENV]: '' },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        const start = performance.now();
        while (!out.includes('\n') && performance.now() - start < 10_000)
          await new Promise((r) => setTimeout(r, 20));
        const info = JSON.parse(out.split('\n')[0]!) as { pid: number; dir: string; port: number };
        // (process.exit may already have run the hooks by now; the other endings wait for the signal.)
        if (ending !== 'process.exit(3)') expect(familyMembers(info.pid)).toEqual([info.pid]);
        if (ending === 'SIGTERM' || ending === 'SIGINT') child.kill(ending);
        await exited;
        // SIGKILL is delivered asynchronously: give the kernel a moment to finish the process.
        const t0 = performance.now();
        while (familyMembers(info.pid).length > 0 && performance.now() - t0 < 2000)
          await new Promise((r) => setTimeout(r, 10));
        expect(familyMembers(info.pid)).toEqual([]);
        expect(existsSync(info.dir)).toBe(false);
        expect(await connectOutcome(info.port)).toBe('ECONNREFUSED');
      });
    }
  });
});
