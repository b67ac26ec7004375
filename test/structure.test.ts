// The shape of the whole tree, kept true by a test (issues #9, #20): in every package, no import circle between
// its files; between the packages, no circle either; and in core, every arrow points down its floors (the table
// below is docs/architecture.md's), the lifecycle never reaches up into the manager, and a target's parts are
// the only ones that import each other. Reads import statements as text, so type-only imports count too: they
// are arrows in the picture a reader draws.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const rel = (f: string): string => path.relative(root, f).split(path.sep).join('/');

const sourceExt = /\.(?:ts|js|mjs)$/;
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory())
      return ['node_modules', 'dist', 'test', 'fixtures'].includes(e.name) ? [] : sourceFiles(full);
    return sourceExt.test(e.name) && !/\.(?:test|d)\.ts$/.test(e.name) ? [full] : [];
  });
}

/** Each package's (and example's, and the benchmarks') source folder, by the name it is reported under. */
function units(): Map<string, string> {
  const out = new Map<string, string>();
  for (const parent of ['packages', 'examples']) {
    for (const e of readdirSync(path.join(root, parent), { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const src = path.join(root, parent, e.name, 'src');
      out.set(`${parent}/${e.name}`, existsSync(src) ? src : path.join(root, parent, e.name));
    }
  }
  out.set('bench', path.join(root, 'bench'));
  return out;
}

// Every relative import, re-export and dynamic import of a literal path, resolved to the file it names.
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const pattern = /(?:^\s*(?:import|export)\b[^;]*?\bfrom\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/gms;
  for (const m of text.matchAll(pattern)) {
    const target = path.resolve(path.dirname(file), m[1]!);
    const candidates = [
      target,
      target.replace(/\.js$/, '.ts'),
      `${target}.js`,
      path.join(target, 'index.js'),
    ];
    const found = candidates.find((c) => existsSync(c) && sourceExt.test(c));
    if (found !== undefined) out.push(rel(found));
  }
  return out;
}

function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[] {
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
  return cycles;
}

const fileGraphs = new Map(
  [...units()].map(([name, dir]) => [
    name,
    new Map(sourceFiles(dir).map((f) => [rel(f), relativeImports(f)])),
  ]),
);

describe('the import graph of every package', () => {
  it('reads the real files (the test sees the imports it checks)', () => {
    expect([...fileGraphs.keys()]).toEqual(
      expect.arrayContaining([
        'packages/core',
        'packages/driver-redis',
        'packages/driver-mysql',
        'packages/cli',
      ]),
    );
    expect(fileGraphs.get('packages/core')!.get('packages/core/src/lifecycle/target/target.ts')).toContain(
      'packages/core/src/lifecycle/target/node-slots.ts',
    );
    expect(
      fileGraphs.get('packages/driver-redis')!.get('packages/driver-redis/src/driver.ts')!.length,
    ).toBeGreaterThan(2);
  });

  for (const [name, graph] of fileGraphs) {
    it(`${name} has no import circle`, () => {
      expect(cyclesOf(graph)).toEqual([]);
    });
  }

  it('the packages depend on each other without a circle', () => {
    const packages = new Map<string, string[]>();
    for (const dir of readdirSync(path.join(root, 'packages'))) {
      const manifest = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
      packages.set(manifest.name, Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
    }
    const graph = new Map([...packages].map(([n, deps]) => [n, deps.filter((d) => packages.has(d))]));
    expect(graph.get('@reconnect/driver-redis')).toContain('@reconnect/core');
    expect(cyclesOf(graph)).toEqual([]);
  });
});

// Core's floors, top down; an area may import only its own floor's areas or lower ones (and within a floor, the
// circle test above keeps the order). Every source file of core must fall in one area.
const coreFloors: readonly (readonly string[])[] = [
  ['index.ts'],
  ['manager/'],
  ['lifecycle/'],
  ['driver/', 'kit/'],
  ['engine/'],
  ['policy/'],
  ['errors.ts', 'telemetry/'],
  ['error-kinds.ts', 'node-address.ts', 'time/', 'util/', 'version.ts'],
];
const coreSrc = 'packages/core/src/';
const coreGraph = [...fileGraphs.get('packages/core')!].map(
  ([from, to]) => [from.slice(coreSrc.length), to.map((t) => t.slice(coreSrc.length))] as const,
);
function floorOf(file: string): number {
  const floor = coreFloors.findIndex((areas) =>
    areas.some((a) => (a.endsWith('/') ? file.startsWith(a) : file === a)),
  );
  if (floor < 0) throw new Error(`${file} is in no floor of core: add its area to the table`);
  return coreFloors.length - floor;
}
const arrows = (test: (from: string, to: string) => boolean): string[] =>
  coreGraph.flatMap(([from, to]) => to.filter((t) => test(from, t)).map((t) => `${from} → ${t}`));

describe('packages/core/src', () => {
  it('every arrow points down its floors', () => {
    expect(arrows((from, to) => floorOf(to) > floorOf(from))).toEqual([]);
  });

  it('the lifecycle never imports the manager', () => {
    expect(arrows((from, to) => from.startsWith('lifecycle/') && to.startsWith('manager/'))).toEqual([]);
  });

  it("the reconnector, the node pool and the health checker never import a target's parts", () => {
    const parts = ['lifecycle/reconnect/', 'lifecycle/nodes/', 'lifecycle/health/'];
    expect(
      arrows((from, to) => parts.some((p) => from.startsWith(p)) && to.startsWith('lifecycle/target/')),
    ).toEqual([]);
  });

  it('no folder holds more than 20 source files', () => {
    const perFolder = new Map<string, number>();
    for (const [file] of coreGraph)
      perFolder.set(path.posix.dirname(file), (perFolder.get(path.posix.dirname(file)) ?? 0) + 1);
    expect([...perFolder].filter(([, n]) => n > 20)).toEqual([]);
  });

  it('no source file is over 350 lines', () => {
    const long = coreGraph
      .map(([file]) => ({
        file,
        lines: readFileSync(path.join(root, coreSrc, file), 'utf8').split('\n').length,
      }))
      .filter((f) => f.lines > 350);
    expect(long).toEqual([]);
  });
});
