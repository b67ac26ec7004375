import { delayBounds, type BackoffPolicy, type DelayFn, type ResolvedPolicy } from '@reconnect/core';

/** One attempt of a schedule: the wait before it and when, at worst, it starts. */
export interface ScheduleRow {
  /** 1-based attempt number. */
  attempt: number;
  /** The range the wait before this attempt falls in (ms); absent for an attempt that runs at once. */
  delay?: { min: number; max: number };
  /** When the attempt starts at the latest, counted from the operation's start (ms), if every earlier attempt ran to its timeout. */
  worstStart: number;
  /** Whether the operation's deadline has passed by then in the worst case, so it never starts (retry schedules only). */
  pastDeadline?: boolean;
  /**
   * Whether, in the worst case, it starts before the deadline but the deadline ends it before its attempt
   * timeout would (retry schedules only): the engine gives such an attempt what is left of the deadline.
   */
  cutByDeadline?: boolean;
}

/** A schedule and whether rows were left out for brevity. */
export interface Schedule {
  rows: ScheduleRow[];
  /** How many attempts the policy allows in all (Infinity for unlimited). */
  totalAttempts: number;
  /** Attempts beyond `rows` that exist but were not listed. */
  omitted: number;
  /** The first attempt that never starts in the worst case because the deadline has passed, listed or not (retry schedules only). */
  firstPastDeadline?: number;
  /** The attempt the deadline cuts short in the worst case, listed or not; at most one (retry schedules only). */
  cutByDeadline?: number;
  /** When the last allowed attempt ends at worst, if the deadline touches no attempt (retry schedules only). */
  worstEnd?: number;
}

// A code-defined delay is called like the engine calls it; garbage becomes 0, as the engine treats it.
function bounds(
  backoff: BackoffPolicy,
  custom: DelayFn | undefined,
  n: number,
): { min: number; max: number } {
  if (custom === undefined) return delayBounds(backoff, n);
  let d: number;
  try {
    const v = custom(n);
    d = Number.isFinite(v) && v > 0 ? v : 0;
  } catch {
    d = 0;
  }
  return { min: d, max: d };
}

/**
 * The retry schedule of one operation: attempt 1 runs at once, attempt k waits the delay of retry k−1.
 * Worst case: every earlier attempt used its whole `attemptTimeout` and every wait its maximum.
 * `attemptTimeout: 0` and `deadline: 0` mean no limit: with no attempt timeout a hung attempt never
 * ends, so every later start (and the end) is unbounded (Infinity); with no deadline nothing is past it.
 *
 * The deadline acts as the engine applies it (engine/attempt.ts, retry-executor.ts): an attempt that starts
 * before it runs for at most what is left of it (so one that would end past it is cut short), and a retry whose
 * wait ends at or past it never starts. So at most one attempt is cut, and the ones after it never start.
 */
export function retrySchedule(policy: ResolvedPolicy, maxRows: number): Schedule {
  const { retry } = policy;
  const attemptLimit = retry.attemptTimeout === 0 ? Number.POSITIVE_INFINITY : retry.attemptTimeout;
  const hasDeadline = retry.deadline > 0;
  const deadline = retry.deadline;
  const totalAttempts = retry.maxRetries + 1;
  const rows: ScheduleRow[] = [];
  let firstPastDeadline: number | undefined;
  let cutByDeadline: number | undefined;
  let start = 0;
  // Walk past the listed rows (bounded) so the deadline verdict holds for long schedules too.
  const walk = Math.min(totalAttempts, Math.max(maxRows, 10_000));
  for (let k = 1; k <= walk && (k <= maxRows || firstPastDeadline === undefined); k++) {
    const delay = k === 1 ? undefined : bounds(retry.backoff, retry.delay, k - 1);
    if (delay !== undefined) start += attemptLimit + delay.max;
    const past = hasDeadline && start >= deadline;
    const cut = hasDeadline && !past && start + attemptLimit > deadline;
    if (past && firstPastDeadline === undefined) firstPastDeadline = k;
    if (cut) cutByDeadline = k;
    if (k <= maxRows) {
      const row: ScheduleRow = { attempt: k, worstStart: start, pastDeadline: past };
      if (delay !== undefined) row.delay = delay;
      if (cut) row.cutByDeadline = true;
      rows.push(row);
    }
  }
  const schedule: Schedule = { rows, totalAttempts, omitted: Math.max(0, totalAttempts - rows.length) };
  if (firstPastDeadline !== undefined) schedule.firstPastDeadline = firstPastDeadline;
  if (cutByDeadline !== undefined) schedule.cutByDeadline = cutByDeadline;
  else if (firstPastDeadline === undefined && walk === totalAttempts)
    schedule.worstEnd = start + attemptLimit;
  return schedule;
}

/**
 * The reconnect schedule after a lost connection: attempt k waits the delay of attempt k (1-based).
 * Worst case: every earlier attempt used its whole `connectTimeout` and every wait its maximum.
 */
export function reconnectSchedule(policy: ResolvedPolicy, maxRows: number): Schedule {
  const { reconnect } = policy;
  const totalAttempts = reconnect.maxRetries;
  const rows: ScheduleRow[] = [];
  let worst = 0;
  for (let k = 1; k <= Math.min(totalAttempts, maxRows); k++) {
    const delay = bounds(reconnect.backoff, reconnect.delay, k);
    worst += (k === 1 ? 0 : reconnect.connectTimeout) + delay.max;
    rows.push({ attempt: k, delay, worstStart: worst });
  }
  const omitted =
    totalAttempts === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : totalAttempts - rows.length;
  return { rows, totalAttempts, omitted: Math.max(0, omitted) };
}

/** A bar of `width` cells: `█` up to the shortest wait, `░` over the range jitter may add. */
export function bar(min: number, max: number, scale: number, width: number): string {
  if (scale <= 0) return '';
  const full = Math.round((min / scale) * width);
  const upTo = Math.max(full, Math.round((max / scale) * width));
  return '█'.repeat(full) + '░'.repeat(upTo - full);
}
