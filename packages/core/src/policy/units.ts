/** Milliseconds per unit accepted in duration strings. */
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const durationPattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;

/** The JSON Schema pattern of a duration string (`250ms`, `1.5s`, `10s`, `5m`, `1h`). */
export const durationPatternSource = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$';

/**
 * Parses `250ms`, `1.5s`, `10s`, `5m`, `1h`, or a non-negative number of milliseconds.
 * Returns `undefined` for anything else (negative, NaN, Infinity, unknown unit).
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = durationPattern.exec(value);
  if (m === null) return undefined;
  const ms = Number(m[1]) * (unitMs[m[2] as string] as number);
  return Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : undefined;
}

/** Formats milliseconds for humans: `250ms`, `1.5s`, `2m`, `1h 30m`. */
export function formatDuration(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return '∞';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1000)}s`;
  if (ms < 3_600_000) {
    const m = Math.floor(ms / 60_000);
    const sec = Math.round((ms - m * 60_000) / 1000);
    if (sec === 60) return formatDuration((m + 1) * 60_000);
    return sec === 0 ? `${m}m` : `${m}m ${sec}s`;
  }
  const h = Math.floor(ms / 3_600_000);
  const rest = ms - h * 3_600_000;
  return rest === 0 ? `${h}h` : `${h}h ${formatDuration(rest)}`;
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}

const percentPattern = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/** The JSON Schema pattern of a percentage string (`10%`). */
export const percentPatternSource = '^\\s*\\d+(\\.\\d+)?\\s*%\\s*$';

/** Parses `10%` or a fraction in [0, 1]; `undefined` for anything else. */
export function parseFraction(value: unknown): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = percentPattern.exec(value);
  if (m === null) return undefined;
  const f = Number(m[1]) / 100;
  return f <= 1 ? f : undefined;
}
