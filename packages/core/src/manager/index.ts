// The manager's public surface: many targets from one policy file — build, reload, watch, swap.
export type { ReloadOutcome } from './reload-telemetry.js';
export type { ManagerEvents, ReloadFailedEvent, ReloadResult, WatchOptions } from './config-reload.js';
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
