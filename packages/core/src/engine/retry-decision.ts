import type { Classification } from '../error-kinds.js';
import type { RetryPolicy } from '../policy/resolved.js';
import type { RetryIfContext } from '../policy/schema.js';

/** Why a failed attempt is not retried, before counting retries, deadline, budget or breaker. */
export type RetryVerdict = 'retryable' | 'not_retryable' | 'not_idempotent';

// `1213` in YAML and `'1213'` from a driver are the same code.
function listed(codes: readonly (string | number)[], code: string | number): boolean {
  for (const c of codes) if (String(c) === String(code)) return true;
  return false;
}

/** Whether the policy's `retryOn` lists this failure (by kind, native code or HTTP status). */
export function matchesRetryOn(retryOn: RetryPolicy['retryOn'], c: Classification): boolean {
  if (retryOn.errors.includes(c.kind)) return true;
  if (c.code !== undefined && listed(retryOn.codes, c.code)) return true;
  // A driver may give other spellings of its code (a MySQL errno and its name): any one of them matches.
  if (c.aliases !== undefined) for (const alias of c.aliases) if (listed(retryOn.codes, alias)) return true;
  return retryOn.statusCodes.some((status) => status === c.statusCode);
}

/**
 * Decides whether one failed attempt may be retried, by the policy alone:
 * 1. `retryOn` (kinds, codes, status codes); then `retryIf(error, ctx)` when given, which has the last
 *    word either way (it may allow what `retryOn` does not list, or veto what it does; if it throws, no retry);
 * 2. the idempotency rule: a retryable failure of a non-idempotent operation is retried only when
 *    the request provably was not sent (`classification.sent === false`).
 * Retries left, deadline, budget and breaker are the executor's to check afterwards.
 */
export function decideRetry(
  policy: RetryPolicy,
  error: unknown,
  classification: Classification,
  ctx: RetryIfContext,
): RetryVerdict {
  let retryable = matchesRetryOn(policy.retryOn, classification);
  if (policy.retryIf !== undefined) {
    try {
      retryable = policy.retryIf(error, ctx) === true;
    } catch {
      retryable = false;
    }
  }
  if (!retryable) return 'not_retryable';
  if (!ctx.idempotent && classification.sent !== false) return 'not_idempotent';
  return 'retryable';
}
