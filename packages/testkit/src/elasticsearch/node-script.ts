import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

let transpiled: Promise<string> | undefined;

/**
 * The path of the node process's script. From the build it is `dist/elasticsearch/node-main.js`
 * beside this module. From source (Vitest, through the `@reconnect/source` condition) only
 * `node-main.ts` exists and Node 20 cannot run TypeScript, so the file is transpiled once per process
 * with the repository's `typescript` and written into `dir` (the cluster's temp directory).
 */
export async function nodeScriptPath(dir: string): Promise<string> {
  const compiled = fileURLToPath(new URL('./node-main.js', import.meta.url));
  if (existsSync(compiled)) return compiled;
  const source = fileURLToPath(new URL('./node-main.ts', import.meta.url));
  transpiled ??= transpile(source).catch((error: unknown) => {
    transpiled = undefined;
    throw error;
  });
  const target = join(dir, 'node-main.mjs');
  writeFileSync(target, await transpiled);
  return target;
}

async function transpile(file: string): Promise<string> {
  const ts = (await import('typescript')).default;
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      sourceMap: false,
    },
  });
  return outputText;
}
