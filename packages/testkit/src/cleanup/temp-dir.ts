import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment variable naming the directory every testkit temp dir is created in (set by the global setup). */
export const TESTKIT_ROOT_ENV = 'RECONNECT_TESTKIT_ROOT';

let ownRoot: string | undefined;

/**
 * The directory this process creates server directories in: `$RECONNECT_TESTKIT_ROOT` when the
 * Vitest global setup shares one root with every worker, else a per-process `reconnect-testkit-<pid>`
 * in the OS temp dir, removed when the process exits.
 */
export function testkitRoot(): string {
  const shared = process.env[TESTKIT_ROOT_ENV];
  if (shared !== undefined && shared !== '') {
    mkdirSync(shared, { recursive: true, mode: 0o755 });
    return shared;
  }
  if (ownRoot === undefined) {
    ownRoot = join(tmpdir(), `reconnect-testkit-${process.pid}`);
    mkdirSync(ownRoot, { recursive: true, mode: 0o755 });
  }
  return ownRoot;
}

/** The per-process root, if this process created one (it is removed at exit). */
export function ownedRoot(): string | undefined {
  return ownRoot;
}

/** Creates a fresh directory `<root>/<prefix>-XXXXXX`. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(testkitRoot(), `${prefix}-`));
}

/** Removes a directory tree; never throws (cleanup must go on for the other resources). */
export function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // Best effort: the leak check at the end of the run reports what survived.
  }
}
