import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManager, isConfigError, type Manager } from '@reconnect/core';
import { startPostgres, useServer } from '@reconnect/testkit';
import pg from 'pg';
import type { PostgresClient } from '../src/index.js';

// The package under test, installed into a throwaway application the way npm would (a symlink in node_modules).
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const app = mkdtempSync(join(tmpdir(), 'reconnect-pg-app-'));

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist', 'index.js'))) {
    throw new Error(
      'Build first (npx tsc -b examples/driver-postgres): the plugin is imported from its dist/',
    );
  }
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(packageDir, join(app, 'node_modules', 'reconnect-driver-postgres'), 'dir');
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

const applicationName = `reconnect-plugin-test-${process.pid}`;

// Counts the server-side sessions opened under our application_name (on the test's throwaway server).
async function serverConnections(port: number): Promise<number> {
  const observer = new pg.Pool({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
  });
  try {
    const { rows } = await observer.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await observer.end();
  }
}

function writeConfig(name: string, config: unknown): string {
  const file = join(app, name);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

describe('reconnect-driver-postgres as a third-party plugin', () => {
  const server = useServer(() => startPostgres());
  let manager: Manager | undefined;
  afterAll(async () => {
    await manager?.stopAll();
  });

  it('is loaded by package name from a config file and runs a query through a Target', async () => {
    const file = writeConfig('reconnect.config.json', {
      version: 1,
      targets: {
        db: {
          driver: 'reconnect-driver-postgres',
          options: {
            host: '127.0.0.1',
            port: server().port,
            user: 'postgres',
            database: 'postgres',
            max: 2,
            applicationName,
          },
          policy: { healthCheck: { interval: '1s', timeout: '500ms' } },
        },
      },
    });
    manager = await createManager({ config: file });
    expect(await manager.startAll()).toEqual({ db: { ok: true } });
    const db = manager.target<PostgresClient>('db');
    const { rows } = await db.execute(
      (pool) => pool.query<{ one: number; db: string }>('SELECT 1 AS one, current_database() AS db'),
      {
        idempotent: true,
      },
    );
    expect(rows).toEqual([{ one: 1, db: 'postgres' }]);
    expect(manager.health()).toMatchObject({
      status: 'ok',
      ready: true,
      targets: { db: { state: 'connected' } },
    });

    // The server's view of our connections: some while connected, none after stopAll().
    expect(await serverConnections(server().port)).toBeGreaterThan(0);
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    expect(await manager.stopAll()).toEqual({ db: { ok: true } });
    manager = undefined;
    // The server drops a session a moment after the client's Terminate message: poll briefly.
    let left = await serverConnections(server().port);
    for (let i = 0; i < 20 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await serverConnections(server().port);
    }
    expect(left).toBe(0);
    // A socket handle is released a tick after its 'close'; give it a moment, then nothing may remain.
    for (let i = 0; i < 10 && sockets() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sockets()).toBe(0);
  });

  it('validates its options with its own schema, reported at targets.NAME.options', async () => {
    const file = writeConfig('bad.config.json', {
      version: 1,
      targets: { db: { driver: 'reconnect-driver-postgres', options: { port: 'five' } } },
    });
    const error = await createManager({ config: file }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('targets.db.options.port');
    expect((error as Error).message).toContain(file);
  });
});
