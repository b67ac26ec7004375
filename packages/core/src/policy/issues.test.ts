import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { knownKeysAt, zodIssuesToConfigIssues } from './issues.js';
import { configSchema } from './schema.js';

describe('zodIssuesToConfigIssues', () => {
  const driverOptions = z.strictObject({ uri: z.string(), poolSize: z.number().int().positive() });

  it('prefixes the base path, names the file and says what was expected', () => {
    const r = driverOptions.safeParse({ uri: 5, poolSize: 0, poolsize: 3 });
    expect(r.success).toBe(false);
    const issues = zodIssuesToConfigIssues(r.error!.issues, {
      file: 'app.yaml',
      basePath: ['targets', 'main_db', 'options'],
      schema: driverOptions,
    });
    expect(issues.map((i) => [i.path.join('.'), i.kind])).toEqual([
      ['targets.main_db.options.uri', 'invalid_type'],
      ['targets.main_db.options.poolSize', 'too_small'],
      ['targets.main_db.options.poolsize', 'unrecognized_keys'],
    ]);
    expect(issues.every((i) => i.file === 'app.yaml')).toBe(true);
    expect(issues[0]?.expected).toBe('a string');
    expect(issues[2]?.message).toContain('did you mean "poolSize"?');
  });

  it('never quotes the rejected value', () => {
    const schema = z.strictObject({ mode: z.enum(['a', 'b']), password: z.number() });
    const r = schema.safeParse({ mode: 'hunter2', password: 'hunter2' }, { reportInput: true });
    const text = JSON.stringify(zodIssuesToConfigIssues(r.error!.issues));
    expect(text).not.toContain('hunter2');
  });

  it('tells a missing value from a wrong one even without reportInput', () => {
    const r = driverOptions.safeParse({ poolSize: 'x' });
    expect(zodIssuesToConfigIssues(r.error!.issues).map((i) => i.kind)).toEqual(['missing', 'invalid_type']);
  });
});

describe('knownKeysAt', () => {
  it('walks records, optionals and unions of the config schema', () => {
    expect(knownKeysAt(configSchema, ['targets', 'x'])).toContain('driver');
    expect(knownKeysAt(configSchema, ['targets', 'x', 'policy', 'retry', 'backoff'])).toEqual(
      expect.arrayContaining(['type', 'base', 'factor', 'max', 'jitter']),
    );
  });
});
