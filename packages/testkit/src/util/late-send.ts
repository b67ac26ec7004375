import type { Target } from '@reconnect/core';
import { delay, until } from './wait.js';

/** What {@link sendAfterAttemptEnded} saw. */
export interface LateSend {
  /** What `execute()` rejected with (the operation's attempt timed out). */
  error: unknown;
  /** What the late `send` rejected with; `undefined` when it succeeded. */
  late: unknown;
  /** Whether the late `send` succeeded (it reached the server). */
  sent: boolean;
}

/**
 * Runs one operation on `target` that ignores its signal: it waits `afterMs` (past its attempt's end, under a
 * shorter `attemptTimeout`), then calls `send` on the client it was given, as an abandoned operation would. Resolves
 * once `send` settled (within `withinMs`) with how `execute()` ended and what became of the late `send`: the
 * fixture for "a request an abandoned operation sends after its attempt ended is never sent".
 */
export async function sendAfterAttemptEnded<Client>(
  target: Target<Client>,
  send: (client: Client) => Promise<unknown>,
  { afterMs = 400, withinMs = 2000 }: { afterMs?: number; withinMs?: number } = {},
): Promise<LateSend> {
  let late: unknown;
  let sent = false;
  const error = await target
    .execute(async (client) => {
      await delay(afterMs);
      try {
        await send(client);
        sent = true;
      } catch (e) {
        late = e;
      }
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  await until(() => late !== undefined || sent, withinMs);
  return { error, late, sent };
}
