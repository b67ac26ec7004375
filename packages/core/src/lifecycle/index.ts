// The lifecycle's public surface: targets, the reconnector, health checks, node pools.
export type * from './types.js';
export {
  NodePool,
  deadTime,
  type AllDeadEvent,
  type NodePoolEvents,
  type NodePoolOptions,
  type NodeStatus,
} from './nodes/node-pool.js';
export { createSelector, randomSelector, roundRobinSelector, type NodeSelector } from './nodes/selectors.js';
export {
  HealthChecker,
  initialHealth,
  nextProbeDelay,
  recordOutcome,
  worstCaseDetectionMs,
  type HealthCheckerEvents,
  type HealthCheckerOptions,
  type HealthCounters,
  type ProbeResult,
} from './health/health-checker.js';
export {
  idleState as idleReconnectorState,
  transition as reconnectorTransition,
  type ReconnectorInput,
  type ReconnectorState,
  type TransitionLimits,
} from './reconnect/reconnector-state.js';
export {
  Reconnector,
  type AttemptStartEvent,
  type ReconnectorEvents,
  type ReconnectorOptions,
} from './reconnect/reconnector.js';
export { createTarget } from './target/target.js';
