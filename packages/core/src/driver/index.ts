// The driver contract and how a policy file's `driver:` name becomes a driver: built-ins, plugins, suggestions.
export {
  defineDriver,
  type ConnectContext,
  type ConnectionMonitor,
  type ConnectionPoolStats,
  type DbTelemetry,
  type Driver,
  type DriverClient,
  type DriverOptions,
  type ProbeContext,
  type ProbeReport,
} from './driver.js';
export { builtinDrivers, driverShapeProblem, isDriver, resolveDriver } from './resolve-driver.js';
export { installedDriverPackages, suggestDriver } from './suggest-driver.js';
export { validateDriverOptions, type OptionsSource } from './driver-options.js';
