import {
  INVALID_SPAN_CONTEXT,
  metrics,
  trace,
  type Meter,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';

/**
 * The tracer every Reconnect span comes from, named after the package. Through `@opentelemetry/api`
 * only: without a registered SDK it is a no-op. Call it where a tracer is needed rather than caching
 * it across SDK (re)registrations.
 */
export function getTracer(): Tracer {
  return trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
}

/** What `trace.getTracerProvider()` returns in @opentelemetry/api 1.x: a proxy until an SDK is set. */
interface DelegatingTracerProvider extends TracerProvider {
  getDelegate(): TracerProvider;
  getDelegateTracer(name: string, version?: string): Tracer | undefined;
}

/**
 * A span that records nothing, shared by every operation while no SDK is registered (what the API's
 * no-op tracer would hand out, without allocating one per operation).
 */
export const nonRecordingSpan: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The tracer of {@link getTracer}, and a cheap per-call test of whether it is the API's no-op. */
export interface TracerHandle {
  readonly tracer: Tracer;
  /**
   * `true` while no SDK is registered, so every span the tracer starts would be a non-recording
   * no-op: the caller may skip starting it (and reading the active context). Turns `false` as soon
   * as an SDK is registered, like the API's proxy tracer the handle holds.
   */
  readonly tracingOff: () => boolean;
}

/**
 * {@link getTracer} plus a test of whether it is still the no-op. The API's proxy tracer provider
 * hands out proxy tracers that delegate to an SDK registered later; while it has no delegate, they
 * use the no-op tracer, which is what `tracingOff` checks (one property read per call). Any other
 * provider (an SDK registered first, another API copy) is assumed live.
 */
export function getTracerHandle(): TracerHandle {
  const provider = trace.getTracerProvider() as Partial<DelegatingTracerProvider>;
  const tracer = getTracer();
  const { getDelegate, getDelegateTracer } = provider;
  if (
    typeof getDelegate !== 'function' ||
    typeof getDelegateTracer !== 'function' ||
    getDelegateTracer.call(provider, PACKAGE_NAME, PACKAGE_VERSION) !== undefined
  ) {
    return { tracer, tracingOff: () => false };
  }
  const noop = getDelegate.call(provider);
  return { tracer, tracingOff: () => getDelegate.call(provider) === noop };
}

/**
 * The meter every Reconnect metric comes from. The metrics API has no proxy meter: instruments made
 * before an SDK is registered stay no-ops, so callers create instruments per long-lived object.
 */
export function getMeter(): Meter {
  return metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
}

/**
 * An error's string `code` when it has one, else its name: how give-up messages name a cause. Not the `error.type`
 * attribute, which is never a class name (see `dbErrorType` in semconv.ts).
 */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}
