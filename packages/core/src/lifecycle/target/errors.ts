import type { Driver } from '../../driver/driver.js';
import type { ErrorKind } from '../../error-kinds.js';
import { isReconnectError, NotConnectedError } from '../../errors.js';
import { describeError, secretValues } from '../../policy/describe-error.js';
import { formatDuration } from '../../policy/units.js';

/**
 * How one target explains itself: the errors it builds (complete at construction: message, cause, kind,
 * target) and the redacted text of any error, in the driver's words where the client's own text misleads.
 */
export class TargetErrors {
  readonly #target: string;
  readonly #driver: Driver<never, unknown> | Driver;
  readonly #secrets: readonly string[];

  /** The target's name, for errors built elsewhere. */
  get target(): string {
    return this.#target;
  }

  constructor(target: string, driver: Driver<never, unknown> | Driver, options: unknown) {
    this.#target = target;
    this.#driver = driver;
    this.#secrets = secretValues(options, driver.secretKeys ?? []);
  }

  /** An error's redacted code and message; the driver may say what a client's text means (classify().message). */
  describe(error: unknown): { code?: string; message: string } | undefined {
    const described = describeError(error, this.#secrets);
    if (described === undefined || isReconnectError(error)) return described;
    let message: string | undefined;
    try {
      message = this.#driver.classify(error).message;
    } catch {
      message = undefined;
    }
    return message === undefined
      ? described
      : { ...described, message: describeError(message, this.#secrets)!.message };
  }

  /** The error kind: a ReconnectError says it itself; anything else is the driver's to classify. */
  kindOf(error: unknown): ErrorKind {
    if (isReconnectError(error)) return error.kind ?? 'connection';
    try {
      return this.#driver.classify(error).kind;
    } catch {
      return 'unknown';
    }
  }

  /**
   * The target is not connected (`why`), with what it last failed with as cause. `failFast`: the policy says not
   * to wait (`whileReconnecting: fail-fast`), so the executor must not retry it either.
   */
  notConnected(why: string, cause: unknown, failFast = false): NotConnectedError {
    return new NotConnectedError(`Target "${this.#target}" is not connected: ${why}`, {
      cause,
      kind: 'connection',
      target: this.#target,
      ...(failFast ? { retryable: false } : {}),
    });
  }

  /** A target that has not connected once since start(): what it last failed with is the news. */
  neverConnected(cause: unknown, failFast = false): NotConnectedError {
    return this.#withCause(`Target "${this.#target}" has never connected since start()`, '', cause, failFast);
  }

  /** start() gave up waiting after `reconnect.startTimeout`; the target goes on reconnecting. */
  startTimedOut(ms: number, cause: unknown): NotConnectedError {
    return this.#withCause(
      `Target "${this.#target}" did not connect within ${formatDuration(ms)} (reconnect.startTimeout)`,
      '; it keeps reconnecting in the background',
      cause,
    );
  }

  /** The first connect failed for good (bad credentials, or reconnect attempts exhausted). */
  couldNotConnect(cause: unknown): NotConnectedError {
    return this.#withCause(`Target "${this.#target}" could not connect`, '', cause);
  }

  /** A node the pool picked could not be connected for this attempt. */
  nodeUnreachable(nodeId: string, cause: unknown): NotConnectedError {
    return new NotConnectedError(`Could not connect to node ${nodeId}`, {
      cause,
      kind: 'connection',
      target: this.#target,
    });
  }

  #withCause(head: string, tail: string, cause: unknown, failFast = false): NotConnectedError {
    const detail = this.describe(cause)?.message;
    return new NotConnectedError(`${head}${detail ? `: ${detail}` : ''}${tail}`, {
      cause,
      kind: cause === undefined ? 'connection' : this.kindOf(cause),
      target: this.#target,
      ...(failFast ? { retryable: false } : {}),
    });
  }
}
