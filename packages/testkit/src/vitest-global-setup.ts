import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { familyMembers, killFamily } from './cleanup/process-group.js';
import { removeDir, TESTKIT_ROOT_ENV } from './cleanup/temp-dir.js';
import { SERVER_MARKER_FILE } from './servers/server-process.js';

/** A server directory (and its process group, if alive) that outlived the test run. */
export interface Leak {
  dir: string;
  kind: string | undefined;
  /** The server's process group, when its marker file was readable. */
  pgid: number | undefined;
  /** Live processes of that group. */
  pids: number[];
}

/**
 * Lists what survives under a testkit root: every server directory left behind, with the live pids
 * of its process group. Empty means the run cleaned up after itself.
 */
export function findLeaks(root: string): Leak[] {
  if (!existsSync(root)) return [];
  const leaks: Leak[] = [];
  for (const entry of readdirSync(root)) {
    const dir = join(root, entry);
    let kind: string | undefined;
    let pgid: number | undefined;
    let pids: number[] = [];
    try {
      const marker = JSON.parse(readFileSync(join(dir, SERVER_MARKER_FILE), 'utf8')) as {
        kind?: string;
        pgid?: number;
      };
      kind = marker.kind;
      if (typeof marker.pgid === 'number') {
        pgid = marker.pgid;
        pids = familyMembers(marker.pgid);
      }
    } catch {
      // no marker: a directory without a started server still counts as a leak
    }
    leaks.push({ dir, kind, pgid, pids });
  }
  return leaks;
}

/**
 * Vitest global setup. Gives every test worker one shared temp root (through `RECONNECT_TESTKIT_ROOT`),
 * and at the end of the run kills and removes anything left in it, then fails the run if anything was left.
 * Wire it in vitest.config.ts: `test: { globalSetup: ['packages/testkit/src/vitest-global-setup.ts'] }`.
 */
export default function setup(): () => Promise<void> {
  const root = join(tmpdir(), `reconnect-testkit-run-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const previous = process.env[TESTKIT_ROOT_ENV];
  process.env[TESTKIT_ROOT_ENV] = root;
  return async () => {
    const leaks = findLeaks(root);
    for (const leak of leaks) {
      if (leak.pgid !== undefined && leak.pids.length > 0) await killFamily(leak.pgid, 2000);
      removeDir(leak.dir);
    }
    removeDir(root);
    if (previous === undefined) delete process.env[TESTKIT_ROOT_ENV];
    else process.env[TESTKIT_ROOT_ENV] = previous;
    if (leaks.length > 0) {
      const lines = leaks.map(
        (l) =>
          `  - ${l.kind ?? 'unknown'} in ${l.dir}${l.pids.length > 0 ? ` (live pids ${l.pids.join(', ')})` : ''}`,
      );
      throw new Error(
        `@reconnect/testkit: ${leaks.length} server(s) outlived the test run and were killed now:\n${lines.join('\n')}`,
      );
    }
  };
}
