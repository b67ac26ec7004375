import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres, useServer } from '@reconnect/testkit';
import { afterAll, describe, expect, it } from 'vitest';

// A real application process (built packages, no test runner): after stopAll() it must exit by itself.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const coreDir = resolve(packageDir, '..', '..', 'packages', 'core');
const app = mkdtempSync(join(tmpdir(), 'reconnect-exit-app-'));
afterAll(() => rmSync(app, { recursive: true, force: true }));

const program = `
import { createManager } from '@reconnect/core';
const manager = await createManager({ config: process.argv[2] });
const started = await manager.startAll();
if (!started.db.ok) { console.error(started.db.error); process.exitCode = 2; }
const { rows } = await manager.target('db').execute((pool) => pool.query('SELECT 41 + 1 AS n'), { idempotent: true });
await manager.stopAll();
console.log('done', rows[0].n, Date.now());
// No process.exit(): the event loop must be empty now.
`;

describe('an application using the plugin', () => {
  const server = useServer(() => startPostgres());

  it('exits by itself after stopAll() (no timer or socket left behind)', async () => {
    mkdirSync(join(app, 'node_modules', '@reconnect'), { recursive: true });
    symlinkSync(packageDir, join(app, 'node_modules', 'reconnect-driver-postgres'), 'dir');
    symlinkSync(coreDir, join(app, 'node_modules', '@reconnect', 'core'), 'dir');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
    writeFileSync(join(app, 'main.js'), program);
    const config = join(app, 'reconnect.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        // A short health-check interval: a timer that stop() forgot would keep the process alive visibly.
        defaults: { healthCheck: { interval: '200ms', timeout: '100ms' } },
        targets: {
          db: {
            driver: 'reconnect-driver-postgres',
            options: { host: '127.0.0.1', port: server().port, user: 'postgres', database: 'postgres' },
          },
        },
      }),
    );

    const child = spawn(process.execPath, ['main.js', config], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = await new Promise<{ code: number | null; at: number; hung: boolean }>((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done({ code: null, at: Date.now(), hung: true });
      }, 15_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        done({ code, at: Date.now(), hung: false });
      });
    });
    expect(stderr).toBe('');
    expect(exit.hung).toBe(false);
    expect(exit.code).toBe(0);
    const [, n, doneAt] = stdout.trim().split(' ');
    expect(n).toBe('42');
    // It exits right after stopAll(), not after some idle timeout elsewhere.
    expect(exit.at - Number(doneAt)).toBeLessThan(1000);
  });
});
