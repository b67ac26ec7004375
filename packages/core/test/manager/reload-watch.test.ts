// manager.watch() on real files in a temp dir: each way editors and Kubernetes save a file is one reload, and
// unwatch() / stopAll() leave no watcher or timer (resources tracked through async_hooks).
import { createHook } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createManager, type Manager } from '../../src/index.js';
import { createMemoryDriver } from '../lifecycle/memory-driver.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-watch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const managers: Manager[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.stopAll()));
});

const NAME = 'reconnect.config.yaml';
const text = (retries: number) =>
  `version: 1\ntargets:\n  a:\n    driver: memory\n    policy: { retry: { maxRetries: ${retries} } }\n`;
const debounceMs = 100;

async function watched(file: string) {
  const { driver } = createMemoryDriver();
  const m = await createManager({
    config: file,
    drivers: { memory: driver },
    env: {},
    watch: { debounceMs },
  });
  managers.push(m);
  const reloads: string[] = [];
  m.on('reload', (e) => reloads.push(e.summary.join('; ')));
  m.on('reloadFailed', () => reloads.push('failed'));
  return { m, reloads };
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One save, then: exactly one reload arrives (within 5 s, a loaded machine), and no second one within a further
// 8 quiet periods.
async function expectOneReload(reloads: string[], save: () => void, summary: string): Promise<void> {
  const before = reloads.length;
  save();
  await until(() => reloads.length > before, 5000);
  await sleep(8 * debounceMs);
  expect(reloads.slice(before)).toEqual([summary]);
}

describe('manager.watch(): each save pattern is one reload', () => {
  it('a write in place (echo > file, most tools)', async () => {
    const dir = mkdtempSync(path.join(tmp, 'inplace-'));
    const file = path.join(dir, NAME);
    writeFileSync(file, text(1));
    const { m, reloads } = await watched(file);
    await expectOneReload(reloads, () => writeFileSync(file, text(2)), 'a: retry.maxRetries 1 → 2');
    await expectOneReload(reloads, () => writeFileSync(file, text(3)), 'a: retry.maxRetries 2 → 3');
    expect(m.target('a').policy.retry.maxRetries).toBe(3);
  });

  it('a temp file renamed over the original (atomic save: VS Code, sed -i, most editors)', async () => {
    const dir = mkdtempSync(path.join(tmp, 'rename-'));
    const file = path.join(dir, NAME);
    writeFileSync(file, text(1));
    const { m, reloads } = await watched(file);
    await expectOneReload(
      reloads,
      () => {
        const temp = path.join(dir, `.${NAME}.tmp-1234`);
        writeFileSync(temp, text(4));
        renameSync(temp, file);
      },
      'a: retry.maxRetries 1 → 4',
    );
    expect(m.target('a').policy.retry.maxRetries).toBe(4);
  });

  it("vim's save: a 4913 probe file, the original renamed to a backup, a new file written, the backup removed", async () => {
    const dir = mkdtempSync(path.join(tmp, 'vim-'));
    const file = path.join(dir, NAME);
    writeFileSync(file, text(1));
    const { m, reloads } = await watched(file);
    await expectOneReload(
      reloads,
      () => {
        const probe = path.join(dir, '4913');
        writeFileSync(probe, '');
        unlinkSync(probe);
        writeFileSync(path.join(dir, `.${NAME}.swp`), 'swap');
        renameSync(file, `${file}~`);
        writeFileSync(file, text(5));
        unlinkSync(`${file}~`);
      },
      'a: retry.maxRetries 1 → 5',
    );
    expect(m.target('a').policy.retry.maxRetries).toBe(5);
  });

  it('a Kubernetes ConfigMap update: the ..data symlink swapped to a new timestamped directory', async () => {
    const dir = mkdtempSync(path.join(tmp, 'configmap-'));
    const generation = (name: string, retries: number) => {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, NAME), text(retries));
    };
    generation('..2026_12_02_00_00_00.1', 1);
    symlinkSync('..2026_12_02_00_00_00.1', path.join(dir, '..data'));
    symlinkSync(path.join('..data', NAME), path.join(dir, NAME));
    const { m, reloads } = await watched(path.join(dir, NAME));
    // What the kubelet does: write the new generation, point ..data_tmp at it, rename it over ..data, remove the old.
    const swap = (from: string, to: string, retries: number) => () => {
      generation(to, retries);
      symlinkSync(to, path.join(dir, '..data_tmp'));
      renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      rmSync(path.join(dir, from), { recursive: true });
    };
    await expectOneReload(
      reloads,
      swap('..2026_12_02_00_00_00.1', '..2026_12_02_00_01_00.2', 6),
      'a: retry.maxRetries 1 → 6',
    );
    await expectOneReload(
      reloads,
      swap('..2026_12_02_00_01_00.2', '..2026_12_02_00_02_00.3', 7),
      'a: retry.maxRetries 6 → 7',
    );
    expect(m.target('a').policy.retry.maxRetries).toBe(7);
  });

  it('events that do not change the content (touching, a swap file beside it) reload nothing', async () => {
    const dir = mkdtempSync(path.join(tmp, 'noop-'));
    const file = path.join(dir, NAME);
    writeFileSync(file, text(1));
    const { reloads } = await watched(file);
    writeFileSync(path.join(dir, `.${NAME}.swp`), 'swap');
    writeFileSync(file, text(1));
    await sleep(10 * debounceMs);
    expect(reloads).toEqual([]);
  });
});

describe('unwatch() and stopAll() leave no watcher or timer', () => {
  // Every FSEvent handle and timer created while the manager watches, until destroyed.
  function trackResources() {
    const live = new Map<number, string>();
    let since = new Set<number>();
    const hook = createHook({
      init(id, type) {
        if (type === 'FSEVENTWRAP' || type === 'Timeout') {
          live.set(id, type);
          since.add(id);
        }
      },
      destroy(id) {
        live.delete(id);
      },
    });
    hook.enable();
    return {
      count: (type: string) => [...live.values()].filter((t) => t === type).length,
      /** Starts recording which resources are created from now on. */
      mark: () => {
        since = new Set();
      },
      /** Resources of `type` created since mark() that are still alive. */
      aliveSinceMark: (type: string) => [...since].filter((id) => live.get(id) === type).length,
      stop: () => hook.disable(),
    };
  }

  it.each(['unwatch', 'stopAll'] as const)(
    '%s() closes the watcher and clears a pending debounce',
    async (how) => {
      const dir = mkdtempSync(path.join(tmp, `${how}-`));
      const file = path.join(dir, NAME);
      writeFileSync(file, text(1));
      const resources = trackResources();
      try {
        const { m, reloads } = await watched(file);
        expect(m.watching).toBe(true);
        expect(resources.count('FSEVENTWRAP')).toBeGreaterThan(0);
        // A save arms the debounce timer; stopping now must clear it (no reload ever follows).
        resources.mark();
        writeFileSync(file, text(2));
        await sleep(20);
        expect(resources.aliveSinceMark('Timeout')).toBeGreaterThan(0); // the debounce, armed by the save
        if (how === 'unwatch') m.unwatch();
        else await m.stopAll();
        expect(m.watching).toBe(false);
        await new Promise((r) => setImmediate(r));
        expect(resources.aliveSinceMark('Timeout')).toBe(0); // cleared, not left to fire
        await sleep(5 * debounceMs);
        expect(reloads).toEqual([]);
        expect(resources.count('FSEVENTWRAP')).toBe(0);
        writeFileSync(file, text(3));
        await sleep(5 * debounceMs);
        expect(reloads).toEqual([]);
      } finally {
        resources.stop();
      }
    },
  );
});
