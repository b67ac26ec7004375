import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Classification } from '../error-kinds.js';
import { isReconnectError } from '../errors.js';
import type { NodeAddress } from '../node-address.js';
import { DbTarget } from '../telemetry/db-target.js';
import { createEngineInstruments, type EngineInstruments } from '../telemetry/instruments.js';
import {
  AttemptOutcomes as O,
  AttributeNames as A,
  EventNames,
  RetryDecisions,
  RetryReasons,
  SpanNames,
  type RetryReason,
} from '../telemetry/names.js';
import { getTracerHandle } from '../telemetry/otel.js';
import {
  dbSpanName,
  normaliseOperationName,
  ownCode,
  sanitizeQueryText,
  telemetrySettings,
  withDeprecatedNames,
  type TelemetrySettings,
} from '../telemetry/semconv.js';
import type { Clock } from '../time/clock.js';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import { attemptVerdict, giveUpVerdict, waitErrorType } from './attempt-verdict.js';
import type { InterruptWhy, Run } from './operation-run.js';
import type { ExecuteOptions } from './types.js';

/** Every reason an operation gives up for (all but the two that retry). */
const giveUpReasons = Object.values(RetryReasons).filter((r) => r !== 'retryable' && r !== 'local');

/** What {@link ExecuteTelemetry} reads of the executor's options. */
export interface ExecuteTelemetryOptions {
  readonly target: string;
  /** The driver's `system`: `db.system.name` unless the source describes its database better. */
  readonly system: string;
  /** A target's source describes its database (`DbTarget`): the server's word, its address, its namespace. */
  readonly source?: { dbTarget?(): DbTarget | undefined };
}

/**
 * The spans (the operation's CLIENT span, `reconnect.attempt`, `reconnect.connection_wait`), span events (retry
 * decisions, breaker, budget) and metrics of one executor's operations, in the OpenTelemetry database conventions'
 * terms; names in telemetry/names.ts, listed in the core README. Silent and nearly free without an SDK: no span
 * is started while the tracer is the API's no-op, and no metric call or attribute object is made while no
 * MeterProvider is live.
 */
export class ExecuteTelemetry {
  readonly #clock: Clock;
  readonly #tracer: Tracer;
  /** Whether the tracer is (still) the API's no-op: then no span is started at all. */
  readonly #tracingOff: () => boolean;
  readonly #metrics: EngineInstruments;
  readonly #settings: TelemetrySettings;
  /** The source's description of its database, or this executor's own (a bare executor: the driver's system). */
  readonly #describe: () => DbTarget;
  /** Attributes of every `reconnect.*` data point: the target's name (stable, whatever the server turns out to be). */
  readonly #base: Attributes;
  /** The attempts counter's attributes for a success, made once. */
  readonly #success: Attributes;
  /**
   * Whether the instruments record anything (they stay no-ops if made before a MeterProvider existed):
   * callers skip the clock reads that only feed a metric.
   */
  readonly metricsLive: boolean;

  constructor(o: ExecuteTelemetryOptions, clock: Clock) {
    this.#clock = clock;
    const { tracer, tracingOff } = getTracerHandle();
    this.#tracer = tracer;
    this.#tracingOff = tracingOff;
    this.#metrics = createEngineInstruments();
    this.metricsLive = this.#metrics.live;
    this.#settings = telemetrySettings();
    this.#base = Object.freeze({ [A.TARGET]: o.target });
    this.#success = Object.freeze({ [A.TARGET]: o.target, [A.ATTEMPT_OUTCOME]: O.SUCCESS });
    const own = new DbTarget(o.target, { system: o.system }, this.#settings.dup);
    const source = o.source;
    // Counters an alert watches start at 0: `increase()` misses a series whose first sample is already above it.
    if (this.metricsLive) {
      this.#metrics.outcomeUnknown.add(0, this.#base);
      for (const reason of giveUpReasons)
        this.#metrics.giveUps.add(0, { ...this.#base, [A.RETRY_REASON]: reason });
    }
    this.#describe = source?.dbTarget === undefined ? () => own : () => source.dbTarget?.() ?? own;
  }

  /** Records `breaker`'s state on the state gauge now and on every change (1 for the current state, 0 for the one it left). */
  watchBreaker(breaker: CircuitBreaker): void {
    this.#breakerState(breaker.state, undefined);
    breaker.on('stateChange', (e) => this.#breakerState(e.to, e.from));
  }

  /** Opens `run`'s operation span (kind CLIENT, a child of the caller's active span) and its metric attributes. */
  open(run: Run, options: ExecuteOptions | undefined): void {
    // Without an SDK nothing is made: the shared non-recording span stays (Run's default). Kept small to inline.
    if (!this.#tracingOff() || this.metricsLive) this.#open(run, options);
  }

  /** Starts attempt `attempt`'s `reconnect.attempt` span under the operation span; none when that does not record. */
  startAttempt(run: Run, attempt: number): Span | undefined {
    if (run.spanContext === undefined) return undefined;
    const facts = this.#describe().facts;
    const attributes: Attributes = { [A.DB_SYSTEM_NAME]: facts.system, [A.ATTEMPT]: attempt };
    if (run.hedgeRole === 'hedge') attributes[A.ATTEMPT_HEDGE] = true;
    if (facts.serverAddress !== undefined) attributes[A.SERVER_ADDRESS] = facts.serverAddress;
    if (facts.serverPort !== undefined) attributes[A.SERVER_PORT] = facts.serverPort;
    return this.#tracer.startSpan(
      SpanNames.ATTEMPT,
      {
        kind: SpanKind.INTERNAL,
        attributes: this.#settings.dup ? withDeprecatedNames(attributes) : attributes,
      },
      run.spanContext,
    );
  }

  /**
   * The node an attempt runs on (multi-node targets): on its span, and as the last node contacted on the
   * operation span (`server.*` and `network.peer.*`, overwritten by each attempt).
   */
  attemptNode(run: Run, span: Span, node: NodeAddress | undefined): void {
    if (node === undefined) return;
    const at: Attributes = {
      [A.SERVER_ADDRESS]: node.host,
      [A.SERVER_PORT]: node.port,
      [A.NETWORK_PEER_ADDRESS]: node.host,
      [A.NETWORK_PEER_PORT]: node.port,
    };
    span.setAttributes({ ...at, [A.NODE_ID]: node.id });
    run.span.setAttributes(at);
  }

  /** The attempt is waiting for a connection (a reconnect, a node's connect): a `reconnect.connection_wait` span. */
  startWait(attempt: Span | undefined): Span | undefined {
    if (attempt === undefined) return undefined;
    return this.#tracer.startSpan(
      SpanNames.CONNECTION_WAIT,
      { kind: SpanKind.INTERNAL },
      trace.setSpan(context.active(), attempt),
    );
  }

  /** The wait ended: with a connection (`error` undefined), or without one (what ended it as `error.type`). */
  endWait(wait: Span | undefined, error: unknown): void {
    if (wait === undefined) return;
    if (error !== undefined) {
      wait.setAttribute(A.ERROR_TYPE, waitErrorType(error));
      wait.setStatus({ code: SpanStatusCode.ERROR });
    }
    wait.end();
  }

  /** An attempt succeeded: the attempts counter and the end of its span. */
  attemptSucceeded(span: Span | undefined): void {
    if (this.metricsLive) this.#metrics.attempts.add(1, this.#success);
    if (span === undefined) return;
    span.setAttribute(A.ATTEMPT_OUTCOME, O.SUCCESS);
    span.end();
  }

  /**
   * An attempt failed: what it truly ended with (its `error.type` and outcome: the attempt timeout, the deadline,
   * no connection had, the caller's abort, or the store's or client's error), on its span and the attempts counter.
   * `connected`: the attempt had a client (a wait for one that ran into the deadline is `not_connected`).
   */
  attemptFailed(
    run: Run,
    span: Span | undefined,
    error: unknown,
    classification: Classification,
    interrupt: InterruptWhy | undefined,
    connected: boolean,
  ): void {
    if (span === undefined && !this.metricsLive) return;
    const { outcome, type, status } = attemptVerdict(error, classification, interrupt, connected);
    run.errorType = type;
    if (this.metricsLive)
      this.#metrics.attempts.add(1, { ...this.#base, [A.ATTEMPT_OUTCOME]: outcome, [A.ERROR_TYPE]: type });
    if (span === undefined) return;
    span.setAttributes({
      [A.ATTEMPT_OUTCOME]: outcome,
      [A.ERROR_TYPE]: type,
      [A.ERROR_KIND]: classification.kind,
      [A.OUTCOME]: classification.sent === false ? 'not_sent' : 'unknown',
      ...(status === undefined ? {} : { [A.DB_RESPONSE_STATUS_CODE]: status }),
    });
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /** The breaker changed state during `run`: a `reconnect.breaker.*` event on its span. */
  breakerChange(run: Run, from: string, to: string): void {
    if (run.spanContext === undefined) return;
    const name =
      to === 'open'
        ? EventNames.BREAKER_OPEN
        : to === 'half-open'
          ? EventNames.BREAKER_HALF_OPEN
          : EventNames.BREAKER_CLOSED;
    run.span.addEvent(name, {
      [A.TARGET]: this.#describe().target,
      [A.BREAKER_FROM]: from,
      [A.BREAKER_STATE]: to,
    });
  }

  /** The retry budget refused the retry after `attempt`: a `reconnect.budget.exhausted` event. */
  budgetExhausted(run: Run, attempt: number): void {
    if (run.spanContext === undefined) return;
    run.span.addEvent(EventNames.BUDGET_EXHAUSTED, {
      [A.TARGET]: this.#describe().target,
      [A.ATTEMPT]: attempt,
    });
  }

  /**
   * A retry decision after `attempt` (0: none ran): a `reconnect.retry_decision` event; a retry also counts on the
   * retries counter (with whether the failed attempt was sent) and its wait on the retry-delay histogram.
   */
  decided(
    run: Run,
    attempt: number,
    decision: string,
    reason: RetryReason,
    delayMs: number | undefined,
  ): void {
    const failure = run.lastFailure;
    if (this.metricsLive && decision === RetryDecisions.RETRY) {
      const sent = failure?.classification.sent === false ? 'not_sent' : 'unknown';
      this.#metrics.retries.add(1, { ...this.#base, [A.RETRY_REASON]: reason, [A.OUTCOME]: sent });
      if (delayMs !== undefined) this.#metrics.retryDelay.record(delayMs / 1000, this.#base);
    }
    if (run.spanContext === undefined) return;
    const attributes: Attributes = {
      [A.RETRY_DECISION]: decision,
      [A.RETRY_REASON]: reason,
      [A.ATTEMPT]: attempt,
    };
    if (delayMs !== undefined) attributes[A.DELAY_MS] = delayMs;
    if (failure !== undefined && run.errorType !== undefined) attributes[A.ERROR_TYPE] = run.errorType;
    run.span.addEvent(EventNames.RETRY_DECISION, attributes);
  }

  /** The operation succeeded after `attempts` attempts: ends its span, records its duration (to `run.endedAt`). */
  succeeded(run: Run, attempts: number): void {
    const span = run.span;
    if (run.spanContext !== undefined) span.setAttribute(A.ATTEMPTS, attempts);
    run.ended = true;
    span.end();
    const attributes = run.metricAttributes;
    if (attributes !== undefined) {
      this.#metrics.operationDuration.record((run.endedAt - run.start) / 1000, attributes);
      this.#metrics.operationRetries.record(attempts - 1 - run.hedges, this.#base);
    }
  }

  /** A hedged read settled: the attempt that answered first (0: none did), on its span and the hedges counter. */
  hedged(run: Run, winner: number): void {
    if (winner > 0 && run.spanContext !== undefined) run.span.setAttribute(A.HEDGE_WINNER, winner);
    const result = winner === 0 ? 'failed' : winner === 1 ? 'lost' : 'won';
    if (this.metricsLive) this.#metrics.hedges.add(1, { ...this.#base, [A.HEDGE_RESULT]: result });
  }

  /**
   * The operation gave up with `error` after `attempts` attempts: the give_up decision, the span's `error.type`
   * (the last attempt's when `error` wraps it: the store's code comes first), outcome and error status (the
   * reason as message), its end, and the metrics (duration, give-ups, an unknown outcome of a write).
   */
  gaveUp(run: Run, attempts: number, reason: RetryReason, error: unknown): void {
    this.decided(run, attempts, RetryDecisions.GIVE_UP, reason, undefined);
    const span = run.span;
    const recording = run.spanContext !== undefined;
    const attributes = run.metricAttributes;
    if (!recording && attributes === undefined) {
      run.ended = true;
      span.end();
      return;
    }
    const { type, status } = giveUpVerdict(run, reason, error);
    const outcome = isReconnectError(error) ? error.outcome : undefined;
    if (recording) {
      span.setAttribute(A.ATTEMPTS, attempts);
      span.setAttribute(A.ERROR_TYPE, type);
      const code = ownCode(error);
      if (code !== undefined) span.setAttribute(A.ERROR_CODE, code);
      if (status !== undefined) span.setAttribute(A.DB_RESPONSE_STATUS_CODE, status);
      if (outcome !== undefined) span.setAttribute(A.OUTCOME, outcome);
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    }
    run.ended = true;
    span.end();
    if (attributes === undefined) return;
    const failed: Attributes = { ...attributes, [A.ERROR_TYPE]: type };
    if (status !== undefined) failed[A.DB_RESPONSE_STATUS_CODE] = status;
    this.#metrics.operationDuration.record((this.#clock.now() - run.start) / 1000, failed);
    this.#metrics.operationRetries.record(Math.max(0, attempts - 1 - run.hedges), this.#base);
    this.#metrics.giveUps.add(1, { ...this.#base, [A.RETRY_REASON]: reason });
    if (outcome === 'unknown' && !run.idempotent) this.#metrics.outcomeUnknown.add(1, this.#base);
  }

  /** Closes the span of an operation that ended neither in success nor in a give-up (only a bug gets here). */
  abandoned(run: Run): void {
    if (run.ended) return;
    run.ended = true;
    run.span.setStatus({ code: SpanStatusCode.ERROR });
    run.span.end();
  }

  #open(run: Run, options: ExecuteOptions | undefined): void {
    const db = this.#describe();
    const given = options?.name;
    const name = given === undefined || given === '' ? undefined : normaliseOperationName(given);
    const collection = options?.collection;
    // Made once per name and collection (an unnamed operation shares the target's): no object per operation.
    if (this.metricsLive) run.metricAttributes = db.operationAttributes(name, collection);
    if (this.#tracingOff()) return;
    const own: Attributes = {};
    if (name !== undefined) own[A.DB_OPERATION_NAME] = name;
    if (collection !== undefined) own[A.DB_COLLECTION_NAME] = collection;
    const attributes: Attributes = { ...db.spanAttributes, ...own, [A.IDEMPOTENT]: run.idempotent };
    if (this.#settings.queryText && options?.query !== undefined)
      attributes[A.DB_QUERY_TEXT] = sanitizeQueryText(options.query);
    const span = this.#tracer.startSpan(
      dbSpanName(db.facts, name, collection),
      { kind: SpanKind.CLIENT, attributes: db.dup ? withDeprecatedNames(attributes) : attributes },
      context.active(),
    );
    run.span = span;
    if (span.isRecording()) run.spanContext = trace.setSpan(context.active(), span);
  }

  #breakerState(to: string, from: string | undefined): void {
    if (!this.metricsLive) return;
    if (from !== undefined) this.#metrics.breakerState.record(0, { ...this.#base, [A.BREAKER_STATE]: from });
    this.#metrics.breakerState.record(1, { ...this.#base, [A.BREAKER_STATE]: to });
  }
}
