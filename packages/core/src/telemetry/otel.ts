import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';

/**
 * The tracer every Reconnect span comes from, named after the package. Through `@opentelemetry/api`
 * only: without a registered SDK it is a no-op. Call it where a tracer is needed rather than caching
 * it across SDK (re)registrations.
 */
export function getTracer(): Tracer {
  return trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
}

/**
 * The meter every Reconnect metric comes from. The metrics API has no proxy meter: instruments made
 * before an SDK is registered stay no-ops, so callers create instruments per long-lived object.
 */
export function getMeter(): Meter {
  return metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
}

/** The `error.type` attribute for an error: its string `code` when it has one, else its name. */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}
