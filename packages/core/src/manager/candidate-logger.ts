import type { Logger, LogLevel } from '../lifecycle/types.js';

/** The logger a reload's candidate target writes to, and the switch that puts it in force. */
export interface CandidateLogger {
  logger: Logger;
  /** From now on the lines are the target's own: the candidate replaced the one in force. */
  inForce(): void;
}

/**
 * A reload builds a new target beside the one in force and starts it; until it connects and replaces that one,
 * its lines (`cache: connect attempt 1 failed`, `cache: stopped` when it is given up) would read as if the live
 * target had failed. So they say whose they are: `cache (reload candidate): …`, with `candidate: true` among a
 * structured logger's fields. Once in force, its lines are the target's own again.
 */
export function candidateLogger(logger: Logger, name: string): CandidateLogger {
  let candidate = true;
  const prefix = `${name}: `;
  // The target logs the global console as one readable line (lifecycle/target/logging.ts); so does this.
  const consoleShaped = logger === (globalThis.console as unknown);
  const write =
    (at: LogLevel) =>
    (fields: Record<string, unknown>, message: string): void => {
      const text =
        candidate && message.startsWith(prefix)
          ? `${name} (reload candidate): ${message.slice(prefix.length)}`
          : message;
      if (consoleShaped) {
        const error = typeof fields['error'] === 'string' ? ` (${fields['error']})` : '';
        (console[at] as (line: string) => void)(`[reconnect] ${text}${error}`);
      } else logger[at]?.(candidate ? { ...fields, candidate: true } : fields, text);
    };
  const wrapped: Logger = { info: write('info'), warn: write('warn'), error: write('error') };
  if (consoleShaped || logger.debug !== undefined) wrapped.debug = write('debug');
  return {
    logger: wrapped,
    inForce: () => {
      candidate = false;
    },
  };
}
