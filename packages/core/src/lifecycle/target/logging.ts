import type { Logger, LogLevel, Target } from '../types.js';

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

type Describe = (error: unknown) => { code?: string; message: string } | undefined;

/**
 * Writes a target's events to `logger` at operator-sensible levels: connected / reconnected `info`; a lost
 * connection and a failed attempt of the backoff schedule `warn` when its error is new, `debug` when it failed as
 * the one before it did (on-demand attempts are counted, not logged one by one); giving up `error`; an operation's give-up `debug` (its caller already has the error).
 * Error texts go through `describe`, which redacts the target's secrets. Returns a function that detaches it.
 */
export function logTargetEvents(
  target: Target,
  logger: Logger,
  describe: Describe,
  level: LogLevel = 'info',
): () => void {
  const min = rank[level];
  // The global console takes (message, fields); pino and bunyan take (fields, message).
  const consoleShaped = logger === (globalThis.console as unknown);
  const write = (at: LogLevel, fields: Record<string, unknown>, message: string): void => {
    if (rank[at] < min) return;
    if (at === 'debug' && logger.debug === undefined) return;
    if (consoleShaped) {
      // One readable line for a terminal; structured loggers get the fields.
      const error = typeof fields['error'] === 'string' ? ` (${fields['error']})` : '';
      (console[at] as (line: string) => void)(`[reconnect] ${message}${error}`);
    } else logger[at]?.({ target: target.name, ...fields }, message);
  };
  const err = (error: unknown): Record<string, unknown> => {
    const d = describe(error);
    if (d === undefined) return {};
    return {
      error: d.code === undefined || d.message.includes(d.code) ? d.message : `${d.code}: ${d.message}`,
    };
  };
  const t = target.name;
  // What the last failed connect attempt said (see reconnectFailed); forgotten once connected.
  let lastFailure: string | undefined;
  const offs = [
    target.on('stateChange', (e) => {
      if (e.to === 'connected') lastFailure = undefined;
      if (e.to === 'connected' && e.from === 'connecting') write('info', {}, `${t}: connected`);
      else if (e.to === 'reconnecting') write('warn', err(e.error), `${t}: connection lost; reconnecting`);
      else if (e.to === 'failed')
        write('error', { attempt: e.attempt, ...err(e.error) }, `${t}: reconnect attempts exhausted`);
      else if (e.to === 'stopped') write('info', {}, `${t}: stopped`);
    }),
    target.on('reconnect', (e) =>
      write(
        'info',
        { attempts: e.attempts, onDemandAttempts: e.onDemandAttempts, downtimeMs: e.downtimeMs },
        `${t}: reconnected after ${Math.round(e.downtimeMs)} ms`,
      ),
    ),
    target.on('reconnectFailed', (e) => {
      const fields = err(e.error);
      // Once per change, not per attempt: an attempt failing as the one before it did (a wrong password, a
      // certificate the client refuses, a server down for an hour) is written at `debug`; a new error is `warn`.
      const text = typeof fields['error'] === 'string' ? fields['error'] : undefined;
      const again = text !== undefined && text === lastFailure;
      lastFailure = text;
      const next =
        e.nextDelayMs === undefined
          ? 'no further attempt is scheduled'
          : `next in ${Math.round(e.nextDelayMs)} ms`;
      write(
        again ? 'debug' : 'warn',
        {
          attempt: e.attempt,
          onDemandAttempts: e.onDemandAttempts,
          ...(e.nextDelayMs === undefined ? {} : { nextDelayMs: Math.round(e.nextDelayMs) }),
          ...fields,
        },
        `${t}: connect attempt ${e.attempt} failed${again ? ' as before' : ''}; ${next}`,
      );
    }),
    target.on('breakerStateChange', (e) =>
      write(e.to === 'open' ? 'warn' : 'info', { from: e.from, to: e.to }, `${t}: circuit breaker ${e.to}`),
    ),
    target.on('nodeDead', (e) =>
      write('warn', { node: e.node.id, deadCount: e.deadCount }, `${t}: node ${e.node.id} marked dead`),
    ),
    target.on('nodeResurrected', (e) =>
      write('info', { node: e.node.id }, `${t}: node ${e.node.id} is back`),
    ),
    target.on('allNodesDead', (e) =>
      write(
        'error',
        { nodes: e.nodes, offered: e.offered.id },
        `${t}: every node is dead; trying ${e.offered.id} anyway`,
      ),
    ),
    target.on('giveUp', (e) =>
      write(
        'debug',
        { operation: e.operation, attempt: e.attempt, reason: e.reason, ...err(e.error) },
        `${t}: operation ${e.operation ?? ''} failed (${e.reason})`.replace('  ', ' '),
      ),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
