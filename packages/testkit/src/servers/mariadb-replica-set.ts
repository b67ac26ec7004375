import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ServerStartError, TestkitTimeoutError } from '../errors.js';
import { delay } from '../util/wait.js';
import { findBinary } from './binaries.js';
import { startMariaDB, type MariaDBServer, type MariaDBServerOptions } from './mariadb.js';

const run = promisify(execFile);

/** Options of {@link startMariaDBReplicaSet}. */
export interface MariaDBReplicaSetOptions {
  /** How many replicas (default 1). */
  replicas?: number;
  /** The database created on every server (default `test`). */
  database?: string;
  /**
   * An account without SUPER / READ_ONLY ADMIN, created on the primary and replicated, so the replicas'
   * `read_only` applies to it (root bypasses it). Default `app` / `app-password`, all privileges on `database`.
   */
  appUser?: { user: string; password: string };
  /** Extra `mariadbd` arguments for every server. */
  args?: readonly string[];
  /** Options passed to each {@link startMariaDB} call (binary paths, start timeout). */
  server?: Pick<MariaDBServerOptions, 'binary' | 'installBinary' | 'startTimeoutMs'>;
  /** Path of the `mariadb` (or `mysql`) command-line client; found on PATH by default. */
  client?: string;
}

/** Where one replica's replication stands (`SHOW SLAVE STATUS`). */
export interface ReplicationStatus {
  ioRunning: string;
  sqlRunning: string;
  lastError: string;
  secondsBehind: number | undefined;
}

/** A primary and its replicas: real `mariadbd` processes with binlog replication (GTID) between them. */
export interface MariaDBReplicaSet {
  readonly primary: MariaDBServer;
  readonly replicas: readonly MariaDBServer[];
  /** Every server, the primary first. */
  readonly servers: readonly MariaDBServer[];
  /** The account the replicas' `read_only` applies to (see {@link MariaDBReplicaSetOptions.appUser}). */
  readonly appUser: { user: string; password: string };
  /** Runs SQL on a server through the `mariadb` client (as root, over its Unix socket); returns the rows as tab-separated lines. */
  sql(server: MariaDBServer, statement: string): Promise<string[]>;
  /** Waits until every running replica has applied everything the primary has written so far. */
  sync(timeoutMs?: number): Promise<void>;
  /** A replica's replication threads and last error. */
  status(replica: MariaDBServer): Promise<ReplicationStatus>;
  /** Stops every server and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

const clientBinary = {
  name: 'mariadb',
  debianPackage: 'mariadb-client',
  extraDirs: ['/usr/bin', '/usr/local/bin'],
};
const mysqlClientBinary = {
  name: 'mysql',
  debianPackage: 'mariadb-client',
  extraDirs: ['/usr/bin', '/usr/local/bin'],
};

function findClient(explicit: string | undefined): string {
  try {
    return findBinary(clientBinary, explicit);
  } catch (error) {
    if (explicit !== undefined) throw error;
    return findBinary(mysqlClientBinary);
  }
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Starts a primary and `replicas` replicas (each a throwaway {@link startMariaDB} with a binary log and
 * its own `server_id`), creates a replication account and an application account on the primary, and
 * points every replica at the primary with GTID replication (`MASTER_USE_GTID=slave_pos`,
 * `MASTER_CONNECT_RETRY=1`, so a replica reconnects within a second after the primary restarts).
 * Replicas run with `read_only=ON`. Resolves once every replica has caught up.
 */
export async function startMariaDBReplicaSet(
  options: MariaDBReplicaSetOptions = {},
): Promise<MariaDBReplicaSet> {
  const client = findClient(options.client);
  const database = options.database ?? 'test';
  const appUser = options.appUser ?? { user: 'app', password: 'app-password' };
  const count = options.replicas ?? 1;
  const started: MariaDBServer[] = [];
  const common = [
    '--log-bin=mysql-bin',
    '--binlog-format=ROW',
    '--log-slave-updates',
    ...(options.args ?? []),
  ];
  const stopAll = async () => {
    await Promise.allSettled(started.map((s) => s.stop({ graceMs: 2000 })));
  };

  const sql = async (server: MariaDBServer, statement: string, columnNames = false): Promise<string[]> => {
    try {
      const { stdout } = await run(
        client,
        [
          '--no-defaults',
          `--socket=${server.socketPath}`,
          '-uroot',
          '--batch',
          ...(columnNames ? [] : ['--skip-column-names']),
          '-e',
          statement,
        ],
        { timeout: 15_000, maxBuffer: 4 * 1024 * 1024 },
      );
      return stdout.split('\n').filter((line) => line !== '');
    } catch (error) {
      const out = error as { stderr?: string };
      throw new ServerStartError(
        `SQL on ${server.kind}:${server.port} failed: ${statement}`,
        out.stderr ?? '',
        {
          cause: error,
        },
      );
    }
  };

  try {
    const primary = await startMariaDB({
      ...options.server,
      database,
      args: [...common, '--server-id=1'],
    });
    started.push(primary);
    const replicas = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        startMariaDB({
          ...options.server,
          database,
          args: [...common, `--server-id=${i + 2}`, '--read-only=ON'],
        }).then((r) => {
          started.push(r);
          return r;
        }),
      ),
    );
    await sql(
      primary,
      [
        "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-password'",
        "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'",
        `CREATE USER ${quote(appUser.user)}@'%' IDENTIFIED BY ${quote(appUser.password)}`,
        `GRANT ALL PRIVILEGES ON \`${database}\`.* TO ${quote(appUser.user)}@'%'`,
      ].join('; '),
    );
    // The replicas start from the primary's current GTID position with the same accounts (created above,
    // replicated like any other statement once replication starts from an empty position).
    for (const replica of replicas) {
      await sql(
        replica,
        [
          "SET GLOBAL gtid_slave_pos = ''",
          `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='repl', MASTER_PASSWORD='repl-password', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
          'START SLAVE',
        ].join('; '),
      );
    }
    let stopped = false;
    const set: MariaDBReplicaSet = {
      primary,
      replicas,
      servers: [primary, ...replicas],
      appUser,
      sql,
      async status(replica) {
        const [header = '', values = ''] = await sql(replica, 'SHOW SLAVE STATUS', true);
        const names = header.split('\t');
        const cells = values.split('\t');
        const field = (name: string) => cells[names.indexOf(name)] ?? '';
        const behind = field('Seconds_Behind_Master');
        return {
          ioRunning: field('Slave_IO_Running'),
          sqlRunning: field('Slave_SQL_Running'),
          lastError: field('Last_Error') || field('Last_IO_Error'),
          secondsBehind: behind === '' || behind === 'NULL' ? undefined : Number(behind),
        };
      },
      async sync(timeoutMs = 10_000) {
        const [pos = ''] = await sql(primary, 'SELECT @@GLOBAL.gtid_binlog_pos');
        const end = performance.now() + timeoutMs;
        for (const replica of replicas) {
          if (replica.status !== 'running') continue;
          for (;;) {
            const left = Math.max(0.1, (end - performance.now()) / 1000);
            const [result = '-1'] = await sql(
              replica,
              `SELECT MASTER_GTID_WAIT(${quote(pos)}, ${left.toFixed(1)})`,
            );
            if (result === '0') break;
            if (performance.now() > end)
              throw new TestkitTimeoutError(`replica ${replica.port} to apply ${pos}`, timeoutMs);
            await delay(20);
          }
        }
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopAll();
      },
    };
    await set.sync(20_000);
    return set;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
