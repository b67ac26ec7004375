import { createNoopMeter, type Counter, type Gauge, type Histogram, type Meter } from '@opentelemetry/api';
import { MetricNames } from './names.js';
import { getMeter } from './otel.js';

/** The engine's metric instruments, made from the meter registered when they are created. */
export interface EngineInstruments {
  readonly attempts: Counter;
  readonly retries: Counter;
  readonly operationDuration: Histogram;
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
 * Bucket boundaries for durations in seconds (OpenTelemetry's semantic-convention advice for request durations):
 * the SDK's default boundaries are meant for milliseconds and would put every operation in the first buckets.
 */
export const secondsBuckets: number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Creates the engine's instruments (one set per executor: see {@link getMeter} for why not global). */
export function createEngineInstruments(): EngineInstruments {
  const meter = getMeter();
  return {
    attempts: meter.createCounter(MetricNames.ATTEMPTS, {
      description: 'Attempts made by operations',
      unit: '{attempt}',
    }),
    retries: meter.createCounter(MetricNames.RETRIES, {
      description: 'Retry decisions, by decision (retry, give_up) and reason',
      unit: '{decision}',
    }),
    operationDuration: meter.createHistogram(MetricNames.OPERATION_DURATION, {
      description: 'Duration of whole operations, retries and waits included',
      unit: 's',
      advice: { explicitBucketBoundaries: [...secondsBuckets] },
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
  readonly reconnects: Counter;
  readonly healthCheckDuration: Histogram;
  readonly targetState: Gauge;
}

/** Creates the lifecycle's instruments (for the target/reconnector; names in {@link MetricNames}). */
export function createLifecycleInstruments(): LifecycleInstruments {
  const meter = getMeter();
  return {
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
  };
}
