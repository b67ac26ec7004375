// The watcher's debounce and content comparison, on the fake clock with a fake directory watch (no file system):
// a burst of events is one change, an event that changed nothing is none, a file missing mid-save is waited for.
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../src/index.js';
import { ConfigWatcher, type DirectoryWatch } from '../../src/manager/config-watcher.js';

function setup(debounceMs = 100) {
  const clock = createFakeClock(0);
  const files = new Map<string, string | undefined>([['/cfg/reconnect.config.yaml', 'a']]);
  const listeners = new Map<string, (gone?: boolean) => void>();
  let closed = 0;
  const watchDirectory: DirectoryWatch = (dir, onEvent) => {
    listeners.set(dir, onEvent);
    return () => {
      closed++;
      listeners.delete(dir);
    };
  };
  let changes = 0;
  const watcher = new ConfigWatcher({
    files: ['/cfg/reconnect.config.yaml'],
    debounceMs,
    clock,
    watchDirectory,
    read: (f) => Promise.resolve(files.get(f)),
    onChange: () => changes++,
  });
  const fire = () => listeners.get('/cfg')?.();
  // The settle reads asynchronously (and asks the real file system where a symlink points): let it finish.
  const flush = async () => {
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 5));
  };
  return {
    clock,
    files,
    watcher,
    fire,
    flush,
    changes: () => changes,
    closed: () => closed,
    listeners,
  };
}

describe('ConfigWatcher', () => {
  it('turns a burst of events into one change, after the quiet period', async () => {
    const t = setup(100);
    await t.watcher.start();
    expect(t.watcher.watchedDirectories).toBe(1);
    t.files.set('/cfg/reconnect.config.yaml', 'b');
    for (let i = 0; i < 5; i++) {
      t.fire();
      await t.clock.advanceAsync(60);
    }
    expect(t.changes()).toBe(0); // still inside the quiet period: every event re-armed it
    await t.clock.advanceAsync(100);
    await t.flush();
    expect(t.changes()).toBe(1);
    await t.clock.advanceAsync(1000);
    await t.flush();
    expect(t.changes()).toBe(1);
  });

  it('reports nothing when events did not change the content (swap files, chmod)', async () => {
    const t = setup(100);
    await t.watcher.start();
    t.fire();
    await t.clock.advanceAsync(150);
    await t.flush();
    expect(t.changes()).toBe(0);
  });

  it('waits while the file is missing mid-save (renamed away), then reports the new content once', async () => {
    const t = setup(100);
    await t.watcher.start();
    t.files.set('/cfg/reconnect.config.yaml', undefined);
    t.fire();
    await t.clock.advanceAsync(100);
    await t.flush();
    expect(t.changes()).toBe(0);
    t.files.set('/cfg/reconnect.config.yaml', 'c');
    await t.clock.advanceAsync(100);
    await t.flush();
    expect(t.changes()).toBe(1);
    expect(t.watcher.seen).toBe('c');
  });

  it('reports a file that stays missing after five quiet periods (the reload then says why)', async () => {
    const t = setup(100);
    await t.watcher.start();
    t.files.set('/cfg/reconnect.config.yaml', undefined);
    t.fire();
    for (let i = 0; i < 6; i++) {
      await t.clock.advanceAsync(100);
      await t.flush();
    }
    expect(t.changes()).toBe(1);
  });

  it('stop() closes every watch and clears the timer', async () => {
    const t = setup(100);
    await t.watcher.start();
    t.files.set('/cfg/reconnect.config.yaml', 'b');
    t.fire();
    expect(t.clock.pending()).toBe(1);
    t.watcher.stop();
    expect(t.clock.pending()).toBe(0);
    expect(t.closed()).toBe(1);
    expect(t.watcher.watchedDirectories).toBe(0);
    await t.clock.advanceAsync(500);
    await t.flush();
    expect(t.changes()).toBe(0);
  });
});
