/** Where a command writes and what it reads from its surroundings; injectable so tests need no subprocess. */
export interface Io {
  /** `isTTY` decides whether `watch` redraws in place or writes a line log. */
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown };
  /** The working directory relative paths and the config search start from. */
  cwd: string;
  /** The environment `${NAME}` references read. */
  env: Readonly<Record<string, string | undefined>>;
  /** Stops a long-running command (`watch`) like Ctrl-C would; without it, SIGINT and SIGTERM do. */
  signal?: AbortSignal;
}

/**
 * The process's own streams, directory and environment. A stream whose reader went away
 * (`reconnect schema | head`) stops taking output instead of crashing the process with EPIPE, so
 * the command still ends with its own exit code.
 */
export function processIo(): Io {
  return {
    stdout: {
      ...closableOutput(process.stdout),
      isTTY: process.stdout.isTTY === true,
      get columns() {
        return process.stdout.columns;
      },
    },
    stderr: closableOutput(process.stderr),
    cwd: process.cwd(),
    env: process.env,
  };
}

/** Streams whose reader went away, and streams already watched for that (one listener each). */
const closedStreams = new WeakSet<NodeJS.WriteStream>();
const watchedStreams = new WeakSet<NodeJS.WriteStream>();

/**
 * A writer over `stream` that drops what is written after the stream's reader closed it. A closed
 * pipe is normal in a shell; any other stream error is still thrown, as an unhandled one would be.
 */
function closableOutput(stream: NodeJS.WriteStream): Io['stdout'] {
  if (!watchedStreams.has(stream)) {
    watchedStreams.add(stream);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      closedStreams.add(stream);
    });
  }
  return {
    write: (text: string) => (closedStreams.has(stream) || stream.destroyed ? false : stream.write(text)),
  };
}

/** Exit codes: 0 success, 1 an invalid configuration or a failed check, 2 a usage error. */
export const ExitCode = { OK: 0, INVALID: 1, USAGE: 2 } as const;
