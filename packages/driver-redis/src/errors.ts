import { REDACTED } from '@reconnect/core';

// Commands whose arguments carry credentials. ioredis attaches `{ name, args }` of the failing command
// to reply errors, so a refused AUTH would otherwise carry the password into logs and spans.
const secretCommands = new Set(['auth', 'hello', 'migrate', 'acl']);

/**
 * Removes credentials from an ioredis error in place (the `command.args` of AUTH / HELLO / MIGRATE /
 * ACL, nested `lastNodeError` and `previousErrors`) and returns it. Safe on any value.
 */
export function redactRedisError<T>(error: T, seen = new Set<unknown>()): T {
  if (typeof error !== 'object' || error === null || seen.has(error)) return error;
  seen.add(error);
  const e = error as {
    command?: { name?: unknown; args?: unknown };
    lastNodeError?: unknown;
    previousErrors?: unknown;
    cause?: unknown;
  };
  const command = e.command;
  if (
    command !== undefined &&
    typeof command.name === 'string' &&
    secretCommands.has(command.name.toLowerCase())
  ) {
    if (Array.isArray(command.args)) command.args = command.args.map(() => REDACTED);
  }
  redactRedisError(e.lastNodeError, seen);
  redactRedisError(e.cause, seen);
  if (Array.isArray(e.previousErrors)) for (const p of e.previousErrors) redactRedisError(p, seen);
  return error;
}
