import type { Classification } from '../error-kinds.js';
import type { Clock } from '../time/clock.js';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { RetryBudget } from './budget/retry-budget.js';
import type { ExecuteTelemetry } from './execute-telemetry.js';
import type { Run } from './operation-run.js';
import type { TimeoutList } from './timeout-list.js';
import type { AttemptReport, ConnectionSource, Lease, Operation } from './types.js';

/** What every attempt of one executor shares; built once, by the executor's constructor. */
export interface AttemptHost<Client> {
  readonly clock: Clock;
  /** Where the attempt gets its client, and what it reports each outcome to (passive health, node pool). */
  readonly source: ConnectionSource<Client>;
  /** The driver's classifier, bound to its options object. */
  readonly classify: (error: unknown) => Classification;
  /** Fed every verdict on the server (success, health failure) and released when there is none. */
  readonly breaker: CircuitBreaker | undefined;
  /** The target's retry budget, told of each success (its floor follows them); undefined when off. */
  readonly budget: RetryBudget | undefined;
  /** Whether the budget reads the attempt's clock (so the operation's start reading can be handed to it). */
  readonly budgetSharesClock: boolean;
  readonly telemetry: ExecuteTelemetry;
  /** The time limits of the executor's running attempts, under one timer. */
  readonly timeouts: TimeoutList;
  /** The deadlines of its operations waiting for a connection, under another (a wait is long, an attempt short). */
  readonly waits: TimeoutList;
  /**
   * The executor's retry loop, in which a failed first attempt continues (see `Attempt.start`), or a hedged read
   * whose `attempts` attempts all failed.
   */
  recover<T>(run: Run, op: Operation<Client, T>, failure: unknown, attempts?: number): Promise<T>;
}

/** Tells the source how an attempt on `lease` ended (passive health, node pool); never throws into the attempt. */
export function report<Client>(
  source: ConnectionSource<Client>,
  lease: Lease<Client>,
  outcome: AttemptReport,
): void {
  try {
    source.report?.(lease, outcome);
  } catch (error) {
    // Passive health is advisory: a failing report must not change the operation's result.
    queueMicrotask(() => {
      throw error;
    });
  }
}
