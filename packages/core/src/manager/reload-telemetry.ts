import { ROOT_CONTEXT, SpanStatusCode, type Span } from '@opentelemetry/api';
import { changePath, describeChange, type ConfigChange } from '../policy/config-diff.js';
import { AttributeNames as A, MetricNames, SpanNames } from '../telemetry/names.js';
import { errorType, getMeter, getTracer } from '../telemetry/otel.js';

/** How a reload ended: changes put in force, nothing to change, or the file refused (the old policy stays). */
export type ReloadOutcome = 'applied' | 'unchanged' | 'failed';

/**
 * One reload's `reconnect.policy_reload` span (a root span: a reload is the manager's own work, whatever set it
 * off) and the `reconnect.policy_reloads` counter. Changes are given in words with secrets already redacted.
 */
export class ReloadTelemetry {
  readonly #span: Span;
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
    this.#span = getTracer().startSpan(
      SpanNames.POLICY_RELOAD,
      { root: true, attributes: { [A.CONFIG_FILE]: file } },
      ROOT_CONTEXT,
    );
  }

  /** Ends the span with the result and the changes (and the error of a refused file), and counts the reload. */
  end(result: ReloadOutcome, changes: readonly ConfigChange[], error?: unknown): void {
    const span = this.#span;
    span.setAttribute(A.RELOAD_RESULT, result);
    span.setAttribute(A.RELOAD_CHANGED_PATHS, changes.map(changePath));
    span.setAttribute(A.RELOAD_CHANGES, changes.map(describeChange));
    if (result === 'failed') {
      span.setAttribute(A.ERROR_TYPE, errorType(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : 'reload failed',
      });
    } else {
      span.setStatus({ code: SpanStatusCode.OK });
    }
    span.end();
    getMeter()
      .createCounter(MetricNames.POLICY_RELOADS, {
        description: 'Policy-file reloads, by result',
        unit: '{reload}',
      })
      .add(1, { [A.RELOAD_RESULT]: result, [A.CONFIG_FILE]: this.#file });
  }
}
