import { redactString } from '../policy/redact.js';
import type { Listener } from '../util/typed-emitter.js';
import type { ManagerEvents } from './config-reload.js';
import type { Logger, LogLevel } from '../lifecycle/types.js';

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

interface ReloadSource {
  on<K extends keyof ManagerEvents>(event: K, listener: Listener<ManagerEvents[K]>): () => void;
}

function messageOf(error: unknown): string {
  return redactString(error instanceof Error ? error.message : String(error));
}

/**
 * Writes a manager's reloads to `logger`: a reload that changed something at `info` with each change in the words
 * `reconnect diff` prints (secrets redacted), an unchanged file at `debug`, a change a target could not take (its
 * new client did not connect) at `warn`, and a refused file at `error` with the located issues. Returns a detacher.
 */
export function logReloads(source: ReloadSource, logger: Logger, level: LogLevel = 'info'): () => void {
  const consoleShaped = logger === (globalThis.console as unknown);
  const write = (at: LogLevel, fields: Record<string, unknown>, message: string): void => {
    if (rank[at] < rank[level] || (at === 'debug' && logger.debug === undefined)) return;
    if (consoleShaped) (console[at] as (line: string) => void)(`[reconnect] ${message}`);
    else logger[at]?.(fields, message);
  };
  const offs = [
    source.on('reload', (e) => {
      if (e.result === 'unchanged') write('debug', { file: e.file }, `policy file reloaded, nothing changed`);
      else write('info', { file: e.file, changes: e.summary }, `policy reloaded: ${e.summary.join('; ')}`);
      for (const n of e.notApplied)
        write(
          'warn',
          { file: e.file, target: n.target, error: messageOf(n.error) },
          `${n.target}: the reloaded policy could not be put in force (the old one stays): ${messageOf(n.error)}`,
        );
    }),
    source.on('reloadFailed', (e) =>
      write(
        'error',
        { file: e.file, error: messageOf(e.error) },
        `policy reload refused, the policy in force stays: ${messageOf(e.error)}`,
      ),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
