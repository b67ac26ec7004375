import { context, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { createEngineInstruments, type EngineInstruments } from '../telemetry/instruments.js';
import { isReconnectError } from '../errors.js';
import {
  AttributeNames as A,
  EventNames,
  RetryDecisions,
  SpanNames,
  type RetryReason,
} from '../telemetry/names.js';
import { errorType, getTracerHandle } from '../telemetry/otel.js';
import type { NodeAddress } from '../node-address.js';
import type { Clock } from '../time/clock.js';
import type { CircuitBreaker } from './breaker/circuit-breaker.js';
import type { Run } from './operation-run.js';

/**
 * The spans (`reconnect.execute`, `reconnect.attempt`), span events (retry decisions, breaker, budget)
 * and metrics of one executor's operations; names in telemetry/names.ts, listed in the core README.
 * Silent and nearly free without an OpenTelemetry SDK: no span is started while the tracer is the
 * API's no-op, and no metric call or attribute object is made while no MeterProvider is live.
 */
export class ExecuteTelemetry {
  readonly #target: string;
  readonly #system: string;
  readonly #clock: Clock;
  readonly #tracer: Tracer;
  /** Whether the tracer is (still) the API's no-op: then no span is started at all. */
  readonly #tracingOff: () => boolean;
  readonly #metrics: EngineInstruments;
  /** Metric attributes shared by every data point of this target (one object, never rebuilt). */
  readonly #base: Attributes;
  /**
   * Whether the instruments record anything (they stay no-ops if made before a MeterProvider existed):
   * callers skip the clock reads that only feed a metric.
   */
  readonly metricsLive: boolean;

  constructor(target: string, system: string, clock: Clock) {
    this.#target = target;
    this.#system = system;
    this.#clock = clock;
    const { tracer, tracingOff } = getTracerHandle();
    this.#tracer = tracer;
    this.#tracingOff = tracingOff;
    this.#metrics = createEngineInstruments();
    this.metricsLive = this.#metrics.live;
    this.#base = Object.freeze({ [A.TARGET]: target, [A.DB_SYSTEM]: system });
  }

  /** Records `breaker`'s state on the state gauge now and on every change (1 for the current state, 0 for the one it left). */
  watchBreaker(breaker: CircuitBreaker): void {
    this.#breakerState(breaker.state, undefined);
    breaker.on('stateChange', (e) => this.#breakerState(e.to, e.from));
  }

  /** Opens `run`'s `reconnect.execute` span, a child of the caller's active span. */
  open(run: Run): void {
    // Without an SDK the API's tracer would hand out a fresh non-recording span: share one instead
    // (Run's default), and do not even read the active context. Kept this small so that it inlines.
    if (!this.#tracingOff()) this.#openSpan(run);
  }

  /** Starts attempt `attempt`'s `reconnect.attempt` span under the execute span; none when that does not record. */
  startAttempt(run: Run, attempt: number): Span | undefined {
    if (run.spanContext === undefined) return undefined;
    return this.#tracer.startSpan(
      SpanNames.ATTEMPT,
      { attributes: { [A.DB_SYSTEM]: this.#system, [A.ATTEMPT]: attempt } },
      run.spanContext,
    );
  }

  /** The node an attempt runs on, on its span. */
  attemptNode(span: Span, node: NodeAddress | undefined): void {
    if (node !== undefined) {
      span.setAttribute(A.SERVER_ADDRESS, node.host);
      span.setAttribute(A.SERVER_PORT, node.port);
    }
  }

  /** An attempt ended: the attempts counter, with the error's `error.type` when it failed. */
  attemptEnded(errorType: string | undefined): void {
    if (!this.metricsLive) return;
    this.#metrics.attempts.add(
      1,
      errorType === undefined ? this.#base : { ...this.#base, [A.ERROR_TYPE]: errorType },
    );
  }

  /** Ends a failed attempt's span with the error's type, the driver's kind and an error status. */
  attemptFailed(span: Span | undefined, errorType: string, kind: string): void {
    if (span === undefined) return;
    span.setAttribute(A.ERROR_TYPE, errorType);
    span.setAttribute(A.ERROR_KIND, kind);
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
    run.span.addEvent(name, { [A.TARGET]: this.#target, [A.BREAKER_FROM]: from, [A.BREAKER_STATE]: to });
  }

  /** The retry budget refused the retry after `attempt`: a `reconnect.budget.exhausted` event. */
  budgetExhausted(run: Run, attempt: number): void {
    if (run.spanContext === undefined) return;
    run.span.addEvent(EventNames.BUDGET_EXHAUSTED, { [A.TARGET]: this.#target, [A.ATTEMPT]: attempt });
  }

  /** A retry decision after `attempt` (0: none ran): the retries counter and a `reconnect.retry_decision` event. */
  decided(
    run: Run,
    attempt: number,
    decision: string,
    reason: RetryReason,
    delayMs: number | undefined,
  ): void {
    if (this.metricsLive) {
      this.#metrics.retries.add(1, { ...this.#base, [A.DECISION]: decision, [A.REASON]: reason });
    }
    if (run.spanContext === undefined) return;
    const attributes: Attributes = { [A.DECISION]: decision, [A.REASON]: reason, [A.ATTEMPT]: attempt };
    if (delayMs !== undefined) attributes[A.DELAY_MS] = delayMs;
    const error = run.lastFailure;
    if (error !== undefined) attributes[A.ERROR_TYPE] = errorType(error.error);
    run.span.addEvent(EventNames.RETRY_DECISION, attributes);
  }

  /** The operation succeeded after `attempts` attempts: ends its span, records its duration (to `run.endedAt`). */
  succeeded(run: Run, attempts: number): void {
    const span = run.span;
    if (run.spanContext !== undefined) span.setAttribute(A.ATTEMPTS, attempts);
    run.ended = true;
    span.end();
    if (this.metricsLive) {
      this.#metrics.operationDuration.record((run.endedAt - run.start) / 1000, this.#base);
    }
  }

  /**
   * The operation gave up with `error` after `attempts` attempts: the give_up decision, the span's
   * outcome and error status (the reason as message), its end, and the operation's duration.
   */
  gaveUp(run: Run, attempts: number, reason: RetryReason, error: unknown): void {
    this.decided(run, attempts, RetryDecisions.GIVE_UP, reason, undefined);
    const span = run.span;
    if (run.spanContext !== undefined) {
      span.setAttribute(A.ATTEMPTS, attempts);
      span.setAttribute(A.ERROR_TYPE, errorType(error));
      if (isReconnectError(error) && error.outcome !== undefined) span.setAttribute(A.OUTCOME, error.outcome);
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    }
    run.ended = true;
    span.end();
    if (this.metricsLive) {
      this.#metrics.operationDuration.record((this.#clock.now() - run.start) / 1000, {
        ...this.#base,
        [A.ERROR_TYPE]: errorType(error),
      });
    }
  }

  /** Closes the span of an operation that ended neither in success nor in a give-up (only a bug gets here). */
  abandoned(run: Run): void {
    if (run.ended) return;
    run.ended = true;
    run.span.setStatus({ code: SpanStatusCode.ERROR });
    run.span.end();
  }

  #openSpan(run: Run): void {
    const span = this.#tracer.startSpan(SpanNames.EXECUTE, undefined, context.active());
    run.span = span;
    if (span.isRecording()) {
      span.setAttribute(A.TARGET, this.#target);
      span.setAttribute(A.DB_SYSTEM, this.#system);
      span.setAttribute(A.IDEMPOTENT, run.idempotent);
      if (run.name !== undefined) span.setAttribute(A.OPERATION, run.name);
      run.spanContext = trace.setSpan(context.active(), span);
    }
  }

  #breakerState(to: string, from: string | undefined): void {
    if (!this.metricsLive) return;
    if (from !== undefined) this.#metrics.breakerState.record(0, { ...this.#base, [A.BREAKER_STATE]: from });
    this.#metrics.breakerState.record(1, { ...this.#base, [A.BREAKER_STATE]: to });
  }
}
