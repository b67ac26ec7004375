// One errors module for the testkit: every error has a stable `code`, like the core's errors.

/** Stable codes of the errors the testkit throws. */
export const TestkitErrorCodes = {
  MISSING_BINARY: 'ERR_TESTKIT_MISSING_BINARY',
  SERVER_START: 'ERR_TESTKIT_SERVER_START',
  TIMEOUT: 'ERR_TESTKIT_TIMEOUT',
  STOPPED: 'ERR_TESTKIT_STOPPED',
} as const;

/** One of {@link TestkitErrorCodes}. */
export type TestkitErrorCode = (typeof TestkitErrorCodes)[keyof typeof TestkitErrorCodes];

const brand = Symbol.for('@reconnect/testkit/error');

/** Base of every error thrown by the testkit. */
export class TestkitError extends Error {
  readonly code: TestkitErrorCode;
  constructor(code: TestkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }
  override get name(): string {
    return this.constructor.name;
  }
}

/** True for any error thrown by any copy of `@reconnect/testkit`. */
export function isTestkitError(error: unknown): error is TestkitError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}

/** A server binary is not installed; the message names the Debian package that provides it. */
export class MissingBinaryError extends TestkitError {
  readonly binary: string;
  readonly debianPackage: string;
  constructor(binary: string, debianPackage: string, searched: readonly string[]) {
    super(
      TestkitErrorCodes.MISSING_BINARY,
      `Cannot find "${binary}" (looked in PATH and ${searched.join(', ')}). ` +
        `Install it with: apt-get install ${debianPackage}`,
    );
    this.binary = binary;
    this.debianPackage = debianPackage;
  }
}

/** A server process exited or never became ready; `log` holds the tail of its output. */
export class ServerStartError extends TestkitError {
  readonly log: string;
  constructor(message: string, log: string, options?: { cause?: unknown }) {
    super(TestkitErrorCodes.SERVER_START, `${message}\n--- server output (tail) ---\n${log}`, options);
    this.log = log;
  }
}

/** A bounded wait ran out. */
export class TestkitTimeoutError extends TestkitError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super(TestkitErrorCodes.TIMEOUT, `Timed out after ${timeoutMs} ms waiting for ${what}`);
    this.timeoutMs = timeoutMs;
  }
}
