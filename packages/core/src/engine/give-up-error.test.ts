import { describe, expect, it } from 'vitest';
import {
  isBudgetExhaustedError,
  isDeadlineExceededError,
  isRetriesExhaustedError,
  NotConnectedError,
  ReconnectError,
} from '../errors.js';
import { RetryReasons } from '../telemetry/names.js';
import { becauseText, giveUpError, type GiveUpFacts } from './give-up-error.js';
import { AttemptFailed } from './operation-run.js';

const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

function facts(error: unknown): GiveUpFacts {
  return {
    attempts: 4,
    failure: new AttemptFailed(error, { kind: 'transient' }, undefined, undefined, 3),
    failures: [],
    maybeSent: false,
    deadlineMs: 10_000,
    abortReason: undefined,
    target: 'cache',
    breakerRetryInMs: undefined,
  };
}

describe('give-up errors say why in the line a logger prints', () => {
  it('retries exhausted: the last failure in its own words', () => {
    const e = giveUpError(
      RetryReasons.MAX_RETRIES,
      facts(replyError("READONLY You can't write against a read only replica.")),
    );
    expect(isRetriesExhaustedError(e)).toBe(true);
    expect((e as Error).message).toBe(
      "Operation failed after 0 attempts: READONLY You can't write against a read only replica.",
    );
    // The cause is still the error itself, unchanged.
    expect((e as Error).cause).toBeInstanceOf(Error);
  });

  it('a last attempt that met no server names the earlier refusal the server gave (the likelier why)', () => {
    const readOnly = replyError("READONLY You can't write against a read only replica.");
    const lost = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    const failures = [
      { attempt: 1, error: readOnly, kind: 'transient' as const, durationMs: 1 },
      { attempt: 2, error: lost, kind: 'connection' as const, durationMs: 1 },
    ];
    const last = { ...facts(lost), failures };
    expect((giveUpError(RetryReasons.MAX_RETRIES, last) as Error).message).toBe(
      "Operation failed after 2 attempts: Stream isn't writeable and enableOfflineQueue options is false; " +
        "earlier: READONLY You can't write against a read only replica.",
    );
    // A last failure that is itself the server's answer says so alone; so does one with no refusal before it.
    const answered = { ...facts(readOnly), failures: [failures[1]!, { ...failures[0]!, attempt: 2 }] };
    expect((giveUpError(RetryReasons.MAX_RETRIES, answered) as Error).message).toBe(
      "Operation failed after 2 attempts: READONLY You can't write against a read only replica.",
    );
    const onlyLost = { ...facts(lost), failures: [failures[1]!, { ...failures[1]!, attempt: 2 }] };
    expect((giveUpError(RetryReasons.MAX_RETRIES, onlyLost) as Error).message).toBe(
      "Operation failed after 2 attempts: Stream isn't writeable and enableOfflineQueue options is false",
    );
  });

  it('while the target is not connected, a give-up names what its reconnect meets (a refused password)', () => {
    const wrongPass = replyError('WRONGPASS invalid username-password pair or user is disabled.');
    const timedOut = new Error('Attempt timed out after 200 ms');
    const withAttempt = { ...facts(timedOut), targetDown: wrongPass };
    expect((giveUpError(RetryReasons.DEADLINE, withAttempt) as Error).message).toBe(
      'Operation deadline of 10000 ms exceeded: Attempt timed out after 200 ms; target "cache" is not connected: ' +
        'WRONGPASS invalid username-password pair or user is disabled.',
    );
    const waitedOnly = { ...facts(timedOut), failure: undefined, targetDown: wrongPass };
    expect((giveUpError(RetryReasons.DEADLINE, waitedOnly) as Error).message).toBe(
      'Operation deadline of 10000 ms exceeded: target "cache" is not connected: ' +
        'WRONGPASS invalid username-password pair or user is disabled.',
    );
    // Connected (nothing given): the message is the attempt's alone.
    expect((giveUpError(RetryReasons.DEADLINE, facts(timedOut)) as Error).message).toBe(
      'Operation deadline of 10000 ms exceeded: Attempt timed out after 200 ms',
    );
  });

  it('a wrapped failure: the outer words and the innermost cause (a target that gave up on a bad certificate)', () => {
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const gaveUp = new NotConnectedError('Reconnect attempts are exhausted; the target gave up', {
      cause: tls,
    });
    const e = giveUpError(RetryReasons.DEADLINE, facts(gaveUp));
    expect(isDeadlineExceededError(e)).toBe(true);
    expect((e as Error).message).toBe(
      'Operation deadline of 10000 ms exceeded: ERR_NOT_CONNECTED: Reconnect attempts are exhausted; the target gave up ← DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate',
    );
  });

  it('a budget give-up says why too; credentials in a failure are redacted', () => {
    const e = giveUpError(
      RetryReasons.BUDGET_EXHAUSTED,
      facts(new Error('connect failed for redis://app:hunter2@cache.internal:6379')),
    );
    expect(isBudgetExhaustedError(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /^Retry budget of target "cache" exhausted: not retrying after 4 attempts: /,
    );
    expect((e as Error).message).not.toContain('hunter2');
  });

  it('without a failure (nothing ran) the message is the plain one', () => {
    const e = giveUpError(RetryReasons.DEADLINE, { ...facts(undefined), failure: undefined });
    expect((e as Error).message).toBe('Operation deadline of 10000 ms exceeded');
  });

  it("the driver's meaning stands for a client text that misleads (ioredis's lost connection)", () => {
    const lost = Object.assign(new Error('Reached the max retries per request limit (which is 0).'), {
      name: 'MaxRetriesPerRequestError',
    });
    const f = facts(lost);
    const withMeaning: GiveUpFacts = {
      ...f,
      maybeSent: true,
      failure: new AttemptFailed(
        lost,
        { kind: 'connection', message: 'the connection was lost' },
        undefined,
        undefined,
        3,
      ),
    };
    expect((giveUpError(RetryReasons.NOT_IDEMPOTENT, withMeaning) as Error).message).toBe(
      'Operation is not idempotent and may have run on the server (MaxRetriesPerRequestError: the connection was lost); it was not repeated',
    );
    expect((giveUpError(RetryReasons.MAX_RETRIES, withMeaning) as Error).message).toBe(
      'Operation failed after 0 attempts: MaxRetriesPerRequestError: the connection was lost',
    );
  });

  it('a long why is cut at 300 characters', () => {
    const text = becauseText(new Error('x'.repeat(1000)));
    expect(text).toHaveLength(300);
    expect(text.endsWith('…')).toBe(true);
  });

  it('because is appended by the base class after a colon, and an empty one adds nothing', () => {
    expect(new ReconnectError('ERR_ABORTED', 'Stopped', { because: 'shutdown' }).message).toBe(
      'Stopped: shutdown',
    );
    expect(new ReconnectError('ERR_ABORTED', 'Stopped', { because: '' }).message).toBe('Stopped');
  });
});
