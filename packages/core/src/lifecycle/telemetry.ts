import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { NodeAddress } from '../driver/driver.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../version.js';

/**
 * The lifecycle's spans and span events. Silent no-ops without an OpenTelemetry SDK. Names are
 * documented in packages/core/docs/lifecycle.md.
 */
export class LifecycleTelemetry {
  readonly #target: string;
  readonly #system: string;
  #reconnect: Span | undefined;

  constructor(target: string, system: string) {
    this.#target = target;
    this.#system = system;
  }

  #tracer() {
    return trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
  }

  /** Opens `reconnect.reconnect`, spanning from the disconnect to the reconnect. */
  startReconnect(error: unknown): void {
    if (this.#reconnect !== undefined) return;
    this.#reconnect = this.#tracer().startSpan(
      'reconnect.reconnect',
      {
        attributes: {
          'db.system': this.#system,
          'reconnect.target': this.#target,
          'error.type': errorType(error),
        },
      },
      context.active(),
    );
  }

  /** One failed reconnect try: an event on the open `reconnect.reconnect` span. */
  reconnectTry(attempt: number, error: unknown, nextDelayMs: number | undefined): void {
    this.#reconnect?.addEvent('reconnect.reconnect_attempt', {
      'reconnect.attempt': attempt,
      'error.type': errorType(error),
      ...(nextDelayMs === undefined ? {} : { delay_ms: nextDelayMs }),
    });
  }

  /** Closes `reconnect.reconnect`: `reconnected` (OK) or `stopped` (an error status). */
  endReconnect(outcome: 'reconnected' | 'stopped'): void {
    const span = this.#reconnect;
    if (span === undefined) return;
    this.#reconnect = undefined;
    span.setAttribute('reconnect.outcome', outcome);
    span.setStatus(
      outcome === 'reconnected'
        ? { code: SpanStatusCode.OK }
        : { code: SpanStatusCode.ERROR, message: outcome },
    );
    span.end();
  }

  /** One `reconnect.health_check` span per active probe (created after the fact with its real duration). */
  healthCheck(ok: boolean, durationMs: number, error: unknown): void {
    const tracer = this.#tracer();
    const end = performance.timeOrigin + performance.now();
    const span = tracer.startSpan('reconnect.health_check', {
      startTime: end - durationMs,
      attributes: {
        'db.system': this.#system,
        'reconnect.target': this.#target,
        'reconnect.health.ok': ok,
        ...(ok ? {} : { 'error.type': errorType(error) }),
      },
    });
    if (!ok) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  }

  /** `reconnect.node.dead` / `reconnect.node.resurrected`: an event on the active span, or a short span of its own. */
  nodeEvent(what: 'dead' | 'resurrected', node: NodeAddress, deadCount: number): void {
    this.#event(`reconnect.node.${what}`, {
      'server.address': node.host,
      'server.port': node.port,
      'reconnect.node.id': node.id,
      'reconnect.node.dead_count': deadCount,
    });
  }

  /** `reconnect.node.all_dead`: every node is dead; said once until a node comes back. */
  allDead(offered: NodeAddress, nodes: number): void {
    this.#event('reconnect.node.all_dead', { 'reconnect.node.id': offered.id, 'reconnect.nodes': nodes });
  }

  #event(name: string, attributes: Record<string, string | number | boolean>): void {
    const active = trace.getActiveSpan() ?? this.#reconnect;
    if (active !== undefined) {
      active.addEvent(name, attributes);
      return;
    }
    const span = this.#tracer().startSpan(name, {
      attributes: { 'db.system': this.#system, 'reconnect.target': this.#target, ...attributes },
    });
    span.end();
  }
}

function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return 'unknown';
}
