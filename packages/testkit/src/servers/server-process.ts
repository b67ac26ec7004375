import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerStartError, TestkitTimeoutError } from '../errors.js';
import {
  familyMembers,
  familyRunning,
  familyStopped,
  killFamily,
  killFamilySync,
  signalFamily,
} from '../cleanup/process-group.js';
import { track } from '../cleanup/registry.js';
import { removeDir } from '../cleanup/temp-dir.js';
import type { ProbeResult } from '../net/probes.js';
import { delay } from '../util/wait.js';
import type { ServerHandle, ServerStatus } from './server-handle.js';

/** How to run one kind of server; what `startCustomServer` and the built-in helpers are made of. */
export interface ServerSpec {
  kind: string;
  /** Absolute path of the executable. */
  command: string;
  args: readonly string[];
  /** The server's temporary directory (created by the caller, removed by `stop()`). */
  dir: string;
  dataDir: string;
  port: number;
  url: string;
  /** Protocol-level readiness check against 127.0.0.1:port. */
  ready(host: string, port: number): Promise<ProbeResult>;
  /** The signal for a graceful shutdown (SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** Run the server as this OS user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  /** Called before every (re)start, e.g. to drop a stale pid file after a crash. */
  beforeStart?(): void;
  /** Extra file whose tail `logs()` shows (a server that logs to a file rather than stdout). */
  logFile?: string;
}

/** Name of the marker file in each server directory, read by the global setup's leak check. */
export const SERVER_MARKER_FILE = 'testkit-server.json';

const host = '127.0.0.1';

/** A server process and its directory; see {@link ServerHandle}. */
export class ServerProcess implements ServerHandle {
  readonly kind: string;
  readonly host = host;
  readonly port: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly url: string;
  #spec: ServerSpec;
  #child: ChildProcess | undefined;
  #exit: Promise<void> = Promise.resolve();
  #exited = true;
  #status: ServerStatus = 'killed';
  #untrack: () => void;
  readonly #outputFile: string;

  constructor(spec: ServerSpec) {
    this.#spec = spec;
    this.kind = spec.kind;
    this.port = spec.port;
    this.dir = spec.dir;
    this.dataDir = spec.dataDir;
    this.url = spec.url;
    this.#outputFile = join(spec.dir, 'output.log');
    this.#untrack = track({
      description: `${spec.kind} ${host}:${spec.port} (${spec.dir})`,
      dispose: () => this.stop({ graceMs: 2000 }),
      disposeSync: () => {
        if (this.#child?.pid !== undefined) killFamilySync(this.#child.pid);
        removeDir(this.dir);
      },
    });
  }

  get pid(): number | undefined {
    return this.#exited ? undefined : this.#child?.pid;
  }

  get status(): ServerStatus {
    return this.#status;
  }

  /** Spawns the process (own process group) and waits until it is ready. */
  async start(timeoutMs = 20_000): Promise<void> {
    this.#spec.beforeStart?.();
    const out = openSync(this.#outputFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#spec.command, [...this.#spec.args], {
        cwd: this.dir,
        detached: true, // own process group; descendants that leave it (setsid) are found through /proc
        stdio: ['ignore', out, out],
        env: this.#spec.env ?? process.env,
        ...(this.#spec.uid === undefined ? {} : { uid: this.#spec.uid }),
        ...(this.#spec.gid === undefined ? {} : { gid: this.#spec.gid }),
      });
    } finally {
      closeSync(out);
    }
    // A forgotten server must not keep the test process alive; the exit hook kills it.
    child.unref();
    this.#child = child;
    this.#exited = false;
    this.#exit = new Promise<void>((resolve) => {
      child.once('exit', () => {
        this.#exited = true;
        // A server that died by itself counts as crashed, so restart() and useServer's heal apply.
        if (this.#status === 'running' || this.#status === 'hung') this.#status = 'killed';
        resolve();
      });
      child.once('error', () => {
        this.#exited = true;
        resolve();
      });
    });
    this.#status = 'running';
    writeFileSync(
      join(this.dir, SERVER_MARKER_FILE),
      JSON.stringify({ kind: this.kind, port: this.port, pgid: child.pid, ownerPid: process.pid }),
    );
    try {
      await this.waitReady(timeoutMs);
    } catch (error) {
      await this.#stopProcess(0);
      this.#status = 'killed';
      throw error;
    }
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    const start = performance.now();
    let last = 'not started';
    for (;;) {
      if (this.#exited) {
        throw new ServerStartError(
          `${this.kind} on port ${this.port} exited before it was ready (${last})`,
          this.logs(),
        );
      }
      const result = await this.#spec.ready(host, this.port);
      if (result.ready) return;
      last = result.reason;
      if (performance.now() - start > timeoutMs) {
        throw new ServerStartError(
          `${this.kind} on port ${this.port} not ready after ${timeoutMs} ms (${last})`,
          this.logs(),
          { cause: new TestkitTimeoutError(`${this.kind} readiness`, timeoutMs) },
        );
      }
      await delay(25);
    }
  }

  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid !== undefined) {
      await killFamily(pid);
      await this.#waitExit(5000);
    }
    if (this.#status !== 'stopped') this.#status = 'killed';
  }

  async hang(): Promise<void> {
    const pid = this.#requireRunning('hang');
    signalFamily(pid, 'SIGSTOP');
    await this.#waitUntil(() => familyStopped(pid), 'SIGSTOP to take effect');
    this.#status = 'hung';
  }

  async resume(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    signalFamily(pid, 'SIGCONT');
    await this.#waitUntil(() => familyRunning(pid), 'SIGCONT to take effect');
    this.#status = 'running';
  }

  async restart(): Promise<void> {
    if (this.#status === 'stopped')
      throw new ServerStartError(`${this.kind} was stopped; it cannot restart`, '');
    await this.#stopProcess(5000);
    await this.start();
  }

  async stop({ graceMs = 5000 }: { graceMs?: number } = {}): Promise<void> {
    if (this.#status === 'stopped') return;
    this.#status = 'stopped';
    try {
      await this.#stopProcess(graceMs);
    } finally {
      removeDir(this.dir);
      this.#untrack();
    }
  }

  logs(maxBytes = 4000): string {
    const parts: string[] = [];
    for (const file of [this.#outputFile, this.#spec.logFile]) {
      if (file === undefined) continue;
      const tail = readTail(file, maxBytes);
      if (tail !== '') parts.push(tail);
    }
    return parts.join('\n');
  }

  // Graceful stop of the current process (resumed first, so a hung server can shut down), then
  // SIGKILL of every process of the server after `graceMs`, and of any straggler the leader left behind.
  async #stopProcess(graceMs: number): Promise<void> {
    const child = this.#child;
    const pid = child?.pid;
    if (child === undefined || pid === undefined) return;
    if (!this.#exited) {
      signalFamily(pid, 'SIGCONT');
      if (graceMs > 0) {
        try {
          process.kill(pid, this.#spec.stopSignal ?? 'SIGTERM');
        } catch {
          // already gone
        }
        await this.#waitExit(graceMs);
      }
      if (!this.#exited) await killFamily(pid);
      await this.#waitExit(5000);
    }
    if (familyMembers(pid).length > 0) await killFamily(pid);
  }

  async #waitExit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#exit,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  async #waitUntil(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
    const start = performance.now();
    while (!check()) {
      if (performance.now() - start > timeoutMs) throw new TestkitTimeoutError(what, timeoutMs);
      await delay(5);
    }
  }

  #requireRunning(action: string): number {
    const pid = this.pid;
    if (pid === undefined)
      throw new ServerStartError(`${this.kind}.${action}(): the server is not running`, this.logs());
    return pid;
  }
}

function readTail(file: string, maxBytes: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
