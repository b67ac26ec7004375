import { parseArgs } from 'node:util';
import {
  formatDuration,
  isConfigError,
  loadConfig,
  resolvePolicyWithProvenance,
  worstCaseDetectionMs,
  type BackoffPolicy,
  type ConfigError,
  type ResolvedPolicy,
} from '@reconnect/core';
import { displayPath, formatIssues } from '../format.js';
import { ExitCode, type Io } from '../io.js';
import { bar, reconnectSchedule, retrySchedule, type Schedule } from '../schedule.js';

/** `reconnect explain --help`. */
export const explainHelp = `Usage: reconnect explain TARGET [--config FILE] [--json] [--rows N]

Shows how a target behaves under failure: the retry schedule of one operation
and the reconnect schedule after a lost connection (attempt, the range the wait
before it falls in, the worst-case time it starts, a bar per wait), and what ends
the retrying (max retries, deadline, budget, breaker).

TARGET is a target name from the policy file, or preset:NAME to explain a preset
on its own (no file needed).

Options:
  -c, --config FILE  the policy file (default: found in the current directory)
      --json         print a JSON document instead of text
      --rows N       list at most N attempts per schedule (default 12)
  -h, --help         show this help
`;

const BAR_WIDTH = 30;

function describeBackoff(b: BackoffPolicy, custom: boolean): string {
  if (custom) return 'delay(attempt) defined in code';
  const jitter = b.jitter === 'none' ? 'no jitter' : `${b.jitter} jitter`;
  const growth =
    b.type === 'fixed'
      ? `every ${formatDuration(b.base)}`
      : b.type === 'decorrelated'
        ? `from ${formatDuration(b.base)}, up to 3× the previous wait`
        : `base ${formatDuration(b.base)}, ${b.type === 'linear' ? '+' : '×'}${b.type === 'linear' ? formatDuration(b.base) : b.factor} per retry`;
  return `${b.type}, ${growth}, capped at ${formatDuration(b.max)}${b.type === 'decorrelated' ? '' : `, ${jitter}`}`;
}

function range(d: { min: number; max: number } | undefined): string {
  if (d === undefined) return 'at once';
  return d.min === d.max ? formatDuration(d.max) : `${formatDuration(d.min)} – ${formatDuration(d.max)}`;
}

function table(schedule: Schedule, note: (row: Schedule['rows'][number]) => string): string[] {
  const scale = Math.max(0, ...schedule.rows.map((r) => r.delay?.max ?? 0));
  const lines = [`    attempt  wait before        worst-case start`];
  for (const r of schedule.rows) {
    const chart = r.delay === undefined ? '' : bar(r.delay.min, r.delay.max, scale, BAR_WIDTH);
    lines.push(
      `    ${String(r.attempt).padStart(7)}  ${range(r.delay).padEnd(17)}  ${formatDuration(r.worstStart).padEnd(16)}  ${chart}${note(r)}`.trimEnd(),
    );
  }
  if (schedule.omitted > 0) {
    const more =
      schedule.omitted === Number.POSITIVE_INFINITY ? 'more, without end' : `${schedule.omitted} more`;
    lines.push(`    … ${more}`);
  }
  return lines;
}

/**
 * What the deadline does to the worst case, in the words of the table's marks: the attempt it cuts short
 * (`✂`), the first it keeps from starting (`✗`), or when the last attempt ends if it touches none.
 */
function deadlineSentence(retry: ResolvedPolicy['retry'], s: Schedule): string {
  const unbounded = s.worstEnd === Number.POSITIVE_INFINITY;
  if (retry.deadline === 0) {
    const end = unbounded
      ? '; the worst case is unbounded (∞)'
      : s.worstEnd !== undefined
        ? `; the last attempt ends by ${formatDuration(s.worstEnd)} at worst`
        : '';
    return `no deadline (retry.deadline: 0): time does not end the retrying${end}`;
  }
  const head = `deadline: ${formatDuration(retry.deadline)} (retry.deadline)`;
  const hung =
    retry.attemptTimeout === 0 ? 'with no attempt timeout, it is what abandons a hung attempt; ' : '';
  const stops =
    s.firstPastDeadline === undefined ? '' : `ends the retrying before attempt ${s.firstPastDeadline}`;
  if (s.cutByDeadline !== undefined) {
    const cut = `it cuts attempt ${s.cutByDeadline} short at ${formatDuration(retry.deadline)}`;
    const last = s.cutByDeadline === s.totalAttempts ? ' (the last attempt)' : '';
    return `${head} — ${hung}in the worst case ${cut}${last}${stops === '' ? '' : ` and ${stops}`}`;
  }
  if (stops !== '') return `${head} — ${hung}in the worst case it ${stops}`;
  if (s.worstEnd !== undefined)
    return `${head} — not reached: the last attempt ends by ${formatDuration(s.worstEnd)} at worst`;
  return head;
}

function retryEnds(p: ResolvedPolicy, s: Schedule): string[] {
  const { retry } = p;
  const out: string[] = [];
  out.push(
    retry.maxRetries === 0
      ? 'max retries: 0 — a failed operation is never retried (retry.maxRetries)'
      : `max retries: ${retry.maxRetries} retr${retry.maxRetries === 1 ? 'y' : 'ies'}, so at most ${retry.maxRetries + 1} attempts (retry.maxRetries)`,
  );
  const noAttemptTimeout = retry.attemptTimeout === 0;
  out.push(deadlineSentence(retry, s));
  out.push(
    noAttemptTimeout
      ? `no attempt timeout (retry.attemptTimeout: 0): an attempt that hangs is never abandoned on its own, so the worst case of every later attempt is unbounded (∞)${retry.deadline === 0 ? '' : ' until the deadline'}`
      : `attempt timeout: each attempt is abandoned after ${formatDuration(retry.attemptTimeout)} (retry.attemptTimeout)`,
  );
  out.push(
    retry.budget.enabled
      ? `budget: retries may be at most ${Math.round(retry.budget.ratio * 1000) / 10}% of requests over ${formatDuration(retry.budget.window)}, plus ${retry.budget.minPerSecond}/s earned by successes (none in a total outage); when it is spent retries stop (ERR_BUDGET_EXHAUSTED)`
      : 'budget: disabled (retry.budget.enabled: false)',
  );
  const cb = p.circuitBreaker;
  out.push(
    !cb.enabled
      ? 'circuit breaker: disabled'
      : cb.mode === 'consecutive'
        ? `circuit breaker: opens after ${cb.failureThreshold} consecutive failures and fails fast ${openings(cb.openFor)} (ERR_BREAKER_OPEN)`
        : `circuit breaker: opens when ${Math.round(cb.failureRate * 100)}% of at least ${cb.minimumCalls} calls over ${formatDuration(cb.window)} fail, and fails fast ${openings(cb.openFor)}`,
  );
  out.push(concurrencySentence(p.concurrency));
  out.push(hedgeSentence(retry.hedge));
  const on = retry.retryOn;
  const what = [
    on.errors.length > 0 ? `errors ${on.errors.join(', ')}` : '',
    on.codes.length > 0 ? `codes ${on.codes.join(', ')}` : '',
    on.statusCodes.length > 0 ? `HTTP ${on.statusCodes.join(', ')}` : '',
  ].filter((x) => x !== '');
  out.push(
    retry.retryIf !== undefined
      ? 'retried failures: decided by retryIf(error, ctx), defined in code'
      : `retried failures: ${what.length > 0 ? what.join('; ') : 'none'}; anything else reaches the caller at once`,
  );
  out.push('non-idempotent operations are retried only when the failure proves nothing was sent');
  return out;
}

function hedgeSentence(h: ResolvedPolicy['retry']['hedge']): string {
  if (!h.enabled) return 'hedged reads: off (retry.hedge.enabled)';
  const delay = typeof h.delay === 'number' ? formatDuration(h.delay) : `the ${h.delay} of recent reads`;
  const extra = Math.round(h.maxExtraLoad * 1000) / 10;
  return `hedged reads: a readOnly, idempotent read not answered after ${delay} is also sent to another live node (at most ${h.maxAttempts} attempts at once, at most ${extra}% extra reads); the first answer wins`;
}

function concurrencySentence(c: ResolvedPolicy['concurrency']): string {
  if (c.limit === 'off') return 'concurrency limit: off (concurrency.limit)';
  const limit =
    c.limit === 'adaptive'
      ? `adaptive, ${c.minLimit} to ${c.maxLimit} in flight (from ${c.initialLimit}; falls when latency passes ${c.tolerance}× its baseline)`
      : `${c.limit} in flight`;
  const excess =
    c.maxQueue === 0
      ? 'the excess is refused at once'
      : `the excess waits in a queue of ${c.maxQueue} for at most ${formatDuration(c.queueTimeout)}, then is refused`;
  return `concurrency limit: ${limit}; ${excess}, not sent (ERR_CONCURRENCY_LIMITED)`;
}

function reconnectEnds(p: ResolvedPolicy, s: Schedule): string[] {
  const r = p.reconnect;
  if (r.maxRetries === Number.POSITIVE_INFINITY) {
    return [
      `never: reconnect.maxRetries is unlimited; after attempt ${s.rows.length} the waits stay within the ${formatDuration(r.backoff.max)} cap`,
      `each attempt is abandoned after ${formatDuration(r.connectTimeout)} (reconnect.connectTimeout)`,
    ];
  }
  const after =
    r.onExhausted === 'keep-probing'
      ? `the target is failed and keeps probing every ${formatDuration(r.backoff.max)} (onExhausted: keep-probing)`
      : 'the target is failed and stops trying (onExhausted: stop)';
  return [
    `max retries: ${r.maxRetries} attempts (reconnect.maxRetries); then ${after}`,
    `each attempt is abandoned after ${formatDuration(r.connectTimeout)} (reconnect.connectTimeout)`,
  ];
}

function detection(p: ResolvedPolicy): string[] {
  const hc = p.healthCheck;
  const out: string[] = [];
  if (!hc.enabled) out.push('health checks: disabled; failures are noticed only by real operations');
  else {
    const worst = worstCaseDetectionMs(hc);
    out.push(
      `health checks: every ${formatDuration(hc.interval)} (±${Math.round(hc.jitter * 100)}%), ${formatDuration(hc.timeout)} timeout${hc.query === undefined ? '' : `, ${hc.query}`}`,
    );
    out.push(
      `a dead server is declared down after ${hc.failureThreshold} failed check${hc.failureThreshold === 1 ? '' : 's'}: within ${formatDuration(worst)} at worst; up again after ${hc.successThreshold} success${hc.successThreshold === 1 ? '' : 'es'}`,
    );
  }
  const pool = p.pool;
  out.push(
    `a failed node (multi-node targets) sits out ${formatDuration(pool.deadTimeout)}, doubling per failure up to ${formatDuration(pool.deadTimeoutMax)}; resurrect: ${pool.resurrect}`,
  );
  return out;
}

interface Explained {
  target: string;
  driver?: string;
  file?: string;
  layers: string[];
  policy: ResolvedPolicy;
}

async function resolveTarget(
  target: string,
  config: string | undefined,
  io: Io,
): Promise<Explained | ConfigError | string> {
  try {
    if (target.startsWith('preset:') && config === undefined) {
      const r = resolvePolicyWithProvenance({ extends: target }, { env: io.env });
      return { target, layers: r.layers, policy: r.policy };
    }
    const loaded = await loadConfig({ config, cwd: io.cwd, env: io.env });
    const t = loaded.targets[target];
    if (t === undefined) {
      const names = Object.keys(loaded.targets);
      return `No target "${target}" in ${displayPath(loaded.file, io.cwd) ?? 'the configuration'}; targets: ${names.join(', ') || '(none)'}`;
    }
    const e: Explained = { target, driver: t.driver, layers: t.layers, policy: t.policy };
    const file = displayPath(loaded.file, io.cwd);
    if (file !== undefined) e.file = file;
    return e;
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
}

/** Runs `reconnect explain TARGET`. Prints schedules only: no option value (and so no secret) is shown. */
export async function explain(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      rows: { type: 'string', default: '12' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(explainHelp);
    return ExitCode.OK;
  }
  const maxRows = Number(values.rows);
  if (positionals.length !== 1 || !Number.isInteger(maxRows) || maxRows < 1) {
    io.stderr.write(`reconnect explain: expected one TARGET and --rows ≥ 1\n\n${explainHelp}`);
    return ExitCode.USAGE;
  }
  const target = positionals[0] as string;
  const found = await resolveTarget(target, values.config, io);
  if (typeof found === 'string') {
    io.stderr.write(`✗ ${found}\n`);
    return ExitCode.INVALID;
  }
  if (!('policy' in found)) {
    io.stderr.write(`✗ the configuration is invalid:\n${formatIssues(found.issues, io.cwd).join('\n')}\n`);
    return ExitCode.INVALID;
  }
  const p = found.policy;
  const retry = retrySchedule(p, maxRows);
  const reconnect = reconnectSchedule(p, maxRows);

  if (values.json) {
    const num = (n: number): number | string => (n === Number.POSITIVE_INFINITY ? 'unlimited' : n);
    const worst = (n: number): number | string => (n === Number.POSITIVE_INFINITY ? 'unbounded' : n);
    const doc = {
      target: found.target,
      driver: found.driver ?? null,
      file: found.file ?? null,
      layers: found.layers,
      detection: detection(p),
      retry: {
        backoff: p.retry.backoff,
        customDelay: p.retry.delay !== undefined,
        attemptTimeout: p.retry.attemptTimeout,
        deadline: p.retry.deadline,
        totalAttempts: retry.totalAttempts,
        // Unbounded worst cases (no attempt timeout) would be `null` in JSON: say so.
        rows: retry.rows.map((r) => ({ ...r, worstStart: worst(r.worstStart) })),
        worstEnd: retry.worstEnd === undefined ? null : worst(retry.worstEnd),
        cutByDeadline: retry.cutByDeadline ?? null,
        firstPastDeadline: retry.firstPastDeadline ?? null,
        ends: retryEnds(p, retry),
      },
      reconnect: {
        backoff: p.reconnect.backoff,
        customDelay: p.reconnect.delay !== undefined,
        connectTimeout: p.reconnect.connectTimeout,
        totalAttempts: num(reconnect.totalAttempts),
        rows: reconnect.rows,
        omitted: num(reconnect.omitted),
        ends: reconnectEnds(p, reconnect),
      },
    };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return ExitCode.OK;
  }

  const out: string[] = [];
  const head = [
    found.target,
    found.driver === undefined ? '' : ` (driver ${found.driver})`,
    found.file === undefined ? '' : ` — ${found.file}`,
  ];
  out.push(head.join(''));
  out.push(`layers: ${found.layers.join(' ← ')}`);
  out.push('');
  out.push('Failure detection (healthCheck, pool)');
  out.push(...detection(p).map((l) => `  ${l}`));
  out.push('');
  out.push('Retry schedule of one operation (retry)');
  out.push(`  backoff: ${describeBackoff(p.retry.backoff, p.retry.delay !== undefined)}`);
  out.push(
    `  ${p.retry.attemptTimeout === 0 ? 'no attempt timeout' : `attempt timeout ${formatDuration(p.retry.attemptTimeout)}`}, ${p.retry.deadline === 0 ? 'no deadline' : `deadline ${formatDuration(p.retry.deadline)}`}`,
  );
  const cutAt = formatDuration(p.retry.deadline);
  out.push(
    ...table(retry, (r) =>
      r.pastDeadline === true
        ? '  ✗ past the deadline: never starts'
        : r.cutByDeadline === true
          ? `  ✂ cut short by the deadline at ${cutAt}`
          : '',
    ),
  );
  out.push('  Retrying ends with:');
  out.push(...retryEnds(p, retry).map((l) => `    • ${l}`));
  out.push('');
  out.push('Reconnect schedule after a lost connection (reconnect)');
  out.push(`  backoff: ${describeBackoff(p.reconnect.backoff, p.reconnect.delay !== undefined)}`);
  out.push(`  connect timeout ${formatDuration(p.reconnect.connectTimeout)}`);
  out.push(...table(reconnect, () => ''));
  out.push(
    p.reconnect.whileReconnecting === 'wait'
      ? `  operations waiting for the connection bring attempts forward: at most one per ${formatDuration(p.reconnect.minProbeGap)} (minProbeGap)`
      : '  operations fail at once while reconnecting (whileReconnecting: fail-fast)',
  );
  out.push('  Reconnecting ends:');
  out.push(...reconnectEnds(p, reconnect).map((l) => `    • ${l}`));
  io.stdout.write(`${out.join('\n')}\n`);
  return ExitCode.OK;
}

// How long the breaker stays open: 1 s from closed, doubling while its trials fail, up to openFor.
function openings(openForMs: number): string {
  return openForMs <= 1000
    ? `for ${formatDuration(openForMs)} before each trial`
    : `for 1s, then twice as long while trials fail, up to ${formatDuration(openForMs)}`;
}
