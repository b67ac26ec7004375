/** Where a live view writes; `isTTY` decides between redrawing in place and a line log. */
export interface LiveOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  /** The terminal's width: block lines are cut to it on a TTY, so a wrapped line cannot break the redraw. */
  columns?: number;
}

/** One table: a header row and rows of cells, all strings. */
export interface ViewTable {
  headers: readonly string[];
  rows: readonly (readonly string[])[];
}

/** Aligned columns, two spaces apart; numbers could be right-aligned but every cell is already formatted. */
export function formatTable(table: ViewTable): string[] {
  const widths = table.headers.map((h, i) =>
    Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(table.headers), ...table.rows.map(line)];
}

/**
 * A live terminal view. On a TTY the block of lines is redrawn in place (events are printed above it,
 * so they scroll like a log while the table stays at the bottom); elsewhere (a pipe, a CI log) every
 * event is one line and the block is printed as plain lines at most every `logEveryMs`.
 */
export class LiveView {
  readonly #out: LiveOutput;
  readonly #tty: boolean;
  readonly #logEveryMs: number;
  #drawn = 0;
  #closed = false;
  #lastLogged = Number.NEGATIVE_INFINITY;
  #block: string[] = [];

  constructor(out: LiveOutput, options: { tty?: boolean; logEveryMs?: number } = {}) {
    this.#out = out;
    this.#tty = options.tty ?? out.isTTY === true;
    this.#logEveryMs = options.logEveryMs ?? 2000;
  }

  /** Whether the view redraws in place. */
  get tty(): boolean {
    return this.#tty;
  }

  /** Replaces the block (the table and a progress line). */
  update(lines: readonly string[], now = Date.now()): void {
    if (this.#closed) return;
    this.#block = [...lines];
    if (this.#tty) {
      this.#redraw();
    } else if (now - this.#lastLogged >= this.#logEveryMs) {
      this.#lastLogged = now;
      this.#out.write(`${lines.join('\n')}\n`);
    }
  }

  /** Prints one event line (a fault announced, a state change) above the block. */
  event(line: string): void {
    if (this.#tty && !this.#closed) {
      this.#clear();
      this.#out.write(`${line}\n`);
      this.#redraw();
    } else {
      this.#out.write(`${line}\n`);
    }
  }

  /**
   * Leaves the last block on screen (a TTY) or prints it once more (a line log); afterwards events are
   * plain lines and updates are ignored.
   */
  close(): void {
    if (this.#closed) return;
    if (!this.#tty && this.#block.length > 0) this.#out.write(`${this.#block.join('\n')}\n`);
    this.#drawn = 0;
    this.#closed = true;
  }

  #clear(): void {
    if (this.#drawn > 0) this.#out.write(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
  }

  #redraw(): void {
    this.#clear();
    if (this.#block.length === 0) return;
    const width = this.#out.columns;
    const lines = width === undefined || width < 20 ? this.#block : this.#block.map((l) => cut(l, width - 1));
    this.#out.write(`${lines.join('\n')}\n`);
    this.#drawn = this.#block.length;
  }
}

function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** `12.3` style figures for a live view: `—` when there is nothing to show. */
export function figure(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(digits);
}
