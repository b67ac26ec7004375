/** Where a command writes and what it reads from its surroundings; injectable so tests need no subprocess. */
export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** The working directory relative paths and the config search start from. */
  cwd: string;
  /** The environment `${NAME}` references read. */
  env: Readonly<Record<string, string | undefined>>;
}

/** The process's own streams, directory and environment. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}

/** Exit codes: 0 success, 1 an invalid configuration or a failed check, 2 a usage error. */
export const ExitCode = { OK: 0, INVALID: 1, USAGE: 2 } as const;
