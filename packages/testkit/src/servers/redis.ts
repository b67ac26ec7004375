import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../cleanup/temp-dir.js';
import { freePort } from '../net/free-port.js';
import { redisPing } from '../net/probes.js';
import { findBinary } from './binaries.js';
import { launch, type BaseServerOptions } from './launch.js';
import type { ServerHandle } from './server-handle.js';
import { servedCertificateFiles, type ServerTls, type TestCertificates } from './tls.js';

/** Options of {@link startRedis}. */
export interface RedisServerOptions extends BaseServerOptions {
  /** Extra command-line arguments, e.g. `['--cluster-enabled', 'yes']`; they come last and win. */
  args?: readonly string[];
  /**
   * Config directives written to the `redis.conf` passed first (`<dir>/redis.conf`, empty by default, so
   * `CONFIG REWRITE` works), e.g. `{ 'cluster-enabled': 'yes' }`.
   */
  config?: Readonly<Record<string, string | number>>;
  /**
   * `none` (default): no RDB, no AOF, so data is lost on `kill()`.
   * `aof`: append-only file with `appendfsync always`, so data survives `kill()` + `restart()`.
   */
  persistence?: 'none' | 'aof';
  /** Require this password (`--requirepass`); the readiness check and `options` use it. */
  password?: string;
  /** Path of `redis-server`; found on PATH by default. */
  binary?: string;
  /**
   * Serve TLS too, on a port of its own (`tls.port`), presenting `certificates.good` (clients need not present
   * one). The plain port stays, for readiness checks and the faults' admin sessions.
   */
  tls?: TestCertificates;
}

/** A throwaway Redis server. */
export interface RedisServer extends ServerHandle {
  /** ioredis-style connection options: `{ host, port }`, plus `password` when one is required. */
  readonly options: { host: string; port: number; password?: string };
  /** With `tls`: the TLS port, the certificates, and the files the server presents. */
  readonly tls?: ServerTls;
}

/** The binary and the Debian package that provides it. */
export const redisBinary = {
  name: 'redis-server',
  debianPackage: 'redis-server',
  extraDirs: ['/usr/bin', '/usr/local/bin'],
};

/** Writes a redis.conf from directives (values are written as given; quote them yourself if needed). */
export function writeRedisConfig(path: string, config: Readonly<Record<string, string | number>>): void {
  writeFileSync(
    path,
    Object.entries(config)
      .map(([k, v]) => `${k} ${v}`)
      .join('\n') + '\n',
  );
}

/**
 * Starts `redis-server` on a free 127.0.0.1 port with a temporary directory, no persistence by default,
 * and waits until it answers PING.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const command = findBinary(redisBinary, options.binary);
  let tls: ServerTls | undefined;
  const server = await launch(options, async (port) => {
    const dir = makeTempDir('redis');
    const tlsArgs: string[] = [];
    if (options.tls !== undefined) {
      const files = servedCertificateFiles(dir, options.tls);
      tls = {
        port: await freePort(),
        certificates: options.tls,
        certFile: files.certFile,
        keyFile: files.keyFile,
      };
      tlsArgs.push(
        '--tls-port',
        String(tls.port),
        '--tls-cert-file',
        files.certFile,
        '--tls-key-file',
        files.keyFile,
        '--tls-ca-cert-file',
        files.caFile,
        '--tls-auth-clients',
        'no',
      );
    }
    // Always a config file (empty without `config`), so `CONFIG REWRITE` works and a restart reads what a fault
    // wrote there (the catalogue's `loading` fault slows the next load that way).
    const conf = join(dir, 'redis.conf');
    writeRedisConfig(conf, options.config ?? {});
    const args: string[] = [conf];
    const persistence =
      options.persistence === 'aof'
        ? ['--appendonly', 'yes', '--appendfsync', 'always']
        : ['--appendonly', 'no'];
    args.push(
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      ...persistence,
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...(options.password === undefined ? [] : ['--requirepass', options.password]),
      ...tlsArgs,
      ...(options.args ?? []),
    );
    return {
      kind: 'redis',
      command,
      args,
      dir,
      dataDir: dir,
      port,
      url: `redis://127.0.0.1:${port}`,
      ready: (host: string, p: number) => redisPing(host, p, 500, options.password),
    };
  });
  const connection = { host: server.host, port: server.port };
  return Object.assign(server, {
    options: options.password === undefined ? connection : { ...connection, password: options.password },
    ...(tls === undefined ? {} : { tls }),
  });
}
