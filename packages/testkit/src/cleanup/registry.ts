import { readdirSync, rmdirSync } from 'node:fs';
import { ownedRoot, removeDir } from './temp-dir.js';

/** Something the testkit started that must not outlive the test run. */
export interface TrackedResource {
  /** e.g. `redis 127.0.0.1:41234`. */
  readonly description: string;
  /** Releases the resource (graceful where possible, bounded). */
  dispose(): Promise<void>;
  /** Releases it at once, synchronously, for process-exit hooks. */
  disposeSync(): void;
}

/** A live resource as listed by {@link trackedResources}. */
export interface TrackedResourceInfo {
  description: string;
}

const resources = new Set<TrackedResource>();
let hooksInstalled = false;

/** Adds a resource to the process-wide registry; returns the function that removes it again. */
export function track(resource: TrackedResource): () => void {
  installExitHooks();
  resources.add(resource);
  return () => {
    resources.delete(resource);
  };
}

/** Every resource still alive in this process (servers, proxies). Empty after {@link cleanupAll}. */
export function trackedResources(): TrackedResourceInfo[] {
  return [...resources].map((r) => ({ description: r.description }));
}

/**
 * Stops every server and proxy this process started and removes their temp directories.
 * Safe to call any number of times; errors of one resource do not stop the others.
 */
export async function cleanupAll(): Promise<void> {
  const all = [...resources];
  await Promise.allSettled(all.map((r) => r.dispose()));
  for (const r of all) resources.delete(r);
  removeOwnRootIfEmpty();
}

function disposeAllSync(): void {
  for (const r of resources) {
    try {
      r.disposeSync();
    } catch {
      // keep going: the other resources still need cleaning
    }
  }
  resources.clear();
  const root = ownedRoot();
  if (root !== undefined) removeDir(root);
}

function removeOwnRootIfEmpty(): void {
  const root = ownedRoot();
  if (root === undefined) return;
  try {
    if (readdirSync(root).length === 0) rmdirSync(root);
  } catch {
    // already gone
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups and remove the directories.
  process.once('exit', disposeAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      disposeAllSync();
      process.off(signal, onSignal);
      // Keep the default behaviour (terminate) unless someone else handles the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
