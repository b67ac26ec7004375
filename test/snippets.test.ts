// Every TypeScript snippet of every README and doc compiles under the project's strict settings, and every
// JavaScript one parses (issue #22: the README's own "Use it" did not compile). scripts/check-snippets.mjs finds them
// (a new Markdown file or snippet is checked without anyone listing it); these tests run it, and check that it
// catches what it is for.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script, no declaration file
import { checkSnippets, markdownFiles } from '../scripts/check-snippets.mjs';

interface Problem {
  file: string;
  line: number;
  lang: string;
  message: string;
}
interface Checked {
  snippets: { file: string; lang: string }[];
  problems: Problem[];
}
const check = checkSnippets as (o?: { documents?: { file: string; text: string }[] }) => Checked;
const find = markdownFiles as (root?: string) => string[];

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-snippets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fence = (lang: string, code: string): string => `\`\`\`${lang}\n${code}\n\`\`\``;

describe('the snippets of every README and doc', () => {
  it('compile (TypeScript, strict) and parse (JavaScript)', () => {
    const { snippets, problems } = check();
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([]);
    const files = new Set(snippets.map((s) => s.file));
    for (const f of [
      'README.md',
      'packages/core/README.md',
      'packages/driver-redis/README.md',
      'docs/policy.md',
    ])
      expect(files).toContain(f);
    expect(snippets.filter((s) => s.lang === 'ts').length).toBeGreaterThanOrEqual(20);
    expect(snippets.some((s) => s.lang === 'js')).toBe(true);
  }, 180_000);
});

describe('the snippet check catches what it is for', () => {
  const doc = (body: string): { file: string; text: string }[] => [{ file: 'README.md', text: body }];

  it("the README's old quick start: r.error is unknown under strict, located at its Markdown line", () => {
    const text = [
      '# x',
      '',
      fence(
        'ts',
        [
          "import { createManager } from '@reconnect/core';",
          'const manager = await createManager();',
          'const started = await manager.startAll();',
          'for (const [name, r] of Object.entries(started))',
          '  if (!r.ok) console.error(`${name} is down: ${r.error.message}`);',
        ].join('\n'),
      ),
    ].join('\n');
    const { problems } = check({ documents: doc(text) });
    expect(problems).toEqual([
      { file: 'README.md', line: 8, lang: 'ts', message: "'r.error' is of type 'unknown'." },
    ]);
  }, 120_000);

  it('a client without its type argument is unknown; a declaration comment supplies what a snippet leaves out', () => {
    const text = [
      '<!-- snippet',
      "import type { Target } from '@reconnect/core';",
      'declare const db: Target;',
      '-->',
      '',
      fence('ts', "await db.execute((pool) => pool.query('SELECT 1'));"),
      '',
      '<!-- snippet',
      "import type { Target } from '@reconnect/core';",
      "import type { MySqlPool } from '@reconnect/driver-mysql';",
      'declare const db: Target<MySqlPool>;',
      '-->',
      fence('ts', "await db.execute((pool) => pool.query('SELECT 1'));"),
    ].join('\n');
    const { problems } = check({ documents: doc(text) });
    expect(problems.map((p) => [p.line, p.message])).toEqual([[7, "'pool' is of type 'unknown'."]]);
  }, 120_000);

  it('a JavaScript snippet that does not parse, and an API listing the package does not match', () => {
    const text = [
      fence('js', 'const x = ;'),
      '',
      '<!-- snippet api=@reconnect/core -->',
      fence(
        'ts',
        'declare function delayBounds(backoff: string, retry: number): { min: number; max: number };',
      ),
    ].join('\n');
    const { problems } = check({ documents: doc(text) });
    expect(problems.map((p) => [p.line, p.lang])).toEqual([
      [2, 'js'],
      [7, 'ts'],
    ]);
    expect(problems[0]?.message).toBe('Expression expected.');
    expect(problems[1]?.message).toContain('is not assignable to type');
  }, 120_000);

  it('finds Markdown files nobody listed, outside node_modules, dist and hidden folders', () => {
    for (const dir of ['a/b', 'node_modules/x', 'dist', '.stryker-tmp/sandbox'])
      mkdirSync(path.join(tmp, dir), { recursive: true });
    for (const file of [
      'README.md',
      'a/b/new.md',
      'node_modules/x/README.md',
      'dist/README.md',
      '.stryker-tmp/sandbox/README.md',
    ])
      writeFileSync(path.join(tmp, file), '# x\n');
    expect(find(tmp)).toEqual(['README.md', 'a/b/new.md']);
  });
});
