// Generated from package.json by scripts/gen-version.mjs; do not edit by hand.
/** The package name, used as the OpenTelemetry tracer and meter name. */
export const PACKAGE_NAME = '@reconnect/core';
/** The package version, used as the OpenTelemetry tracer and meter version. */
export const PACKAGE_VERSION = '0.1.0';
