import { describe, expect, it } from 'vitest';
import type { Classification } from '../error-kinds.js';
import { AttemptTimeoutError, BreakerOpenError, NoNodeAvailableError, StoppedError } from '../errors.js';
import type { RetryPolicy } from '../policy/resolved.js';
import type { RetryIfContext } from '../policy/schema.js';
import { classifyFailure, interruptClassification, reflectsServerHealth } from './classify-failure.js';
import { decideRetry, matchesRetryOn } from './retry-decision.js';

const retryOn = {
  errors: ['connection', 'timeout'] as Classification['kind'][],
  codes: ['ER_LOCK_DEADLOCK', 1205],
  statusCodes: [503],
};
const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxRetries: 3,
  backoff: { type: 'fixed', base: 10, factor: 2, max: 100, jitter: 'none' },
  retryOn,
  attemptTimeout: 1000,
  deadline: 10_000,
  budget: { enabled: false, ratio: 0.2, minPerSecond: 10, window: 10_000 },
  hedge: { enabled: false, delay: 'p95', maxExtraLoad: 0.05, maxAttempts: 2 },
  ...p,
});
const ctx = (c: Classification, idempotent = true): RetryIfContext => ({
  attempt: 1,
  classification: c,
  idempotent,
  node: undefined,
  elapsedMs: 0,
});

describe('matchesRetryOn', () => {
  it('matches by kind, by native code (number or string alike) and by HTTP status', () => {
    expect(matchesRetryOn(retryOn, { kind: 'connection' })).toBe(true);
    expect(matchesRetryOn(retryOn, { kind: 'fatal' })).toBe(false);
    expect(matchesRetryOn(retryOn, { kind: 'transient', code: 'ER_LOCK_DEADLOCK' })).toBe(true);
    expect(matchesRetryOn(retryOn, { kind: 'transient', code: '1205' })).toBe(true);
    expect(matchesRetryOn(retryOn, { kind: 'transient', code: 1062 })).toBe(false);
    expect(matchesRetryOn(retryOn, { kind: 'transient', statusCode: 503 })).toBe(true);
    expect(matchesRetryOn(retryOn, { kind: 'transient', statusCode: 500 })).toBe(false);
  });

  it("matches a driver's other spellings of its code (aliases): an errno listed by name, a name by number", () => {
    // retryOn lists ER_LOCK_DEADLOCK by name and 1205 by number.
    expect(matchesRetryOn(retryOn, { kind: 'transient', code: 1213, aliases: ['ER_LOCK_DEADLOCK'] })).toBe(
      true,
    );
    expect(
      matchesRetryOn(retryOn, { kind: 'transient', code: 'ER_LOCK_WAIT_TIMEOUT', aliases: [1205] }),
    ).toBe(true);
    expect(matchesRetryOn(retryOn, { kind: 'fatal', code: 1062, aliases: ['ER_DUP_ENTRY'] })).toBe(false);
  });
});

describe('decideRetry', () => {
  it('retries an idempotent operation on a listed failure, not on an unlisted one', () => {
    const c: Classification = { kind: 'connection' };
    expect(decideRetry(policy(), new Error(), c, ctx(c))).toBe('retryable');
    const f: Classification = { kind: 'fatal', code: 1064 };
    expect(decideRetry(policy(), new Error(), f, ctx(f))).toBe('not_retryable');
  });

  it('idempotency rule: a non-idempotent op is retried only when the request was provably not sent', () => {
    const maybeSent: Classification = { kind: 'connection' };
    expect(decideRetry(policy(), new Error(), maybeSent, ctx(maybeSent, false))).toBe('not_idempotent');
    const sent: Classification = { kind: 'connection', sent: true };
    expect(decideRetry(policy(), new Error(), sent, ctx(sent, false))).toBe('not_idempotent');
    const notSent: Classification = { kind: 'connection', sent: false };
    expect(decideRetry(policy(), new Error(), notSent, ctx(notSent, false))).toBe('retryable');
  });

  it('retryIf has the last word: it may allow an unlisted error or veto a listed one; a throwing one vetoes', () => {
    const fatal: Classification = { kind: 'fatal' };
    expect(decideRetry(policy({ retryIf: () => true }), new Error(), fatal, ctx(fatal))).toBe('retryable');
    const conn: Classification = { kind: 'connection' };
    expect(decideRetry(policy({ retryIf: () => false }), new Error(), conn, ctx(conn))).toBe('not_retryable');
    const boom = (): boolean => {
      throw new Error('bug in predicate');
    };
    expect(decideRetry(policy({ retryIf: boom }), new Error(), conn, ctx(conn))).toBe('not_retryable');
  });

  it('retryIf cannot override the idempotency rule', () => {
    const c: Classification = { kind: 'connection' };
    expect(decideRetry(policy({ retryIf: () => true }), new Error(), c, ctx(c, false))).toBe(
      'not_idempotent',
    );
  });

  it('retryIf receives the error and the context', () => {
    const seen: unknown[] = [];
    const c: Classification = { kind: 'timeout' };
    const err = new Error('x');
    decideRetry(
      policy({ retryIf: (e, x) => (seen.push(e, x.classification.kind, x.attempt), true) }),
      err,
      c,
      ctx(c),
    );
    expect(seen).toEqual([err, 'timeout', 1]);
  });
});

describe('classifyFailure', () => {
  const driverClassify = (): Classification => ({ kind: 'fatal', code: 'X' });

  it('ReconnectErrors from acquire with outcome not_sent are connection failures that were not sent', () => {
    expect(classifyFailure(new NoNodeAvailableError(), driverClassify, true)).toEqual({
      kind: 'connection',
      sent: false,
    });
  });

  it('a stopped target is fatal (never retried)', () => {
    expect(classifyFailure(new StoppedError(), driverClassify, true).kind).toBe('fatal');
  });

  it('an attempt timeout is a timeout whose outcome is unknown', () => {
    // The executor's own cut (attempt timeout, deadline) is classified by the executor, not by the driver.
    expect(interruptClassification('timeout', false)).toEqual({ kind: 'timeout' });
    expect(interruptClassification('deadline', false)).toEqual({ kind: 'timeout' });
    expect(interruptClassification('timeout', true)).toEqual({ kind: 'timeout', sent: false });
    expect(interruptClassification('aborted', false)).toEqual({ kind: 'unknown' });
    expect(interruptClassification('aborted', true)).toEqual({ kind: 'unknown', sent: false });
  });

  it('Reconnect errors thrown by the operation go to the driver only: their outcome and kind are not trusted', () => {
    const unknown = (): Classification => ({ kind: 'unknown' });
    expect(classifyFailure(new BreakerOpenError(), unknown, false)).toEqual({ kind: 'unknown' });
    expect(classifyFailure(new NoNodeAvailableError(), unknown, false)).toEqual({ kind: 'unknown' });
    expect(classifyFailure(new AttemptTimeoutError(5), driverClassify, false)).toEqual({
      kind: 'fatal',
      code: 'X',
    });
  });

  it('driver errors go to classify; before the send they are marked not sent', () => {
    expect(classifyFailure(new Error(), driverClassify, false)).toEqual({ kind: 'fatal', code: 'X' });
    expect(classifyFailure(new Error(), driverClassify, true)).toEqual({
      kind: 'fatal',
      code: 'X',
      sent: false,
    });
  });

  it('a classify that throws yields kind unknown', () => {
    const bad = (): Classification => {
      throw new Error('bug');
    };
    expect(classifyFailure(new Error(), bad, false)).toEqual({ kind: 'unknown' });
  });

  it('only connection, timeout, transient and throttled reflect server health', () => {
    expect(
      ['connection', 'timeout', 'transient', 'throttled', 'auth', 'fatal', 'unknown'].map((k) =>
        reflectsServerHealth(k as never),
      ),
    ).toEqual([true, true, true, true, false, false, false]);
  });
});
