import { execFile } from 'node:child_process';
import { chownSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ServerStartError } from '../errors.js';
import { makeTempDir, removeDir } from '../cleanup/temp-dir.js';
import { postgresReady } from '../net/probes.js';
import { findBinary, osUser, postgresBinDirs } from './binaries.js';
import { launch, type BaseServerOptions } from './launch.js';
import type { ServerHandle } from './server-handle.js';

const run = promisify(execFile);

/** Options of {@link startPostgres}. */
export interface PostgresServerOptions extends BaseServerOptions {
  /** Extra `postgres` arguments (e.g. `['-c', 'max_connections=50']`); they come last and win. */
  args?: readonly string[];
  /** When the test runs as root: the OS user the server runs as (initdb refuses root). Default `postgres`. */
  osUser?: string;
  /** Directory holding `initdb` and `postgres`; by default PATH, then /usr/lib/postgresql/<newest>/bin. */
  binDir?: string;
}

/** A throwaway PostgreSQL server: superuser `postgres`, `trust` authentication, 127.0.0.1 only. */
export interface PostgresServer extends ServerHandle {
  /** pg-style connection options. */
  readonly options: { host: string; port: number; user: string; database: string };
  /** The directory holding the server's Unix socket. */
  readonly socketDir: string;
}

function binary(name: string, binDir: string | undefined): string {
  const spec = { name, debianPackage: 'postgresql', extraDirs: ['/usr/local/bin', ...postgresBinDirs()] };
  return findBinary(spec, binDir === undefined ? undefined : join(binDir, name));
}

/**
 * Runs `initdb -A trust -U postgres` into a temporary directory and starts `postgres` on a free
 * 127.0.0.1 port (fsync off: committed data survives `kill()`, not a machine crash); waits until a startup message is answered with ReadyForQuery.
 * As root, both run as the `postgres` OS user; every backend calls setsid(), so faults are sent to the postmaster's descendants, not just its group.
 */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const initdb = binary('initdb', options.binDir);
  const postgres = binary('postgres', options.binDir);
  let ids: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const name = options.osUser ?? 'postgres';
    ids = osUser(name);
    if (ids === undefined) {
      throw new ServerStartError(
        `PostgreSQL refuses to run as root and there is no OS user "${name}" (apt-get install postgresql creates it)`,
        '',
      );
    }
  }
  const server = await launch(options, async (port) => {
    const dir = makeTempDir('postgres');
    const dataDir = join(dir, 'data');
    try {
      if (ids !== undefined) chownSync(dir, ids.uid, ids.gid);
      await run(initdb, ['-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '-D', dataDir], {
        cwd: dir,
        timeout: 60_000,
        maxBuffer: 4 * 1024 * 1024,
        ...(ids ?? {}),
      });
    } catch (error) {
      const out = error as { stdout?: string; stderr?: string };
      removeDir(dir);
      throw new ServerStartError(
        `${initdb} failed`,
        `${out.stdout ?? ''}\n${out.stderr ?? ''}`.slice(-4000),
        {
          cause: error,
        },
      );
    }
    return {
      kind: 'postgres',
      command: postgres,
      args: [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'shared_buffers=16MB',
        ...(options.args ?? []),
      ],
      dir,
      dataDir,
      port,
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      ready: (host, p) => postgresReady(host, p),
      // Fast shutdown: SIGTERM ("smart") would wait for every client to disconnect.
      stopSignal: 'SIGINT',
      ...(ids ?? {}),
      // After a crash the pid file is stale; the group is dead by then, so it is safe to drop.
      beforeStart: () => rmSync(join(dataDir, 'postmaster.pid'), { force: true }),
    };
  });
  return Object.assign(server, {
    socketDir: server.dir,
    options: { host: server.host, port: server.port, user: 'postgres', database: 'postgres' },
  });
}
