import { describe, expect, it } from 'vitest';
import { interpolate } from './interpolate.js';

describe('interpolate', () => {
  it('replaces ${NAME} and ${NAME:-default} in every string, leaving keys and non-strings alone', () => {
    const { value, issues } = interpolate(
      { a: '${HOST}:${PORT:-6379}', list: ['x${HOST}'], n: 5, '${HOST}': 'k' },
      { HOST: 'db' },
    );
    expect(issues).toEqual([]);
    expect(value).toEqual({ a: 'db:6379', list: ['xdb'], n: 5, '${HOST}': 'k' });
  });

  it('uses the default when the variable is empty, and an empty value without a default', () => {
    expect(interpolate('${E:-d}', { E: '' }).value).toBe('d');
    expect(interpolate('[${E}]', { E: '' }).value).toBe('[]');
  });

  it('reads $${ as a literal ${', () => {
    expect(interpolate('$${HOME} and ${X}', { X: '1' }).value).toBe('${HOME} and 1');
  });

  it('reports a missing variable with its name and path, keeping the text as written', () => {
    const { value, issues } = interpolate(
      { t: { uri: 'mysql://${MISSING_VAR}/db' } },
      {},
      { file: 'f.yaml' },
    );
    expect(value).toEqual({ t: { uri: 'mysql://${MISSING_VAR}/db' } });
    expect(issues).toEqual([
      expect.objectContaining({
        file: 'f.yaml',
        path: ['t', 'uri'],
        kind: 'missing_env',
        message: expect.stringContaining('MISSING_VAR'),
      }),
    ]);
  });

  it('reports malformed references', () => {
    expect(interpolate('${1X}', {}).issues[0]?.kind).toBe('invalid_env_reference');
  });

  it('cuts cycles with an issue instead of overflowing the stack', () => {
    const a: Record<string, unknown> = { x: 1 };
    a['self'] = a;
    const { issues } = interpolate(a, {});
    expect(issues.map((i) => [i.path, i.kind])).toEqual([[['self'], 'circular']]);
  });

  it('keeps a "__proto__" key as data, not as the prototype', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const { value } = interpolate(input, {});
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
