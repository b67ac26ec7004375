// The CLI's programmatic surface: run it in-process (tests, scripts) with injectable streams.
export { main, mainHelp } from './main.js';
export { ExitCode, processIo, type Io } from './io.js';
export { reconnectSchedule, retrySchedule, type Schedule, type ScheduleRow } from './schedule.js';
export { schemaText } from './commands/schema.js';
