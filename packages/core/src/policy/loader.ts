import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { ConfigError, isConfigError, type ConfigIssue } from '../errors.js';
import type { Environment } from './interpolate.js';
import { redactString } from './redact.js';
import { resolveConfig, type ResolvedConfig } from './resolve.js';
import type { ConfigInput } from './schema.js';

/** The module name cosmiconfig searches under. */
export const MODULE_NAME = 'reconnect';

/**
 * Where a configuration is looked for, in this order, in the working directory and then in each parent directory
 * up to the project root (the nearest directory with a `package.json`), as cosmiconfig's `project` search does.
 */
export const searchPlaces: readonly string[] = [
  'package.json',
  'reconnect.config.yaml',
  'reconnect.config.yml',
  'reconnect.config.json',
  'reconnect.config.js',
  'reconnect.config.ts',
  'reconnect.config.mjs',
  'reconnect.config.cjs',
  '.reconnectrc',
  '.reconnectrc.json',
  '.reconnectrc.yaml',
  '.reconnectrc.yml',
  '.reconnectrc.js',
  '.reconnectrc.mjs',
];

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** A file path (relative to `cwd`), or a configuration object built in code (no file needed). */
  config?: string | ConfigInput | undefined;
  /** Where to search and what a relative `config` path is relative to; `process.cwd()` by default. */
  cwd?: string | undefined;
  /** Where `${NAME}` values come from; `process.env` by default. */
  env?: Environment | undefined;
}

/** What {@link readConfigFile} found: the raw content of a configuration, before validation. */
export interface RawConfig {
  /** The absolute path of the file, or undefined for `package.json`-less programmatic input. */
  file: string | undefined;
  /** The parsed but unvalidated document. */
  config: unknown;
}

function fileIssue(file: string | undefined, kind: string, message: string, expected?: string): ConfigError {
  const i: ConfigIssue = { path: [], kind, message };
  if (file !== undefined) i.file = file;
  if (expected !== undefined) i.expected = expected;
  return new ConfigError([i], file);
}

// Parser messages quote the offending source line, which may hold a password: keep only where it broke.
function syntaxIssue(file: string, error: unknown): ConfigError {
  const e = error as {
    name?: unknown;
    reason?: unknown;
    mark?: { line?: unknown; column?: unknown };
    message?: unknown;
  };
  const ext = path.extname(file).toLowerCase();
  if (e.name === 'YAMLException' || e.mark !== undefined) {
    const reason = typeof e.reason === 'string' ? e.reason : 'invalid YAML';
    const line = typeof e.mark?.line === 'number' ? e.mark.line + 1 : undefined;
    const column = typeof e.mark?.column === 'number' ? e.mark.column + 1 : undefined;
    const at =
      line === undefined ? '' : ` at line ${line}${column === undefined ? '' : `, column ${column}`}`;
    return fileIssue(file, 'parse_error', `YAML syntax error${at}: ${reason}`, 'valid YAML');
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (ext === '.json' || ext === '' || /JSON/.test(message)) {
    const lc = /line (\d+) column (\d+)/i.exec(message) ?? /\((\d+):(\d+)\)/.exec(message);
    const at = lc === null ? '' : ` at line ${lc[1]}, column ${lc[2]}`;
    return fileIssue(file, 'parse_error', `JSON syntax error${at}`, 'valid JSON');
  }
  const first = redactString(
    message.split('\n').find((l) => l.trim() !== '' && !/ Error in /.test(l)) ?? message,
  );
  return fileIssue(
    file,
    'load_error',
    `The file could not be loaded: ${first.slice(0, 200)}`,
    'a module whose default export is the configuration',
  );
}

function errnoIssue(file: string, error: unknown): ConfigError | undefined {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return fileIssue(file, 'file_not_found', 'The file does not exist', 'an existing configuration file');
  if (code === 'EISDIR')
    return fileIssue(file, 'file_not_found', 'This is a directory, not a file', 'a configuration file');
  if (code === 'EACCES' || code === 'EPERM')
    return fileIssue(file, 'unreadable', 'The file cannot be read (permission denied)');
  return undefined;
}

// YAML aliases let a tiny file expand to an enormous tree; refuse documents past this size.
const maxNodes = 100_000;
// Counts values as if every alias were expanded (that is what the later passes walk), iteratively so a
// deep document cannot overflow the stack, and stopping at the limit so a cycle cannot loop forever.
function countNodes(root: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0 && count <= limit) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    for (const v of Object.values(value)) {
      count += 1;
      stack.push(v);
    }
  }
  return count;
}

/** JSON with a JSON-only parser: cosmiconfig's parse-json quotes source text in its messages. */
const loadJson: Loader = (_file, content) => {
  try {
    return JSON.parse(content) as unknown;
  } catch (error) {
    const pos = /position (\d+)/.exec(error instanceof Error ? error.message : '');
    if (pos === null) throw new SyntaxError('JSON syntax error', { cause: error });
    const before = content.slice(0, Number(pos[1])).split('\n');
    throw new SyntaxError(
      `JSON syntax error at line ${before.length} column ${(before.at(-1)?.length ?? 0) + 1}`,
      { cause: error },
    );
  }
};

const explorerOptions = {
  searchPlaces: [...searchPlaces],
  // Walk up from the working directory to the project root, as users of cosmiconfig-based tools expect.
  searchStrategy: 'project' as const,
  cache: false,
  loaders: { '.json': loadJson, noExt: defaultLoaders['.yaml'] },
};

/**
 * Finds (or reads the given) configuration file and returns its raw content, without validating it.
 * Every failure (missing file, syntax error, a module that throws) is a {@link ConfigError}.
 */
export async function readConfigFile(options: { config?: string; cwd?: string } = {}): Promise<RawConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const explorer = cosmiconfig(MODULE_NAME, explorerOptions);
  if (options.config !== undefined) {
    const file = path.resolve(cwd, options.config);
    try {
      // Read first, so a missing or unreadable file is told apart from a broken one.
      await readFile(file, { flag: 'r' });
    } catch (error) {
      throw errnoIssue(file, error) ?? fileIssue(file, 'unreadable', 'The file cannot be read');
    }
    try {
      const found = await explorer.load(file);
      if (found === null || found.isEmpty === true)
        throw fileIssue(file, 'empty', 'The file is empty', 'version: 1 and targets');
      return { file: found.filepath, config: found.config };
    } catch (error) {
      if (isConfigError(error)) throw error;
      throw errnoIssue(file, error) ?? syntaxIssue(file, error);
    }
  }
  let found;
  try {
    found = await explorer.search(cwd);
  } catch (error) {
    const file = (error as { filepath?: unknown }).filepath;
    throw syntaxIssue(typeof file === 'string' ? file : cwd, error);
  }
  if (found === null) {
    throw fileIssue(
      undefined,
      'config_not_found',
      `No configuration found in ${cwd} or its parents up to the project root (the nearest package.json)`,
      `one of ${searchPlaces.join(', ')} (package.json under the "reconnect" key)`,
    );
  }
  return { file: found.filepath, config: found.config };
}

/**
 * Loads, validates and resolves a configuration: the given file, a file found by cosmiconfig
 * under the name `reconnect` from `cwd` up to the project root, or an object built in code. Throws only
 * {@link ConfigError}.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  if (options.config !== undefined && typeof options.config !== 'string') {
    return guard(undefined, () => resolveConfig(options.config, { env }));
  }
  const read: { config?: string; cwd?: string } = {};
  if (options.config !== undefined) read.config = options.config;
  if (options.cwd !== undefined) read.cwd = options.cwd;
  let raw: RawConfig;
  try {
    raw = await readConfigFile(read);
  } catch (error) {
    if (isConfigError(error)) throw error;
    throw fileIssue(undefined, 'load_error', 'The configuration could not be read');
  }
  if (countNodes(raw.config, maxNodes) > maxNodes) {
    throw fileIssue(
      raw.file,
      'too_large',
      `The configuration has more than ${maxNodes} values once YAML aliases are expanded, or refers to itself`,
      'a smaller document',
    );
  }
  return guard(raw.file, () => resolveConfig(raw.config, { file: raw.file, env }));
}

/**
 * The kind of the issue a crash inside the loader becomes. Distinct from every validation kind, so a
 * test (the loader's property test) can tell a bug apart from a configuration problem it reported.
 */
export const INTERNAL_ISSUE_KIND = 'internal';

// A bug or an exotic value (a getter that throws, a Proxy) must still surface as a ConfigError, but as
// kind `internal`: it is not a finding about the file, and must not pass for one.
function guard<T>(file: string | undefined, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (isConfigError(error)) throw error;
    const reason = error instanceof Error ? `${error.name}` : typeof error;
    throw fileIssue(
      file,
      INTERNAL_ISSUE_KIND,
      `The configuration could not be processed (${reason}): this is a bug in Reconnect, please report it`,
    );
  }
}
