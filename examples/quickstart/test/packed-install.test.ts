import { execFile, type ExecFileException } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A project outside the monorepo, as a user would make one before the packages are published:
// `npm pack` every publishable package (from the build `npm test` runs first), install the tarballs
// into a scratch project in the system temp dir (offline from the npm cache the workspace install
// filled), and run the README's quick start there against the shared Redis. Nothing in the scratch
// project can reach the workspace: no parent directory has a package.json or node_modules.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const quickstart = path.join(root, 'examples', 'quickstart');

/** Every package users may install, by workspace directory. */
const publishable = [
  'packages/core',
  'packages/policies',
  'packages/driver-redis',
  'packages/driver-mysql',
  'packages/driver-elasticsearch',
  'packages/cli',
  'packages/testkit',
  'examples/driver-postgres',
];
/** What the scratch project installs: all but the testkit, whose Vitest peer would double the install. */
const installed = publishable.filter((dir) => dir !== 'packages/testkit');

interface PackedPackage {
  name: string;
  filename: string;
  files: { path: string }[];
}
type ExportTarget = string | { [condition: string]: ExportTarget };
interface Manifest {
  name: string;
  private?: boolean;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports: Record<string, ExportTarget>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as Manifest;

let scratch: string;
let packed: Map<string, PackedPackage>;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after `timeout` ms), never rejecting: the exit code is data. */
function run(file: string, args: string[], options: { cwd: string; timeout: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { ...options, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? exitCode(error) : 0, stdout, stderr }),
    );
  });
}

function exitCode(error: ExecFileException): number {
  return typeof error.code === 'number' ? error.code : 1;
}

/**
 * The environment without what an outer `npm test` exports (`npm_config_local_prefix`,
 * `npm_package_*`…), which would point the inner npm at the workspace.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if ((key.toLowerCase().startsWith('npm_') && !keep.has(key.toLowerCase())) || key === 'INIT_CWD')
      continue;
    env[key] = value;
  }
  return env;
}

const npm = (args: string[], cwd: string, timeout: number): Promise<Run> =>
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, timeout });

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'reconnect-packed-'));
  const tarballs = path.join(scratch, 'tarballs');
  mkdirSync(tarballs);
  const pack = await npm(
    [
      'pack',
      ...publishable.flatMap((dir) => ['-w', dir]),
      '--pack-destination',
      tarballs,
      '--ignore-scripts',
      '--json',
    ],
    root,
    60_000,
  );
  expect(pack.code, pack.stderr).toBe(0);
  packed = new Map((JSON.parse(pack.stdout) as PackedPackage[]).map((p) => [p.name, p]));

  const project = path.join(scratch, 'app');
  mkdirSync(project);
  const dependencies: Record<string, string> = { '@opentelemetry/api': '~1.9.0' };
  for (const dir of installed) {
    const { name } = manifest(dir);
    dependencies[name] = `file:${path.join(tarballs, packed.get(name)!.filename)}`;
  }
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'scratch-app', private: true, type: 'module', dependencies }, null, 2),
  );
  const install = await npm(
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
    project,
    90_000,
  );
  expect(install.code, install.stderr).toBe(0);
  for (const file of ['app.js', 'reconnect.config.yaml']) {
    copyFileSync(path.join(quickstart, file), path.join(project, file));
  }
}, 180_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

const project = (): string => path.join(scratch, 'app');

describe('the packed tarballs', () => {
  it('hold every file their main, types, exports and bin name, and no tests', () => {
    for (const dir of publishable) {
      const pkg = manifest(dir);
      expect(pkg.private, pkg.name).toBeUndefined();
      const tarball = packed.get(pkg.name);
      expect(tarball, `${pkg.name} was packed`).toBeDefined();
      const files = new Set(tarball!.files.map((f) => f.path));
      expect(
        [...files].some((f) => f.startsWith('dist/')),
        `${pkg.name} ships dist`,
      ).toBe(true);
      expect(
        [...files].filter((f) => /\.test\.[jt]s$/.test(f)),
        pkg.name,
      ).toEqual([]);
      const named = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})];
      for (const [subpath, target] of Object.entries(pkg.exports)) {
        if (typeof target === 'string') {
          named.push(target);
          continue;
        }
        // The repository's own source condition comes first (the workspace's tests resolve through
        // it); every condition a consumer's tooling may pick points at built files.
        expect(Object.keys(target)[0], `${pkg.name} ${subpath}`).toBe('@reconnect/source');
        for (const [condition, file] of Object.entries(target)) {
          if (condition === '@reconnect/source') continue;
          expect(file, `${pkg.name} ${subpath} ${condition}`).toMatch(/^\.\/dist\//);
          named.push(file as string);
        }
      }
      for (const file of named) {
        expect(files.has(path.posix.normalize(file!)), `${pkg.name} ships ${file}`).toBe(true);
      }
    }
  });

  it('depend on each other by ranges the other tarballs satisfy, and on @opentelemetry/api as a peer', () => {
    for (const dir of publishable) {
      const pkg = manifest(dir);
      for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
        if (name.startsWith('@reconnect/')) expect(range, `${pkg.name} → ${name}`).toMatch(/^\^0\.1\.\d+$/);
        expect(name, `${pkg.name}: the OpenTelemetry API is a peer, never a dependency`).not.toBe(
          '@opentelemetry/api',
        );
      }
    }
    expect(manifest('packages/core').peerDependencies?.['@opentelemetry/api']).toBe('^1.9.0');
  });
});

describe.concurrent('a project outside the workspace that installed the tarballs', () => {
  it("resolves every package's exports to built JavaScript and one copy of @opentelemetry/api", async () => {
    const names = installed.map((dir) => manifest(dir).name);
    const script = `
      import { createRequire } from 'node:module';
      const out = {};
      for (const name of ${JSON.stringify(names)}) {
        const module = await import(name);
        out[name] = { url: import.meta.resolve(name), exports: Object.keys(module).length };
      }
      const schema = await import('@reconnect/cli/schema.json', { with: { type: 'json' } });
      out.schemaKeys = Object.keys(schema.default.properties);
      // The API copy core loads at run time, and the one the application imports: the same file.
      out.apiFromCore = createRequire(import.meta.resolve('@reconnect/core')).resolve('@opentelemetry/api');
      out.apiFromApp = createRequire(import.meta.url).resolve('@opentelemetry/api');
      console.log(JSON.stringify(out));
    `;
    writeFileSync(path.join(project(), 'resolve.mjs'), script);
    const r = await run(process.execPath, ['resolve.mjs'], { cwd: project(), timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { url: string; exports: number }> & {
      schemaKeys: string[];
      apiFromCore: string;
      apiFromApp: string;
    };
    for (const name of names) {
      expect(out[name]!.url, name).toBe(`file://${project()}/node_modules/${name}/dist/index.js`);
    }
    expect(out['@reconnect/core']!.exports).toBeGreaterThan(50);
    expect(out.schemaKeys).toEqual(expect.arrayContaining(['version', 'defaults', 'policies', 'targets']));
    expect(out.apiFromCore).toBe(out.apiFromApp);
    expect(
      out.apiFromApp.startsWith(path.join(project(), 'node_modules', '@opentelemetry', 'api') + path.sep),
    ).toBe(true);
    expect(findAll(path.join(project(), 'node_modules'), path.join('@opentelemetry', 'api'))).toHaveLength(1);
  });

  it("type-checks a TypeScript consumer against the packages' declarations", async () => {
    writeFileSync(
      path.join(project(), 'consumer.ts'),
      [
        "import { createManager, isReconnectError, type Manager } from '@reconnect/core';",
        "import { presetNames } from '@reconnect/policies';",
        "import type { RedisClient } from '@reconnect/driver-redis';",
        "import { main } from '@reconnect/cli';",
        'export const manager: Promise<Manager> = createManager();',
        'export const names: readonly string[] = presetNames;',
        'export type Client = RedisClient;',
        'export const run: (argv: readonly string[]) => Promise<number> = main;',
        'export const guard: (e: unknown) => boolean = isReconnectError;',
        // Fails as an unused directive if the declarations did not load (everything would be `any`).
        '// @ts-expect-error: createManager takes an options object',
        'void createManager(42);',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(project(), 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(root, 'node_modules', '@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', '.'], { cwd: project(), timeout: 30_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it("runs the README's quick start against the shared Redis and exits by itself", async () => {
    const r = await run(process.execPath, ['app.js'], { cwd: project(), timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/GET reconnect:quickstart:\d+ → hello/);
    expect(r.stdout).toContain('INCR → 1');
    expect(r.stdout).toContain('/readyz → 200 "ok"');
    expect(r.stdout.trimEnd().endsWith('stopped')).toBe(true);
  });

  it('has the reconnect command, and the schema where docs/policy.md points editors', async () => {
    const bin = path.join(project(), 'node_modules', '.bin', 'reconnect');
    const validate = await run(bin, ['validate'], { cwd: project(), timeout: 20_000 });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('✓ reconnect.config.yaml is valid: 1 target');

    // docs/policy.md's editor line, taken relative to a config file at the project's root.
    const docs = readFileSync(path.join(root, 'docs', 'policy.md'), 'utf8');
    const documented = /yaml-language-server: \$schema=(\S*node_modules\S*)/.exec(docs)?.[1];
    expect(documented).toBeDefined();
    const shipped = path.join(project(), documented!);
    expect(existsSync(shipped), shipped).toBe(true);
    const printed = await run(bin, ['schema'], { cwd: project(), timeout: 20_000 });
    expect(printed.code).toBe(0);
    expect(readFileSync(shipped, 'utf8')).toBe(printed.stdout);
  });
});

/** Every directory under `dir` (recursively, through nested node_modules) ending in `suffix`. */
function findAll(dir: string, suffix: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = path.join(d, entry.name);
      if (full.endsWith(path.sep + suffix)) found.push(full);
      else walk(full);
    }
  };
  walk(dir);
  return found;
}
