// The issues interpolate reports are data a user reads (kind, message, expected, file): each is pinned whole, and a
// string with one bad reference is kept exactly as written, its good references included.
import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.js';

describe('interpolate: a missing variable', () => {
  it('names the variable, and says how to give it a default', () => {
    const { issues } = interpolate({ host: '${DB_HOST}' }, {});
    expect(issues).toStrictEqual([
      {
        path: ['host'],
        kind: 'missing_env',
        message: 'Environment variable DB_HOST is not set',
        expected: 'DB_HOST to be set, or a default: ${DB_HOST:-value}',
      },
    ]);
  });

  it('under a secret key, does not show the name (it may be a slice of the password)', () => {
    const { value, issues } = interpolate({ auth: { password: 'ab${cd}ef' } }, {});
    expect(value).toEqual({ auth: { password: 'ab${cd}ef' } });
    expect(issues).toStrictEqual([
      {
        path: ['auth', 'password'],
        kind: 'missing_env',
        message:
          'An environment variable this value refers to is not set (its name is not shown: the value is secret)',
        expected: 'the variable to be set, or a default: ${NAME:-value}',
      },
    ]);
    expect(JSON.stringify(issues)).not.toContain('cd');
  });

  it('keeps the whole string as written, the references that were set included', () => {
    const { value, issues } = interpolate('${HOST}:${MISSING_PORT}', { HOST: 'db' });
    expect(value).toBe('${HOST}:${MISSING_PORT}');
    expect(issues.map((i) => i.kind)).toEqual(['missing_env']);
  });

  it('carries the file only when one was given', () => {
    const [withFile] = interpolate('${NOPE}', {}, { file: 'reconnect.yaml' }).issues;
    expect(withFile?.file).toBe('reconnect.yaml');
    const [without] = interpolate('${NOPE}', {}).issues;
    expect(without).toBeDefined();
    expect(Object.hasOwn(without!, 'file')).toBe(false);
  });
});

describe('interpolate: a malformed reference', () => {
  it('is an issue that never quotes the text, with the accepted forms as expected', () => {
    const { issues } = interpolate({ uri: 'redis://h/${9k!Qw7}' }, {});
    expect(issues).toStrictEqual([
      {
        path: ['uri'],
        kind: 'invalid_env_reference',
        message:
          'Invalid variable reference: a name must be letters, digits and _, not starting with a digit (write $${ for a literal ${)',
        expected: '${NAME} or ${NAME:-default}',
      },
    ]);
  });

  it('keeps the whole string as written, the good references included', () => {
    const { value, issues } = interpolate('${1X}-${HOST}', { HOST: 'db' });
    expect(value).toBe('${1X}-${HOST}');
    expect(issues.map((i) => i.kind)).toEqual(['invalid_env_reference']);
  });

  it.each(['A-B', 'A B', 'A.B', '', '_1:'])('rejects the name "%s" as a whole, not by its prefix', (name) => {
    const { value, issues } = interpolate(`\${${name}}`, { A: 'x', _1: 'y' });
    expect(issues.map((i) => i.kind)).toEqual(['invalid_env_reference']);
    expect(value).toBe(`\${${name}}`);
  });

  it('accepts letters, digits after the first, and _', () => {
    expect(interpolate('${_a1B2}', { _a1B2: 'ok' })).toStrictEqual({ value: 'ok', issues: [] });
  });
});

describe('interpolate: cycles and nesting', () => {
  it('reports a cycle with what was expected, and drops the looping value', () => {
    const list: unknown[] = [];
    list.push(list);
    const { value, issues } = interpolate({ list }, {});
    expect(value).toStrictEqual({ list: [undefined] });
    expect(issues).toStrictEqual([
      {
        path: ['list', 0],
        kind: 'circular',
        message: 'The value refers to itself',
        expected: 'a tree of plain values',
      },
    ]);
  });

  it('says how deep is too deep, with no expected', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 66; i++) deep = { d: deep };
    const { issues } = interpolate(deep, {});
    expect(issues).toHaveLength(1);
    expect(issues[0]).toStrictEqual({
      path: Array.from({ length: 65 }, () => 'd'),
      kind: 'too_deep',
      message: 'Nested more than 64 levels deep',
    });
  });
});
