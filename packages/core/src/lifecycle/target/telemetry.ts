import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import type { Driver } from '../../driver/driver.js';
import type { Classification } from '../../error-kinds.js';
import type { NodeAddress } from '../../node-address.js';
import { DbTarget } from '../../telemetry/db-target.js';
import { createLifecycleInstruments, type LifecycleInstruments } from '../../telemetry/instruments.js';
import { AttributeNames as A, EventNames, SpanNames } from '../../telemetry/names.js';
import { getTracer } from '../../telemetry/otel.js';
import { dbErrorType, telemetrySettings, withDeprecatedNames } from '../../telemetry/semconv.js';
import type { NodePool } from '../nodes/node-pool.js';
import type { TargetState } from '../types.js';
import type { NodeSlots } from './node-slots.js';
import { driverFacts, ObservedMetrics, type ObservedRunner } from './observed-metrics.js';

const allStates: readonly TargetState[] = [
  'idle',
  'connecting',
  'connected',
  'reconnecting',
  'failed',
  'stopped',
];

/**
 * The lifecycle's spans, span events and metrics for one target, and its description of the database (what its
 * operation spans say: the driver's word after each connect). Silent no-ops without an OpenTelemetry SDK. Names
 * come from telemetry/names.ts and are listed in the core README.
 */
export class LifecycleTelemetry<Options = unknown, Client = unknown> {
  /** The target's database, as every span and `db.client.*` metric of it says. */
  readonly db: DbTarget;
  readonly #dup: boolean;
  /** `reconnect.target`, on every `reconnect.*` data point. */
  readonly #base: Attributes;
  readonly #instruments: LifecycleInstruments;
  readonly #driver: Driver<Options, Client>;
  readonly #options: Options;
  #reconnect: Span | undefined;
  #reconnectType: string | undefined;
  readonly #observed: ObservedMetrics<Options, Client>;
  #slots: NodeSlots<Options, Client> | undefined;

  constructor(target: string, driver: Driver<Options, Client>, options: Options) {
    const { dup } = telemetrySettings();
    this.#driver = driver;
    this.#options = options;
    this.#dup = dup;
    this.db = new DbTarget(target, driverFacts(driver, options, undefined), dup);
    this.#base = Object.freeze({ [A.TARGET]: target });
    this.#instruments = createLifecycleInstruments(dup);
    this.#observed = new ObservedMetrics(target, driver, this.#instruments);
    // From 0, so that `increase()` sees the first reconnect (an alert on a reconnect storm counts them).
    this.#instruments.reconnects.add(0, this.#base);
  }

  /**
   * Starts the observed metrics until the target stops: the retry budget and concurrency limit of the runner in
   * force, a multi-node target's nodes alive and dead, the driver's pool counts of its clients.
   */
  observe(slots: NodeSlots<Options, Client>, pool: NodePool | undefined, runner: () => ObservedRunner): void {
    this.#slots = slots;
    this.#observed.start(slots, pool, runner);
  }

  /**
   * Records the target's state on the state gauge (1 for the current state, 0 for the others); a connect asks the
   * driver again what the database is; a stop ends the observed metrics.
   */
  state(state: TargetState): void {
    for (const s of allStates) {
      this.#instruments.targetState.record(s === state ? 1 : 0, { ...this.#base, [A.TARGET_STATE]: s });
    }
    if (state === 'connected')
      this.db.update(driverFacts(this.#driver, this.#options, this.#slots?.firstClient()));
    if (state === 'stopped') this.#observed.stop();
  }

  /** An error's `error.type`: the store's status, its own code, the driver's code for it, else `_OTHER`. */
  typeOf(error: unknown): string {
    let classification: Classification | undefined;
    try {
      classification = this.#driver.classify(error);
    } catch {
      classification = undefined;
    }
    return dbErrorType(error, classification);
  }

  /**
   * Opens `reconnect.reconnect`, spanning from the disconnect to the reconnect. A root span: the loss is often
   * noticed inside an operation's span, and a long-lived span must not be the child of a short one.
   */
  startReconnect(error: unknown): void {
    if (this.#reconnect !== undefined) return;
    this.#reconnectType = this.typeOf(error);
    this.#reconnect = getTracer().startSpan(
      SpanNames.RECONNECT,
      {
        root: true,
        kind: SpanKind.INTERNAL,
        attributes: { ...this.#spanBase(), [A.ERROR_TYPE]: this.#reconnectType },
      },
      ROOT_CONTEXT,
    );
  }

  /**
   * One failed attempt of the reconnect schedule: an event on the open `reconnect.reconnect` span. A loss first
   * seen without a code (a closed socket) takes the attempt's more telling type (`ECONNREFUSED`).
   */
  reconnectTry(attempt: number, error: unknown, nextDelayMs: number | undefined, onDemandAttempts = 0): void {
    const span = this.#reconnect;
    if (span === undefined) return;
    const type = this.typeOf(error);
    if (this.#reconnectType === '_OTHER') {
      this.#reconnectType = type;
      span.setAttribute(A.ERROR_TYPE, type);
    }
    span.addEvent(EventNames.RECONNECT_ATTEMPT, {
      [A.ATTEMPT]: attempt,
      [A.ERROR_TYPE]: type,
      [A.ON_DEMAND_ATTEMPTS]: onDemandAttempts,
      ...(nextDelayMs === undefined ? {} : { [A.DELAY_MS]: nextDelayMs }),
    });
  }

  /**
   * Closes `reconnect.reconnect`: OK when reconnected; an error status when stopped first, or when the target
   * gave up for good (`failed` with no attempt to follow).
   */
  endReconnect(outcome: 'reconnected' | 'stopped' | 'gave-up', attempts?: number): void {
    const span = this.#reconnect;
    if (span === undefined) return;
    this.#reconnect = undefined;
    if (attempts !== undefined) span.setAttribute(A.ATTEMPTS, attempts);
    span.setAttribute(A.OUTCOME, outcome === 'gave-up' ? 'gave_up' : outcome);
    if (outcome === 'reconnected') {
      span.setStatus({ code: SpanStatusCode.OK });
      this.#instruments.reconnects.add(1, this.#base);
    } else {
      const message = outcome === 'stopped' ? 'stopped before reconnecting' : 'reconnect attempts exhausted';
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.end();
  }

  /** One `reconnect.health_check` span per active probe, with its real duration. */
  healthCheck(ok: boolean, durationMs: number, error: unknown): void {
    const end = performance.timeOrigin + performance.now();
    // A root span: a probe is the target's own work, even when an operation's on-demand attempt set it off.
    const span = getTracer().startSpan(
      SpanNames.HEALTH_CHECK,
      {
        root: true,
        kind: SpanKind.INTERNAL,
        startTime: end - durationMs,
        attributes: {
          ...this.#spanBase(),
          [A.HEALTH_OK]: ok,
          ...(ok ? {} : { [A.ERROR_TYPE]: this.typeOf(error) }),
        },
      },
      ROOT_CONTEXT,
    );
    if (!ok) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
    this.#instruments.healthCheckDuration.record(durationMs / 1000, { ...this.#base, [A.HEALTH_OK]: ok });
  }

  /** `reconnect.node.dead` / `reconnect.node.resurrected`. */
  nodeEvent(what: 'dead' | 'resurrected', node: NodeAddress, deadCount: number): void {
    this.#event(what === 'dead' ? EventNames.NODE_DEAD : EventNames.NODE_RESURRECTED, {
      [A.SERVER_ADDRESS]: node.host,
      [A.SERVER_PORT]: node.port,
      [A.NODE_ID]: node.id,
      [A.NODE_DEAD_COUNT]: deadCount,
    });
  }

  /** `reconnect.node.all_dead`: every node is dead; said once until a node comes back. */
  allDead(offered: NodeAddress, nodes: number): void {
    this.#event(EventNames.NODE_ALL_DEAD, { [A.NODE_ID]: offered.id, [A.NODES]: nodes });
  }

  /** `reconnect.node.unreachable`: discovery found `node`, but it did not answer its probe; it stays out of the pool. */
  nodeUnreachable(node: NodeAddress, error: unknown): void {
    this.#event(EventNames.NODE_UNREACHABLE, {
      [A.SERVER_ADDRESS]: node.host,
      [A.SERVER_PORT]: node.port,
      [A.NODE_ID]: node.id,
      [A.ERROR_TYPE]: this.typeOf(error),
    });
  }

  // `reconnect.target` and `db.system.name` (the server's word once connected), on the lifecycle's spans.
  #spanBase(): Attributes {
    const a = { [A.TARGET]: this.db.target, [A.DB_SYSTEM_NAME]: this.db.facts.system };
    return this.#dup ? withDeprecatedNames(a) : a;
  }

  // An event on the span in progress (an operation's, or the reconnect's); a short span of its own otherwise.
  #event(name: string, attributes: Attributes): void {
    const active = trace.getActiveSpan() ?? this.#reconnect;
    if (active !== undefined) {
      active.addEvent(name, attributes);
      return;
    }
    getTracer()
      .startSpan(name, { kind: SpanKind.INTERNAL, attributes: { ...this.#spanBase(), ...attributes } })
      .end();
  }
}
