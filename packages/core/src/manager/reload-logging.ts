import { describeChange } from '../policy/config-diff.js';
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
 * Writes a manager's reloads to `logger`: the changes put in force at `info` in the words `reconnect diff` prints
 * (secrets redacted), an unchanged file at `debug`, each target whose changes could not be put in force (its new
 * client did not connect) at `warn` naming the target, why and what was not applied, and a refused file at `error`
 * with the located issues. Returns a detacher.
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
      if (e.changes.length > 0) {
        const applied = e.changes.map(describeChange);
        write('info', { file: e.file, changes: applied }, `policy reloaded: ${applied.join('; ')}`);
      }
      for (const n of e.notApplied) {
        const what = n.changes.map(describeChange);
        write(
          'warn',
          { file: e.file, target: n.target, reason: n.reason, changes: what },
          `${n.target}: reload not applied, the target in force is unchanged — ${n.reason} (${what.join('; ')})`,
        );
      }
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
