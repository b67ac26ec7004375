import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { configJsonSchema } from '@reconnect/core';
import { ExitCode, type Io } from '../io.js';

/** Where `reconnect schema --write` without a file name writes: the name the package ships it under. */
export const DEFAULT_SCHEMA_FILE = 'reconnect.schema.json';

/** `reconnect schema --help`. */
export const schemaHelp = `Usage: reconnect schema [--check FILE... | --write [FILE]]

Prints the JSON Schema of the policy file, generated from the same zod schema
the loader validates with. @reconnect/cli ships it as reconnect.schema.json;
point your editor at it for completion, e.g. in YAML beside node_modules:
  # yaml-language-server: $schema=./node_modules/@reconnect/cli/reconnect.schema.json

Options:
      --check FILE    exit 1 if FILE differs from the freshly generated schema
                      (for CI); may be given more than once
      --write [FILE]  write the schema to FILE (default ${DEFAULT_SCHEMA_FILE})
  -h, --help          show this help
`;

/** The schema exactly as `reconnect schema` prints it (2-space JSON and a final newline). */
export function schemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** Runs `reconnect schema`. */
export async function schema(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: withDefaultWriteFile(argv),
    options: {
      check: { type: 'string', multiple: true },
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
    let code: number = ExitCode.OK;
    for (const name of values.check) {
      if ((await checkFile(name, text, io)) !== ExitCode.OK) code = ExitCode.INVALID;
    }
    return code;
  }
  if (values.write !== undefined) {
    await writeFile(path.resolve(io.cwd, values.write), text);
    io.stdout.write(`✓ wrote ${values.write}\n`);
    return ExitCode.OK;
  }
  io.stdout.write(text);
  return ExitCode.OK;
}

/** `--write` as the last argument or before another option means `--write reconnect.schema.json`. */
function withDefaultWriteFile(argv: readonly string[]): string[] {
  const args = [...argv];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') break;
    const next = args[i + 1];
    if (args[i] === '--write' && (next === undefined || next.startsWith('-'))) {
      args.splice(i + 1, 0, DEFAULT_SCHEMA_FILE);
    }
  }
  return args;
}

/** `--check NAME`: whether the file holds exactly `text`, said on stdout (fresh) or stderr (stale, missing). */
async function checkFile(name: string, text: string, io: Io): Promise<number> {
  let current: string;
  try {
    current = await readFile(path.resolve(io.cwd, name), 'utf8');
  } catch {
    io.stderr.write(`✗ ${name} does not exist; create it with: reconnect schema --write ${name}\n`);
    return ExitCode.INVALID;
  }
  if (current !== text) {
    io.stderr.write(
      `✗ ${name} is out of date with the policy schema; regenerate it with: reconnect schema --write ${name}\n`,
    );
    return ExitCode.INVALID;
  }
  io.stdout.write(`✓ ${name} is up to date\n`);
  return ExitCode.OK;
}
