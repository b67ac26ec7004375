import { PACKAGE_VERSION } from '@reconnect/core';
import { check, checkHelp } from './commands/check.js';
import { diff, diffHelp } from './commands/diff.js';
import { explain, explainHelp } from './commands/explain.js';
import { schema, schemaHelp } from './commands/schema.js';
import { validate, validateHelp } from './commands/validate.js';
import { watch, watchHelp } from './commands/watch.js';
import { ExitCode, processIo, type Io } from './io.js';

/** `reconnect --help`. */
export const mainHelp = `Usage: reconnect <command> [options]

Commands:
  validate [--config FILE]          check the policy file; print each target's resolved policy
                                    and where every value came from
  explain TARGET [--config FILE]    the retry and reconnect schedules of a target, and what ends them
  check [--config FILE] [TARGET…]   connect each target once, probe every node, exit 0 only if
                                    every required target is up
  watch [--config FILE] [TARGET…]   keep the targets running and show their state live; Ctrl-C stops
  diff OLD NEW                      what a reload of the policy file NEW over OLD would change
  schema [--write [FILE]]           the JSON Schema of the policy file, for editors and CI

Every command takes --help; validate, explain, check and diff take --json.
Options:
  -h, --help     show this help
  -v, --version  print the version
`;

const commands: Record<string, { run: (argv: readonly string[], io: Io) => Promise<number>; help: string }> =
  {
    validate: { run: validate, help: validateHelp },
    explain: { run: explain, help: explainHelp },
    check: { run: check, help: checkHelp },
    watch: { run: watch, help: watchHelp },
    diff: { run: diff, help: diffHelp },
    schema: { run: schema, help: schemaHelp },
  };

/**
 * Runs the `reconnect` command with `argv` (without node and the script); resolves to the exit code.
 * `io` replaces the process's streams, directory and environment (tests).
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    io.stdout.write(topic !== undefined && commands[topic] ? commands[topic].help : mainHelp);
    return first === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (first === '-v' || first === '--version') {
    io.stdout.write(`${PACKAGE_VERSION}\n`);
    return ExitCode.OK;
  }
  const command = Object.prototype.hasOwnProperty.call(commands, first) ? commands[first] : undefined;
  if (command === undefined) {
    io.stderr.write(`reconnect: unknown command "${first}"\n\n${mainHelp}`);
    return ExitCode.USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // parseArgs reports unknown or malformed options with these codes: a usage error, not a crash.
    const code = (error as { code?: unknown }).code;
    if (
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    ) {
      io.stderr.write(`reconnect ${first}: ${(error as Error).message}\n\n${command.help}`);
      return ExitCode.USAGE;
    }
    throw error;
  }
}
