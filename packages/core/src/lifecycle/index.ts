// The lifecycle's public surface: targets, the manager, the reconnector, health checks, node pools, plugins.
export type * from './types.js';
export {
  NodePool,
  deadTime,
  type AllDeadEvent,
  type NodePoolEvents,
  type NodePoolOptions,
  type NodeStatus,
} from './node-pool.js';
export { createSelector, randomSelector, roundRobinSelector, type NodeSelector } from './selectors.js';
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
} from './health-checker.js';
export {
  idleState as idleReconnectorState,
  transition as reconnectorTransition,
  type ReconnectorInput,
  type ReconnectorState,
  type TransitionLimits,
} from './reconnector-state.js';
export {
  Reconnector,
  type AttemptStartEvent,
  type ReconnectorEvents,
  type ReconnectorOptions,
} from './reconnector.js';
export { builtinDrivers, driverShapeProblem, isDriver, resolveDriver } from './resolve-driver.js';
export { installedDriverPackages, suggestDriver } from './suggest-driver.js';
export { validateDriverOptions, type OptionsSource } from './driver-options.js';
export { createTarget } from './target.js';
export type { ReloadOutcome } from './reload-telemetry.js';
export type { ManagerEvents, ReloadFailedEvent, ReloadResult, WatchOptions } from './config-reload.js';
export { logTargetEvents } from './target-logging.js';
export {
  Manager,
  buildManager,
  createManager,
  type CreateManagerOptions,
  type ManagerHealth,
  type OverallHealth,
  type ResolvedConfigLike,
  type ResolvedTargetConfig,
  type TargetResult,
} from './manager.js';
