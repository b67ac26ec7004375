import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startElasticsearchCluster, startRedis, useServer } from '@reconnect/testkit';
import { formatTable, LiveView, main } from '../src/index.js';

// `reconnect watch` as an operator runs it: the built binary, a throwaway Redis killed and restarted
// underneath it, every change printed as it happens, and Ctrl-C (SIGINT) stopping everything cleanly.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'packages', 'cli', 'bin', 'reconnect.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-watch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A running `reconnect watch` whose output is collected, with a wait for a line to show up. */
class Watch {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }
  async waitFor(pattern: RegExp, ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while (!pattern.test(this.output)) {
      if (Date.now() > until)
        throw new Error(`timed out waiting for ${pattern}; output so far:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

const ESC = String.fromCharCode(27);
const running: Watch[] = [];
afterEach(() => {
  for (const w of running.splice(0)) if (w.child.exitCode === null) w.child.kill('SIGKILL');
});

function watchConfig(port: number): string {
  const file = path.join(tmp, `watch-${port}.yaml`);
  writeFileSync(
    file,
    `version: 1\ntargets:\n  cache:\n    driver: redis\n    policy:\n      extends: preset:redis\n      healthCheck: { interval: 200ms, timeout: 150ms }\n      reconnect: { maxRetries: unlimited, backoff: { base: 100ms, max: 500ms } }\n    options: { url: 'redis://127.0.0.1:${port}' }\n`,
  );
  return file;
}

describe('reconnect watch', () => {
  const redis = useServer(() => startRedis());

  async function killRestartAndInterrupt(w: Watch): Promise<void> {
    running.push(w);
    await w.waitFor(/cache: connecting → connected/);
    await redis().kill();
    await w.waitFor(/cache: connected → reconnecting/);
    await w.waitFor(/cache: reconnect attempt \d+ failed \(ECONNREFUSED\)/);
    await redis().restart();
    await w.waitFor(/cache: reconnecting → connected/);
    w.child.kill('SIGINT');
    const exit = await Promise.race([
      w.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
    ]);
    expect(exit, `exit after SIGINT; output:\n${w.output}`).toEqual({ code: 0, signal: null });
    expect(w.output).toContain('stopping (SIGINT)');
    expect(w.output).toContain('cache: connected → stopped');
    expect(w.output).toMatch(/stopped every target in \d+ ms/);
  }

  it('under a pipe: a line log of every change while Redis is killed and restarted; SIGINT stops it with exit 0', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'watch', '--config', watchConfig(redis().port), '--every', '200ms'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const w = new Watch(child);
    await killRestartAndInterrupt(w);
    // Not a terminal: no cursor movement, and the table appears as plain lines.
    expect(w.output).not.toContain('\x1b[');
    expect(w.output).toMatch(/^TARGET\s+STATE\s+FOR\s+NODES\s+BREAKER/m);
    // The last block, printed as the watch ends.
    expect(w.output).toMatch(/^cache\s+stopped\s/m);
  });

  it('under a pseudo-terminal: the view is redrawn in place, and Ctrl-C stops it with exit 0', async () => {
    // A real terminal (test/fixtures/pty-run.py): what the watch writes is the terminal's output, what the test
    // writes to the helper's stdin is typed into it, so Ctrl-C is the terminal's own SIGINT to the watch.
    const child = spawn(
      'python3',
      [
        path.join(root, 'packages', 'cli', 'test', 'fixtures', 'pty-run.py'),
        process.execPath,
        bin,
        'watch',
        '--config',
        watchConfig(redis().port),
        '--every',
        '200ms',
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } },
    );
    const w = new Watch(child);
    running.push(w);
    await w.waitFor(/cache: connecting → connected/);
    // Redraws move the cursor up over the previous block and clear it.
    await w.waitFor(new RegExp(`${ESC}\\[\\d+A${ESC}\\[J`));
    await redis().kill();
    await w.waitFor(/cache: connected → reconnecting/);
    await redis().restart();
    await w.waitFor(/cache: reconnecting → connected/);
    child.stdin.write('\x03');
    const exit = await Promise.race([
      w.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
    ]);
    expect(exit, `exit after Ctrl-C; output:\n${w.output}`).toEqual({ code: 0, signal: null });
    expect(w.output).toContain('stopping (SIGINT)');
    expect(w.output).toMatch(/stopped every target in \d+ ms/);
  });
});

describe('reconnect watch in-process, on a multi-node target', () => {
  const cluster = useServer(() => startElasticsearchCluster({ nodes: 3 }));

  it('prints a node death and its resurrection as they happen, and stops on io.signal', async () => {
    const [a, b, c] = cluster().urls;
    const file = path.join(tmp, 'watch-es.yaml');
    writeFileSync(
      file,
      `version: 1\ntargets:\n  search:\n    driver: elasticsearch\n    policy:\n      extends: preset:elasticsearch\n      healthCheck: { interval: 200ms, timeout: 150ms }\n      pool: { nodeFailureThreshold: 1, deadTimeout: 300ms, deadTimeoutMax: 1s }\n    options: { nodes: ['${a}', '${b}', '${c}'] }\n`,
    );
    let out = '';
    const controller = new AbortController();
    const done = main(['watch', '--config', file, '--every', '200ms'], {
      stdout: { write: (t: string) => (out += t), isTTY: false },
      stderr: { write: (t: string) => (out += t) },
      cwd: tmp,
      env: {},
      signal: controller.signal,
    });
    const waitFor = async (pattern: RegExp): Promise<void> => {
      const until = Date.now() + 10_000;
      while (!pattern.test(out)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; output so far:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      await waitFor(/search: connecting → connected/);
      await cluster().nodes[1]!.kill();
      await waitFor(new RegExp(`search: node ${b!.replace(/[.:/]/g, '\\$&')}\\S* dead \\(1×\\)`));
      await cluster().nodes[1]!.restart();
      await waitFor(new RegExp(`search: node ${b!.replace(/[.:/]/g, '\\$&')}\\S* back`));
    } finally {
      controller.abort();
    }
    expect(await done).toBe(0);
    expect(out).toContain('stopping (abort)');
    expect(out).toMatch(/^search\s+stopped\s/m);
    // Nothing but state changes is printed once stopping began.
    expect(out.slice(out.indexOf('stopping (abort)'))).not.toMatch(/node \S+ (dead|back)/);
    // The target stays connected throughout: one dead node of three is not an outage.
    expect(out).not.toContain('search: connected → reconnecting');
  });
});

describe('LiveView', () => {
  it('redraws in place on a TTY, events above the block', () => {
    let out = '';
    const view = new LiveView({ write: (t: string) => (out += t) }, { tty: true });
    view.update(['a', 'b']);
    view.event('something happened');
    view.update(['c', 'd']);
    expect(out).toBe('a\nb\n\x1b[2A\x1b[Jsomething happened\na\nb\n\x1b[2A\x1b[Jc\nd\n');
  });

  it('writes plain lines elsewhere, the block at most every logEveryMs', () => {
    let out = '';
    const view = new LiveView({ write: (t: string) => (out += t) }, { tty: false, logEveryMs: 1000 });
    view.update(['t1'], 0);
    view.update(['t2'], 500);
    view.event('e');
    view.update(['t3'], 1000);
    view.update(['t4'], 1200);
    view.close();
    expect(out).toBe('t1\ne\nt3\nt4\n');
  });

  it('aligns table columns', () => {
    expect(formatTable({ headers: ['A', 'BB'], rows: [['xyz', '1']] })).toEqual(['A    BB', 'xyz  1']);
  });
});
