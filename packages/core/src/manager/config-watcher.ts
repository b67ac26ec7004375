import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';

/**
 * Watches one directory; calls `onEvent` for anything that happens in it, with `gone` when the watch ended by
 * itself (the directory was removed). Returns a closer.
 */
export type DirectoryWatch = (dir: string, onEvent: (gone?: boolean) => void) => () => void;

/** Options of a {@link ConfigWatcher}. */
export interface ConfigWatcherOptions {
  /** The files to follow (absolute paths; a symlink is followed to its target too). */
  files: readonly string[];
  /** Quiet time after the last file-system event before the files are compared. */
  debounceMs: number;
  /** Called once per settled change: the content of a followed file differs from what was last seen. */
  onChange: () => void;
  clock?: Clock;
  /** Replaces `fs.watch` on directories (tests). */
  watchDirectory?: DirectoryWatch;
  /** Replaces reading a file's content (tests); `undefined` when it does not exist. */
  read?: (file: string) => Promise<string | undefined>;
}

// While a followed file is missing (mid-save: vim renamed the old one away), wait up to this many quiet periods.
const maxMissingWaits = 5;

/**
 * Follows configuration files through every way editors and orchestrators save them, and reports each settled
 * change once. It watches the directories, not the files: a write in place, a temp file renamed over the
 * original (vim, most editors) and a Kubernetes ConfigMap's `..data` symlink swap all show up there, and a watch
 * on the file itself would die with the inode a rename replaces. Events only arm a debounce timer; when it fires,
 * the files' contents are compared with what was last seen, so a burst of events (swap files, `4913` probes,
 * chmod) is one change, or none when the content did not change. Watches are not persistent (they never keep the
 * process alive) and `stop()` leaves no watcher or timer.
 */
export class ConfigWatcher {
  readonly #o: ConfigWatcherOptions;
  readonly #clock: Clock;
  readonly #watches = new Map<string, () => void>();
  #timer: TimerHandle | undefined;
  #seen: string | undefined;
  #missingWaits = 0;
  #running = false;
  #settling: Promise<void> | undefined;

  constructor(options: ConfigWatcherOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Whether it is watching. */
  get running(): boolean {
    return this.#running;
  }

  /** How many directories are watched (for tests: 0 after stop()). */
  get watchedDirectories(): number {
    return this.#watches.size;
  }

  /** Starts watching; resolves once the current contents are read (the baseline later saves compare with). */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { text } = await this.#snapshot();
    this.#seen = text;
    if (!this.#running) return;
    await this.#rewatch();
  }

  /** Stops watching: closes every watcher and clears the debounce timer. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const close of this.#watches.values()) close();
    this.#watches.clear();
  }

  /** The contents last seen (what the next change is compared with). */
  get seen(): string | undefined {
    return this.#seen;
  }

  // Any event re-arms the quiet period: a save is a burst of events.
  #event(dir: string, gone: boolean): void {
    if (gone) this.#watches.delete(dir);
    if (!this.#running) return;
    this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#settling = (this.#settling ?? Promise.resolve()).then(() => this.#settle());
    }, this.#o.debounceMs);
  }

  async #settle(): Promise<void> {
    if (!this.#running) return;
    const { text, missing } = await this.#snapshot();
    if (!this.#running) return;
    // A symlink swap may have moved the real file into a new directory: follow it there.
    await this.#rewatch();
    if (missing && this.#missingWaits < maxMissingWaits) {
      this.#missingWaits++;
      this.#arm();
      return;
    }
    this.#missingWaits = 0;
    if (text === this.#seen) return;
    this.#seen = text;
    this.#o.onChange();
  }

  // The followed files' contents as one string; `missing` when one of them does not exist right now.
  async #snapshot(): Promise<{ text: string; missing: boolean }> {
    const read = this.#o.read ?? readOrUndefined;
    const contents = await Promise.all(this.#o.files.map((f) => read(f)));
    return {
      text: contents.map((c) => (c === undefined ? '\u0000missing' : c)).join('\u0000'),
      missing: contents.some((c) => c === undefined),
    };
  }

  // Watches each file's directory, and its real directory when it is a symlink; drops directories no longer needed.
  async #rewatch(): Promise<void> {
    const dirs = new Set<string>();
    for (const file of this.#o.files) {
      dirs.add(path.dirname(file));
      const real = await realpath(file).catch(() => undefined);
      if (real !== undefined) dirs.add(path.dirname(real));
    }
    if (!this.#running) return;
    const watchDirectory = this.#o.watchDirectory ?? watchWithFs;
    for (const [dir, close] of this.#watches) {
      if (dirs.has(dir)) continue;
      close();
      this.#watches.delete(dir);
    }
    for (const dir of dirs) {
      if (this.#watches.has(dir)) continue;
      try {
        this.#watches.set(
          dir,
          watchDirectory(dir, (gone) => this.#event(dir, gone === true)),
        );
      } catch {
        // A directory that vanished (an old ConfigMap generation): the next settle watches the new one.
      }
    }
  }
}

async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

// fs.watch on a directory, not persistent (never keeps the process alive); an error (the directory was removed)
// closes it quietly.
const watchWithFs: DirectoryWatch = (dir, onEvent) => {
  const watcher: FSWatcher = fsWatch(dir, { persistent: false }, () => onEvent());
  watcher.on('error', () => {
    watcher.close();
    onEvent(true);
  });
  return () => watcher.close();
};
