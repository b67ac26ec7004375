// The core's shape, kept true by a test (issue #9): no import circle between its files, no import from engine/ up
// into lifecycle/, and no source file over ~350 lines. Reads the import statements of packages/core/src as text.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

const files = sourceFiles(src);
const rel = (f: string): string => path.relative(src, f).split(path.sep).join('/');

// Every relative import and re-export (type-only ones too: they are arrows in the picture a reader draws).
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)) {
    out.push(rel(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
  }
  return out;
}

const graph = new Map(files.map((f) => [rel(f), importsOf(f)]));

describe('packages/core/src structure', () => {
  it('reads a graph of the real files (the test sees the imports it checks)', () => {
    expect(graph.get('lifecycle/target.ts')).toContain('lifecycle/node-slots.ts');
    expect(graph.get('engine/retry-executor.ts')!.length).toBeGreaterThan(3);
    for (const [from, to] of graph)
      for (const t of to) expect(graph.has(t), `${from} imports ${t}`).toBe(true);
  });

  it('has no import circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (node: string): void => {
      state.set(node, 'visiting');
      stack.push(node);
      for (const next of graph.get(node) ?? []) {
        if (state.get(next) === 'visiting')
          cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(node, 'done');
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node);
    expect(cycles).toEqual([]);
  });

  it('engine/ never imports from lifecycle/ (arrows point down)', () => {
    const up = [...graph].flatMap(([from, to]) =>
      from.startsWith('engine/')
        ? to.filter((t) => t.startsWith('lifecycle/')).map((t) => `${from} → ${t}`)
        : [],
    );
    expect(up).toEqual([]);
  });

  it('no source file is over 350 lines', () => {
    const long = files
      .map((f) => ({ file: rel(f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > 350);
    expect(long).toEqual([]);
  });
});
