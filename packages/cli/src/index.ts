// The CLI's programmatic surface: run it in-process (tests, scripts) with injectable streams.
export { main, mainHelp } from './main.js';
export { ExitCode, processIo, type Io } from './io.js';
export { reconnectSchedule, retrySchedule, type Schedule, type ScheduleRow } from './schedule.js';
export { schemaText } from './commands/schema.js';
export { check, checkTarget, type NodeCheck, type TargetCheck } from './commands/check.js';
export { watch, targetCells, targetHeaders } from './commands/watch.js';
export { skippedDriversNote } from './commands/validate.js';
export { loadTargetDriver, suggestDriver, type DriverLoad } from './drivers.js';
export { loadTargets, type LoadedTarget, type LoadedTargets } from './targets.js';
export { figure, formatTable, LiveView, type LiveOutput, type ViewTable } from './live/live-view.js';
export { errorLabel, TargetMonitor, type MonitorEvent, type TargetStats } from './live/target-monitor.js';
