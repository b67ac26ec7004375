import type { Context, Span } from '@opentelemetry/api';
import type { Classification } from '../error-kinds.js';
import type { NodeAddress } from '../driver/node-address.js';
import type { AttemptFailure } from '../errors.js';

// The executor's internal bookkeeping for one `execute` call. Nothing here is exported from the package.

/** Why a phase (acquire, attempt, wait) ended early. */
export type InterruptWhy = 'timeout' | 'deadline' | 'aborted';

/** Thrown inside the executor when a phase is cut short; never escapes to the caller. */
export class Interrupt extends Error {
  readonly why: InterruptWhy;
  constructor(why: InterruptWhy) {
    super(why);
    this.why = why;
  }
}

/** Thrown inside the executor when an attempt fails; never escapes to the caller. */
export class AttemptFailed {
  constructor(
    readonly error: unknown,
    readonly classification: Classification,
    readonly interrupt: InterruptWhy | undefined,
    readonly node: NodeAddress | undefined,
    readonly durationMs: number,
  ) {}
}

/** The state of one `execute` call, shared by its phases. */
export class Run {
  /** Cuts the phase in progress short (set while a phase waits on a promise or a timer). */
  interrupt: ((why: InterruptWhy) => void) | undefined = undefined;
  failures: AttemptFailure[] | undefined = undefined;
  /** Whether any attempt may have reached the server. */
  maybeSent = false;
  avoid: NodeAddress | undefined = undefined;
  prevDelay: number | undefined = undefined;
  lastFailure: AttemptFailed | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** Whether the execute span was ended (success or give-up). */
  ended = false;
  /** Clock reading when the successful attempt ended (saves a second read for the duration metric). */
  endedAt = 0;

  constructor(
    readonly start: number,
    readonly deadlineMs: number,
    readonly deadlineAt: number,
    readonly attemptTimeoutMs: number,
    readonly idempotent: boolean,
    readonly readOnly: boolean,
    readonly name: string | undefined,
    readonly signal: AbortSignal | undefined,
    readonly span: Span,
    /** The context attempt spans are children of; set only when the execute span records. */
    readonly spanContext: Context | undefined,
  ) {}
}

/** Whether the caller's signal has aborted. A function, not `run.signal?.aborted` inline: TypeScript
 * would otherwise keep a narrowing from before an `await`. */
export function callerAborted(run: Run): boolean {
  return run.signal?.aborted === true;
}
