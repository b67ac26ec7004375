import {
  createNoopMeter,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type ObservableCounter,
  type ObservableGauge,
  type ObservableUpDownCounter,
} from '@opentelemetry/api';
import { DeprecatedMetricNames, MetricNames } from './names.js';
import { getMeter } from './otel.js';

/** The engine's metric instruments, made from the meter registered when they are created. */
export interface EngineInstruments {
  readonly operationDuration: Histogram;
  readonly attempts: Counter;
  readonly hedges: Counter;
  readonly retries: Counter;
  readonly operationRetries: Histogram;
  readonly retryDelay: Histogram;
  readonly giveUps: Counter;
  readonly outcomeUnknown: Counter;
  readonly breakerState: Gauge;
  /**
   * `false` when the instruments are the API's no-ops (no MeterProvider was registered when they were
   * made). The metrics API has no proxy meter, so they stay no-ops for good: callers may skip the
   * clock reads and attribute objects that only feed them.
   */
  readonly live: boolean;
}

const NoopMeterClass = (createNoopMeter() as object).constructor;

/** Whether `meter` records anything: not the API's no-op meter (made when no MeterProvider is registered). */
export function isLiveMeter(meter: Meter): boolean {
  return (meter as object).constructor !== NoopMeterClass;
}

/**
 * Bucket boundaries of every duration histogram, in seconds: the database conventions' advice for
 * `db.client.operation.duration` (the SDK's defaults are meant for milliseconds).
 */
export const secondsBuckets: number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/** Bucket boundaries of the retries-per-operation histogram. */
export const retryCountBuckets: number[] = [0, 1, 2, 3, 5, 10];

/** Creates the engine's instruments (one set per executor: see {@link getMeter} for why not global). */
export function createEngineInstruments(): EngineInstruments {
  const meter = getMeter();
  return {
    operationDuration: meter.createHistogram(MetricNames.DB_CLIENT_OPERATION_DURATION, {
      description: 'Duration of database client operations, retries and waits included',
      unit: 's',
      advice: { explicitBucketBoundaries: [...secondsBuckets] },
    }),
    attempts: meter.createCounter(MetricNames.ATTEMPTS, {
      description: 'Attempts made by operations, by outcome',
      unit: '{attempt}',
    }),
    hedges: meter.createCounter(MetricNames.HEDGES, {
      description:
        'Hedged reads (reads sent to a second node after the hedge delay), by which attempt answered',
      unit: '{operation}',
    }),
    retries: meter.createCounter(MetricNames.RETRIES, {
      description: 'Retries made, by reason and whether the failed attempt was sent',
      unit: '{retry}',
    }),
    operationRetries: meter.createHistogram(MetricNames.OPERATION_RETRIES, {
      description: 'Retries per operation',
      unit: '{retry}',
      advice: { explicitBucketBoundaries: [...retryCountBuckets] },
    }),
    retryDelay: meter.createHistogram(MetricNames.RETRY_DELAY, {
      description: 'The wait before each retry',
      unit: 's',
      advice: { explicitBucketBoundaries: [...secondsBuckets] },
    }),
    giveUps: meter.createCounter(MetricNames.GIVE_UPS, {
      description: 'Operations that gave up, by reason',
      unit: '{operation}',
    }),
    outcomeUnknown: meter.createCounter(MetricNames.WRITES_OUTCOME_UNKNOWN, {
      description: 'Non-idempotent operations that failed after they may have run on the server',
      unit: '{operation}',
    }),
    breakerState: meter.createGauge(MetricNames.BREAKER_STATE, {
      description: "1 for the circuit breaker's current state, 0 for the others",
      unit: '1',
    }),
    live: isLiveMeter(meter),
  };
}

/** The lifecycle's metric instruments. */
export interface LifecycleInstruments {
  readonly meter: Meter;
  readonly reconnects: Counter;
  readonly healthCheckDuration: Histogram;
  readonly targetState: Gauge;
  readonly budgetAvailable: ObservableGauge;
  readonly concurrencyLimit: ObservableGauge;
  readonly concurrencyOperations: ObservableGauge;
  readonly concurrencyRefused: ObservableCounter;
  readonly nodes: ObservableGauge;
  readonly connectionCount: ObservableUpDownCounter;
  readonly connectionMax: ObservableUpDownCounter;
  readonly connectionIdleMax: ObservableUpDownCounter;
  readonly connectionPending: ObservableUpDownCounter;
  readonly connectionTimeouts: ObservableCounter;
  /** The experimental pool metrics (`database/dup`), or none. */
  readonly deprecated: DeprecatedPoolInstruments | undefined;
  readonly live: boolean;
}

/** The experimental `db.client.connections.*` instruments. */
export interface DeprecatedPoolInstruments {
  readonly usage: ObservableUpDownCounter;
  readonly max: ObservableUpDownCounter;
  readonly idleMax: ObservableUpDownCounter;
  readonly pending: ObservableUpDownCounter;
  readonly timeouts: ObservableCounter;
}

/** Creates the lifecycle's instruments (for the target/reconnector; names in {@link MetricNames}). */
export function createLifecycleInstruments(dup: boolean): LifecycleInstruments {
  const meter = getMeter();
  const connections = { unit: '{connection}' };
  return {
    meter,
    reconnects: meter.createCounter(MetricNames.RECONNECTS, {
      description: 'Successful reconnects',
      unit: '{reconnect}',
    }),
    healthCheckDuration: meter.createHistogram(MetricNames.HEALTH_CHECK_DURATION, {
      description: 'Duration of active health probes',
      unit: 's',
      advice: { explicitBucketBoundaries: [...secondsBuckets] },
    }),
    targetState: meter.createGauge(MetricNames.TARGET_STATE, {
      description: "1 for the target's current state, 0 for the others",
      unit: '1',
    }),
    budgetAvailable: meter.createObservableGauge(MetricNames.BUDGET_AVAILABLE, {
      description: 'Retries the retry budget allows now',
      unit: '{retry}',
    }),
    concurrencyLimit: meter.createObservableGauge(MetricNames.CONCURRENCY_LIMIT, {
      description: "The target's concurrency limit now",
      unit: '{operation}',
    }),
    concurrencyOperations: meter.createObservableGauge(MetricNames.CONCURRENCY_OPERATIONS, {
      description: 'Operations holding a permit of the concurrency limit, and waiting for one',
      unit: '{operation}',
    }),
    concurrencyRefused: meter.createObservableCounter(MetricNames.CONCURRENCY_REFUSED, {
      description: 'Operations the concurrency limit refused, at once or after their wait in its queue',
      unit: '{operation}',
    }),
    nodes: meter.createObservableGauge(MetricNames.NODES, {
      description: "A multi-node target's nodes, by state",
      unit: '{node}',
    }),
    connectionCount: meter.createObservableUpDownCounter(MetricNames.DB_CLIENT_CONNECTION_COUNT, {
      description:
        'The number of connections that are currently in the state described by the state attribute',
      ...connections,
    }),
    connectionMax: meter.createObservableUpDownCounter(MetricNames.DB_CLIENT_CONNECTION_MAX, {
      description: 'The maximum number of open connections allowed',
      ...connections,
    }),
    connectionIdleMax: meter.createObservableUpDownCounter(MetricNames.DB_CLIENT_CONNECTION_IDLE_MAX, {
      description: 'The maximum number of idle open connections allowed',
      ...connections,
    }),
    connectionPending: meter.createObservableUpDownCounter(
      MetricNames.DB_CLIENT_CONNECTION_PENDING_REQUESTS,
      {
        description: 'The number of current pending requests for an open connection',
        unit: '{request}',
      },
    ),
    connectionTimeouts: meter.createObservableCounter(MetricNames.DB_CLIENT_CONNECTION_TIMEOUTS, {
      description:
        'The number of connection timeouts that have occurred trying to obtain a connection from the pool',
      unit: '{timeout}',
    }),
    deprecated: dup ? deprecatedPoolInstruments(meter) : undefined,
    live: isLiveMeter(meter),
  };
}

function deprecatedPoolInstruments(meter: Meter): DeprecatedPoolInstruments {
  const D = DeprecatedMetricNames;
  return {
    usage: meter.createObservableUpDownCounter(D.DB_CLIENT_CONNECTIONS_USAGE, { unit: '{connection}' }),
    max: meter.createObservableUpDownCounter(D.DB_CLIENT_CONNECTIONS_MAX, { unit: '{connection}' }),
    idleMax: meter.createObservableUpDownCounter(D.DB_CLIENT_CONNECTIONS_IDLE_MAX, { unit: '{connection}' }),
    pending: meter.createObservableUpDownCounter(D.DB_CLIENT_CONNECTIONS_PENDING_REQUESTS, {
      unit: '{request}',
    }),
    timeouts: meter.createObservableCounter(D.DB_CLIENT_CONNECTIONS_TIMEOUTS, { unit: '{timeout}' }),
  };
}
