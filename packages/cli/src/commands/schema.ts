import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { configJsonSchema } from '@reconnect/core';
import { ExitCode, type Io } from '../io.js';

/** `reconnect schema --help`. */
export const schemaHelp = `Usage: reconnect schema [--check FILE | --write FILE]

Prints the JSON Schema of the policy file, generated from the same zod schema
the loader validates with. Point your editor at it for completion, e.g. in YAML:
  # yaml-language-server: $schema=./reconnect.schema.json

Options:
      --check FILE  exit 1 if FILE differs from the freshly generated schema (for CI)
      --write FILE  write the schema to FILE
  -h, --help        show this help
`;

/** The schema exactly as `reconnect schema` prints it (2-space JSON and a final newline). */
export function schemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** Runs `reconnect schema`. */
export async function schema(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      check: { type: 'string' },
      write: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(schemaHelp);
    return ExitCode.OK;
  }
  const text = schemaText();
  if (values.check !== undefined) {
    const file = path.resolve(io.cwd, values.check);
    let current: string;
    try {
      current = await readFile(file, 'utf8');
    } catch {
      io.stderr.write(
        `✗ ${values.check} does not exist; create it with: reconnect schema --write ${values.check}\n`,
      );
      return ExitCode.INVALID;
    }
    if (current !== text) {
      io.stderr.write(
        `✗ ${values.check} is out of date with the policy schema; regenerate it with: reconnect schema --write ${values.check}\n`,
      );
      return ExitCode.INVALID;
    }
    io.stdout.write(`✓ ${values.check} is up to date\n`);
    return ExitCode.OK;
  }
  if (values.write !== undefined) {
    await writeFile(path.resolve(io.cwd, values.write), text);
    io.stdout.write(`✓ wrote ${values.write}\n`);
    return ExitCode.OK;
  }
  io.stdout.write(text);
  return ExitCode.OK;
}
