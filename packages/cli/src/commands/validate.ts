import { parseArgs } from 'node:util';
import path from 'node:path';
import {
  ConfigError,
  isConfigError,
  loadConfig,
  redactSecrets,
  validateDriverOptions,
  type ConfigIssue,
  type ResolvedConfig,
} from '@reconnect/core';
import { loadTargetDriver } from '../drivers.js';
import { diff } from './diff.js';
import { displayPath, formatIssues, formatPolicy, jsonSafe } from '../format.js';
import { ExitCode, type Io } from '../io.js';

/** `reconnect validate --help`. */
export const validateHelp = `Usage: reconnect validate [--config FILE] [--json]
       reconnect validate --diff OLD NEW [--json]   (the same as reconnect diff OLD NEW)

Loads the policy file, checks it and prints every target's resolved policy,
each value marked with where it came from (default, defaults, preset:NAME,
policies.NAME or target). Loads each target's driver and checks its options
with the driver's schema; a driver that cannot be found is an error at
targets.NAME.driver. Exits 1 listing every problem when it is invalid.

Options:
  -c, --config FILE  the policy file (default: reconnect.config.* / .reconnectrc* /
                     package.json#reconnect, from the current directory up to
                     the project root)
      --diff OLD NEW what a reload of NEW over OLD would change (see reconnect diff)
      --json         print a JSON document instead of text
      --skip-drivers do not load the drivers (where they are not installed):
                     driver names and options are then not checked, and the
                     output says so
  -h, --help         show this help
`;

/** Runs `reconnect validate`. Secrets in driver options are redacted in every output. */
export async function validate(argv: readonly string[], io: Io): Promise<number> {
  if (argv.includes('--diff'))
    return diff(
      argv.filter((a) => a !== '--diff'),
      io,
    );
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      'skip-drivers': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(validateHelp);
    return ExitCode.OK;
  }
  let config: ResolvedConfig;
  const warnings: string[] = [];
  const driversChecked = !values['skip-drivers'];
  try {
    config = await loadConfig({ config: values.config, cwd: io.cwd, env: io.env });
    if (driversChecked) await checkDrivers(config, io.cwd);
    else warnings.push(skippedDriversNote);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ valid: false, file: error.file ?? null, issues: error.issues }, null, 2)}\n`,
      );
    } else {
      const file = displayPath(error.file, io.cwd);
      const count = `${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}`;
      io.stderr.write(
        `✗ ${file ?? 'configuration'} is invalid: ${count}\n${formatIssues(error.issues, io.cwd).join('\n')}\n`,
      );
    }
    return ExitCode.INVALID;
  }

  if (values.json) {
    const targets = Object.fromEntries(
      Object.entries(config.targets).map(([name, t]) => [
        name,
        {
          driver: t.driver,
          required: t.required,
          ...(t.description === undefined ? {} : { description: t.description }),
          layers: t.layers,
          options: redactSecrets(t.options) ?? null,
          policy: jsonSafe(t.policy),
          provenance: t.provenance,
        },
      ]),
    );
    io.stdout.write(
      `${JSON.stringify({ valid: true, file: config.file ?? null, driversChecked, warnings, targets }, null, 2)}\n`,
    );
    return ExitCode.OK;
  }

  const names = Object.keys(config.targets);
  const file = displayPath(config.file, io.cwd) ?? 'configuration';
  const out: string[] = [`✓ ${file} is valid: ${names.length} target${names.length === 1 ? '' : 's'}`];
  // On stdout, beside the verdict: a pass without the driver check must not read like a full one.
  if (!driversChecked) out.push(`  (${skippedDriversNote})`);
  for (const t of Object.values(config.targets)) {
    out.push('');
    out.push(
      `${t.name}  (driver ${t.driver}${t.required ? '' : ', optional'})${t.description === undefined ? '' : ` — ${t.description}`}`,
    );
    out.push(`  layers: ${t.layers.join(' ← ')}`);
    if (t.options !== undefined) out.push(`  options: ${JSON.stringify(redactSecrets(t.options))}`);
    out.push(...formatPolicy(t.policy, t.provenance));
  }
  io.stdout.write(`${out.join('\n')}\n`);
  return ExitCode.OK;
}

/** What `--skip-drivers` leaves unchecked, said in the output of every run that uses it. */
export const skippedDriversNote =
  "--skip-drivers: drivers not loaded; each target's driver name and options were not checked";

/**
 * Loads each target's driver (from the config file's directory) and checks its options with the
 * driver's own schema. A driver that cannot be found or loaded is an issue at `targets.NAME.driver`;
 * every target's issues are collected into one ConfigError.
 */
export async function checkDrivers(config: ResolvedConfig, cwd: string): Promise<void> {
  const fromDir = config.file === undefined ? cwd : path.dirname(config.file);
  const issues: ConfigIssue[] = [];
  for (const t of Object.values(config.targets)) {
    const loaded = await loadTargetDriver(t.name, t.driver, fromDir, config.file);
    if (!loaded.ok) {
      issues.push(loaded.issue);
      continue;
    }
    try {
      validateDriverOptions(loaded.driver, t.options, { target: t.name, file: config.file });
    } catch (error) {
      if (isConfigError(error)) issues.push(...error.issues);
      else throw error;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, config.file);
}
