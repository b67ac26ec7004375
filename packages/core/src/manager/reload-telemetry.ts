import { ROOT_CONTEXT, SpanStatusCode, type Span } from '@opentelemetry/api';
import { changePath, describeChange, type ConfigChange } from '../policy/config-diff.js';
import { AttributeNames as A, MetricNames, SpanNames } from '../telemetry/names.js';
import { getMeter, getTracer } from '../telemetry/otel.js';
import { ownCode } from '../telemetry/semconv.js';

/**
 * How a reload ended: changes put in force, changes none of which could be put in force (each new client failed to
 * connect; the targets in force are unchanged), nothing to change, or the file refused (the old policy stays).
 */
export type ReloadOutcome = 'applied' | 'not_applied' | 'unchanged' | 'failed';

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

  /**
   * Ends the span with the result, the changes put in force and the summary in words (and the error of a refused
   * file, or of the first change not put in force), and counts the reload.
   */
  end(
    result: ReloadOutcome,
    changes: readonly ConfigChange[],
    error?: unknown,
    summary: readonly string[] = changes.map(describeChange),
  ): void {
    const span = this.#span;
    span.setAttribute(A.RELOAD_RESULT, result);
    span.setAttribute(A.RELOAD_CHANGED_PATHS, changes.map(changePath));
    span.setAttribute(A.RELOAD_CHANGES, [...summary]);
    if (result === 'failed' || result === 'not_applied') {
      span.setAttribute(A.ERROR_TYPE, ownCode(error) ?? '_OTHER');
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message:
          result === 'not_applied'
            ? 'no change could be put in force'
            : error instanceof Error
              ? error.message
              : 'reload failed',
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
