import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isConfigError, loadConfig } from '@reconnect/core';
import { readConfigFile } from '../../src/policy/loader.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-prop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'valid');

// Resolves to 'ok' or 'config-error'; any other outcome fails the property with the culprit.
async function outcome(run: () => Promise<unknown>): Promise<'ok' | 'config-error'> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    if (isConfigError(error)) {
      expect(error.issues.length).toBeGreaterThan(0);
      for (const i of error.issues) {
        expect(Array.isArray(i.path)).toBe(true);
        expect(typeof i.kind).toBe('string');
        // A crash the loader caught is reported as kind `internal`: a bug, never an acceptable outcome.
        expect(i.kind, i.message).not.toBe('internal');
        expect(typeof i.message).toBe('string');
      }
      return 'config-error';
    }
    throw error;
  }
}

let counter = 0;
function writeTemp(ext: string, content: string): string {
  const file = path.join(tmp, `doc-${counter++}${ext}`);
  writeFileSync(file, content);
  return file;
}

// Fragments that make YAML interesting: flow and block syntax, anchors, tags, env references.
const yamlToken = fc.constantFrom(
  'version: 1\n',
  'targets:\n',
  '  cache:\n',
  '    driver: redis\n',
  '    policy: preset:redis\n',
  'defaults: ',
  '{',
  '}',
  '[',
  ']',
  ': ',
  ', ',
  '- ',
  '\n',
  '  ',
  '&a ',
  '*a',
  '!!str ',
  '!!binary ',
  '"',
  "'",
  '#',
  '${X}',
  '${',
  '10s',
  '-1',
  '.nan',
  '~',
  'null',
  'true',
  '|\n',
  '>\n',
  '? ',
  '%YAML 1.2\n',
  '---\n',
  '...\n',
  'policies:\n',
  '  extends: ',
  'preset:mysql',
  '\t',
  '\u0000',
  '🙂',
);

describe('the loader only ever throws ConfigError', () => {
  it('for random YAML text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(yamlToken, { maxLength: 40 }), async (tokens) => {
        const file = writeTemp('.yaml', tokens.join(''));
        await outcome(() => loadConfig({ config: file, env: { X: 'x' } }));
      }),
      { numRuns: 150 },
    );
  });

  it('for random JSON documents, written as JSON and as YAML', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 5 }), fc.boolean(), async (doc, asYaml) => {
        const text = JSON.stringify(doc) ?? 'null';
        const file = writeTemp(asYaml ? '.yaml' : '.json', text);
        await outcome(() => loadConfig({ config: file, env: {} }));
      }),
      { numRuns: 150 },
    );
  });

  it('for random bytes in a JSON file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const file = writeTemp('.json', text);
        await outcome(() => loadConfig({ config: file, env: {} }));
      }),
      { numRuns: 100 },
    );
  });

  it('for random mutations of a valid configuration', async () => {
    const { config: base } = await readConfigFile({ config: path.join(fixtures, 'full.yaml') });
    const leafValue = fc.oneof(
      fc.anything({ maxDepth: 2 }),
      fc.constantFrom(
        '10s',
        '-5ms',
        '150%',
        'unlimited',
        'preset:nope',
        'preset:redis',
        '${UNSET_VAR}',
        0,
        -1,
        1e308,
        Number.NaN,
      ),
    );
    const mutation = fc.record({
      where: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
      op: fc.constantFrom('set', 'delete', 'addKey', 'toArray'),
      value: leafValue,
      key: fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom('extends', '__proto__', 'intervall', 'constructor'),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const doc = structuredClone(base) as Record<string, unknown>;
        for (const m of mutations) mutate(doc, m);
        await outcome(() => loadConfig({ config: doc as never, env: {} }));
      }),
      { numRuns: 300 },
    );
  });
});

interface Mutation {
  where: number[];
  op: string;
  value: unknown;
  key: string;
}

// Walks down by picking the i-th key at each level, then applies one edit there.
function mutate(doc: Record<string, unknown>, m: Mutation): void {
  let node: Record<string, unknown> = doc;
  for (const step of m.where) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[step % keys.length] as string;
    const child = node[key];
    const last = step === m.where.at(-1);
    if (last || child === null || typeof child !== 'object') {
      if (m.op === 'set') node[key] = m.value;
      else if (m.op === 'delete') delete node[key];
      else if (m.op === 'toArray') node[key] = [child];
      else
        Object.defineProperty(node, m.key, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return;
    }
    node = child as Record<string, unknown>;
  }
}
