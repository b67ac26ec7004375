// The whole public surface of @reconnect/core. Each area keeps its own barrel; this file gathers them.
export * from './errors.js';
export * from './time/clock.js';
export * from './time/fake-clock.js';
export * from './error-kinds.js';
export * from './driver/driver.js';
export * from './kit/index.js';
export * from './policy/index.js';
export * from './engine/index.js';
export * from './lifecycle/index.js';
export * from './telemetry/index.js';
export * from './util/typed-emitter.js';
export { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';
