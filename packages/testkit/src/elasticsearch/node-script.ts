import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

let transpiled: Promise<string> | undefined;

const file = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const mtime = (path: string): number => (existsSync(path) ? statSync(path).mtimeMs : 0);

/**
 * The path of the node process's script. From the build it is `dist/elasticsearch/node-main.js`
 * beside this module. From source (Vitest, through the `@reconnect/source` condition) only
 * `node-main.ts` is beside it, and Node 20 cannot run TypeScript: the package's own build is used when
 * it is newer than the source (after `tsc -b`, as `npm test` runs it), else the file is transpiled once
 * per process with the repository's `typescript` and written into `dir` (the cluster's temp directory).
 */
export async function nodeScriptPath(dir: string): Promise<string> {
  const compiled = file('./node-main.js');
  if (existsSync(compiled)) return compiled;
  const source = file('./node-main.ts');
  const built = file('../../dist/elasticsearch/node-main.js');
  if (mtime(built) > Math.max(mtime(source), mtime(file('./wire.ts')))) return built;
  transpiled ??= transpile(source).catch((error: unknown) => {
    transpiled = undefined;
    throw error;
  });
  const target = join(dir, 'node-main.mjs');
  writeFileSync(target, await transpiled);
  return target;
}

async function transpile(path: string): Promise<string> {
  const ts = (await import('typescript')).default;
  const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), {
    fileName: path,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      sourceMap: false,
    },
  });
  return outputText;
}
