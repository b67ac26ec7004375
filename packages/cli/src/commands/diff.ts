import { parseArgs } from 'node:util';
import {
  changeEffects,
  changePath,
  describeChange,
  diffConfigs,
  isConfigError,
  loadConfig,
  type ConfigChange,
  type ResolvedConfig,
} from '@reconnect/core';
import { displayPath, formatIssues } from '../format.js';
import { ExitCode, type Io } from '../io.js';

/** `reconnect diff --help`. */
export const diffHelp = `Usage: reconnect diff OLD NEW [--json]

Prints what a reload of the policy file NEW over OLD would change, target by
target, in the words a running manager's reload reports (its event, log and
reconnect.policy_reload span), and how a live target takes each change. Secret
values are never shown.

Exit codes: 0 nothing would change, 1 something would change or NEW is invalid
(a reload would refuse it and keep OLD in force), 2 a usage error.

Options:
      --json   print a JSON document instead of text
  -h, --help   show this help
`;

type Loaded = { config: ResolvedConfig } | { error: unknown };

async function load(file: string, io: Io): Promise<Loaded> {
  try {
    return { config: await loadConfig({ config: file, cwd: io.cwd, env: io.env }) };
  } catch (error) {
    return { error };
  }
}

function invalid(label: string, file: string, loaded: { error: unknown }, io: Io): number {
  const what =
    label === 'NEW'
      ? `${file} is invalid: a reload would refuse it and keep the policy in force`
      : `${file} is invalid`;
  const issues = isConfigError(loaded.error)
    ? formatIssues(loaded.error.issues, io.cwd)
    : [`  ✗ ${String(loaded.error)}`];
  io.stderr.write(`✗ ${what}:\n${issues.join('\n')}\n`);
  return ExitCode.INVALID;
}

/** The text report: one line per change, with how a live target takes it. */
function report(changes: readonly ConfigChange[], oldFile: string, newFile: string): string {
  if (changes.length === 0) return `A reload of ${newFile} over ${oldFile} would change nothing.\n`;
  const lines = changes.map((c) => ({ text: describeChange(c), effect: changeEffects[c.area] }));
  const width = Math.min(72, Math.max(...lines.map((l) => l.text.length)));
  const body = lines.map((l) => (l.effect === '' ? `  ${l.text}` : `  ${l.text.padEnd(width)}  ${l.effect}`));
  const n = changes.length;
  return `A reload of ${newFile} over ${oldFile} would change ${n} thing${n === 1 ? '' : 's'}:\n${body.join('\n')}\n`;
}

/** `reconnect diff OLD NEW`: what a reload of NEW over OLD would change. */
export async function diff(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(diffHelp);
    return ExitCode.OK;
  }
  if (positionals.length !== 2) {
    io.stderr.write(`reconnect diff: expected two files, OLD and NEW\n\n${diffHelp}`);
    return ExitCode.USAGE;
  }
  const [oldPath, newPath] = positionals as [string, string];
  const [before, after] = await Promise.all([load(oldPath, io), load(newPath, io)]);
  if ('error' in before) return invalid('OLD', oldPath, before, io);
  if ('error' in after) return invalid('NEW', newPath, after, io);
  const { changes } = diffConfigs(before.config.targets, after.config.targets);
  const oldName = displayPath(before.config.file, io.cwd) ?? oldPath;
  const newName = displayPath(after.config.file, io.cwd) ?? newPath;
  if (values.json) {
    const doc = {
      old: oldName,
      new: newName,
      changes: changes.map((c) => ({
        ...c,
        at: changePath(c),
        text: describeChange(c),
        effect: changeEffects[c.area],
      })),
    };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    io.stdout.write(report(changes, oldName, newName));
  }
  return changes.length === 0 ? ExitCode.OK : ExitCode.INVALID;
}
