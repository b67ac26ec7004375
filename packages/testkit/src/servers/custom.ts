import { join } from 'node:path';
import { makeTempDir } from '../cleanup/temp-dir.js';
import { canConnect, type ProbeResult } from '../net/probes.js';
import { findBinary } from './binaries.js';
import { launch, type BaseServerOptions } from './launch.js';
import type { ServerHandle } from './server-handle.js';

/** Options of {@link startCustomServer}: any server binary the built-in helpers do not cover. */
export interface CustomServerOptions extends BaseServerOptions {
  /** A name for logs and leak reports, e.g. `memcached`. */
  kind: string;
  /** The executable's name (looked up on PATH) or absolute path. */
  command: string;
  /** The Debian package to suggest when `command` is missing. */
  debianPackage: string;
  /** Command-line arguments for the chosen port and the server's temp dir (its data dir is `<dir>/data`, not created). */
  args(ctx: { port: number; dir: string; dataDir: string }): string[];
  /** Readiness check; default: a TCP connect succeeds. */
  ready?: (host: string, port: number) => Promise<ProbeResult>;
  /** Graceful stop signal; default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** URL reported by the handle; default `tcp://127.0.0.1:<port>`. */
  url?(port: number): string;
}

/** Starts any server binary with the same guarantees as the built-in helpers (free port, temp dir, cleanup). */
export async function startCustomServer(options: CustomServerOptions): Promise<ServerHandle> {
  const command = options.command.includes('/')
    ? findBinary({ name: options.command, debianPackage: options.debianPackage }, options.command)
    : findBinary({
        name: options.command,
        debianPackage: options.debianPackage,
        extraDirs: ['/usr/sbin', '/usr/local/bin'],
      });
  return launch(options, (port) => {
    const dir = makeTempDir(options.kind.replace(/[^a-z0-9-]/gi, '_'));
    const dataDir = join(dir, 'data');
    return {
      kind: options.kind,
      command,
      args: options.args({ port, dir, dataDir }),
      dir,
      dataDir,
      port,
      url: options.url?.(port) ?? `tcp://127.0.0.1:${port}`,
      ready:
        options.ready ??
        (async (host, p) =>
          (await canConnect(host, p)) ? { ready: true } : { ready: false, reason: 'not accepting' }),
      ...(options.stopSignal === undefined ? {} : { stopSignal: options.stopSignal }),
    };
  });
}
