import type { Driver } from './driver.js';
import { ConfigError } from '../errors.js';
import { zodIssuesToConfigIssues } from '../policy/issues.js';

/** Where a target's options came from, for error messages. */
export interface OptionsSource {
  target: string;
  /** The config file, when the options came from one. */
  file?: string | undefined;
}

/**
 * Validates a target's `options` with the driver's own zod schema and returns the parsed value.
 * Problems are reported like policy errors: a {@link ConfigError} naming the file, the path
 * (`targets.NAME.options.x`) and what was expected; secret values are never echoed.
 */
export function validateDriverOptions<Options>(
  driver: Pick<Driver<Options>, 'options'>,
  options: unknown,
  source: OptionsSource,
): Options {
  const result = driver.options.safeParse(options ?? {});
  if (result.success) return result.data;
  const issues = zodIssuesToConfigIssues(result.error.issues, {
    file: source.file,
    basePath: ['targets', source.target, 'options'],
    schema: driver.options,
  });
  throw new ConfigError(issues, source.file);
}
