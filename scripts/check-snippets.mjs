#!/usr/bin/env node
// Every TypeScript snippet in every Markdown file of the repository, compiled under the project's strict settings
// (tsconfig.check.json: strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, …, the packages' sources
// through the `@reconnect/source` condition), and every JavaScript snippet parsed. A snippet is a fenced block
// tagged ts / typescript / mts (compiled) or js / javascript / mjs / cjs (parsed); a new one is checked as soon as it
// is written. `node scripts/check-snippets.mjs` prints each problem at its Markdown line and exits 1; the test
// test/snippets.test.ts runs the same check on every `npm test`.
//
// What a snippet leaves out to stay short (a driver built elsewhere, a request in scope) is declared in an HTML
// comment right above its fence, which renders as nothing and is compiled with it:
//
//   <!-- snippet
//   declare const request: Request;
//   -->
//
// `<!-- snippet at=examples/driver-postgres/test` (a path from the repository root) compiles the snippet as if it
// were a file in that directory, for one that imports relative to where it would live. `<!-- snippet
// api=@reconnect/core` is for an API listing written as `declare class` / `declare function`: each one declared must
// be that package's export of the same name, and the real one must fit the listing (so the listing cannot claim a
// member, a parameter or a type the package does not have). Each snippet is its own module: names do not leak
// between snippets.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const compiled = new Set(['ts', 'typescript', 'mts']);
const parsed = new Set(['js', 'javascript', 'mjs', 'cjs']);
const fence = /^(\s*)```\s*([A-Za-z]*)\s*$/;
const directive = /^\s*<!--\s*snippet\b(.*)$/;

/**
 * @typedef {{ file: string, line: number, lang: string, code: string, context: string, contextLine: number, at: string | undefined, api: string | undefined }} Snippet
 * @typedef {{ file: string, line: number, lang: string, message: string }} Problem
 */

// Never the project's own text: dependencies, build output, and hidden folders (tool sandboxes such as Stryker's
// copies of the tree, scratch space).
const foreign = (file) =>
  file.split('/').some((part) => part.startsWith('.') || part === 'node_modules' || part === 'dist');

/** Markdown files of the repository: tracked and new ones, not ignored ones, not in hidden folders. */
export function markdownFiles(root = repoRoot) {
  try {
    const out = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    return out
      .split('\0')
      .filter((f) => f !== '' && !foreign(f))
      .sort();
  } catch {
    // Not a git checkout: walk the tree, skipping what git would ignore here.
    const skip = new Set(['demo-report', 'coverage']);
    const found = [];
    const walk = (dir) => {
      for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
        if (entry.isDirectory() && !skip.has(entry.name) && !foreign(rel)) walk(rel);
        else if (entry.isFile() && entry.name.endsWith('.md')) found.push(rel);
      }
    };
    walk('');
    return found.sort();
  }
}

/** The code snippets of one Markdown text, with what their directive comment declares. */
export function extractSnippets(file, text) {
  /** @type {Snippet[]} */
  const snippets = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i] ?? '');
    if (open === null) continue;
    const indent = open[1] ?? '';
    const lang = (open[2] ?? '').toLowerCase();
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end] ?? '')) end++;
    const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
    if (compiled.has(lang) || parsed.has(lang)) {
      const { context, contextLine, at, api } = directiveAbove(lines, i);
      snippets.push({ file, line: i + 2, lang, code: body.join('\n'), context, contextLine, at, api });
    }
    i = end;
  }
  return snippets;
}

// The `<!-- snippet … -->` comment ending on the line right above the fence (blank lines between are allowed).
function directiveAbove(lines, fenceIndex) {
  let j = fenceIndex - 1;
  while (j >= 0 && (lines[j] ?? '').trim() === '') j--;
  const none = { context: '', contextLine: 0, at: undefined, api: undefined };
  if (j < 0 || !(lines[j] ?? '').trim().endsWith('-->')) return none;
  let start = j;
  while (start >= 0 && !(lines[start] ?? '').includes('<!--')) start--;
  const head = directive.exec(lines[start] ?? '');
  if (start < 0 || head === null) return none;
  const attributes = (head[1] ?? '').replace(/-->\s*$/, '');
  const at = /\bat=(\S+)/.exec(attributes)?.[1];
  const api = /\bapi=(\S+)/.exec(attributes)?.[1];
  const body = start === j ? [] : lines.slice(start + 1, j + 1);
  if (body.length > 0) body[body.length - 1] = (body[body.length - 1] ?? '').replace(/-->\s*$/, '');
  return { context: body.join('\n'), contextLine: start + 2, at, api };
}

/**
 * For an API listing: the package's real export of each declared name must be assignable to the declaration. The
 * lines to append, each with the snippet line (0-based) of the declaration it checks, where its problems are shown.
 */
function apiCheck(snippet) {
  if (snippet.api === undefined) return [];
  const checks = [{ text: `import * as __api from '${snippet.api}';`, line: 0 }];
  const seen = new Set();
  snippet.code.split('\n').forEach((l, line) => {
    const name = /^declare (?:abstract )?(?:class|function) (\w+)/.exec(l)?.[1];
    if (name === undefined || seen.has(name)) return;
    seen.add(name);
    checks.push({ text: `export const __fits_${name}: typeof ${name} = __api.${name};`, line });
  });
  return checks;
}

function compilerOptions(root) {
  const configFile = path.join(root, 'tsconfig.check.json');
  const read = ts.readConfigFile(configFile, ts.sys.readFile);
  const parsedConfig = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configFile);
  return {
    ...parsedConfig.options,
    noEmit: true,
    // A snippet shows a call and may not use what it gets back.
    noUnusedLocals: false,
    noUnusedParameters: false,
    allowJs: true,
    checkJs: false,
  };
}

/**
 * Compiles every TypeScript snippet and parses every JavaScript one of `documents` (default: every Markdown file of
 * the repository). Returns how many snippets there were and every problem, located in the Markdown file.
 * @param {{ root?: string, documents?: { file: string, text: string }[] }} [o]
 * @returns {{ snippets: Snippet[], problems: Problem[] }}
 */
export function checkSnippets(o = {}) {
  const root = o.root ?? repoRoot;
  const documents =
    o.documents ??
    markdownFiles(root).map((file) => ({ file, text: readFileSync(path.join(root, file), 'utf8') }));
  const snippets = documents.flatMap((d) => extractSnippets(d.file, d.text));
  /** @type {Map<string, { snippet: Snippet, text: string, offset: number, appendedAt: number, checks: { text: string, line: number }[] }>} */
  const virtual = new Map();
  for (const s of snippets) {
    const dir = path.resolve(root, s.at ?? path.dirname(s.file));
    const ext = compiled.has(s.lang) ? '.ts' : s.lang === 'cjs' ? '.cjs' : '.mjs';
    const name = `__snippet_${path.basename(s.file, '.md').replace(/\W/g, '_')}_${s.line}${ext}`;
    const context = s.context === '' ? '' : `${s.context}\n`;
    const offset = context === '' ? 0 : context.split('\n').length - 1;
    // `export {}` makes every snippet a module, so two snippets may both declare `manager`.
    const body = `${context}${s.code}\n${ext === '.cjs' ? '' : 'export {};\n'}`;
    const checks = apiCheck(s);
    const text = body + checks.map((c) => `${c.text}\n`).join('');
    const appendedAt = body.split('\n').length - 1;
    virtual.set(path.join(dir, name), { snippet: s, text, offset, appendedAt, checks });
  }

  const options = compilerOptions(root);
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f)?.text ?? readFile.call(host, f);
  host.getSourceFile = (f, languageVersion, onError, shouldCreate) => {
    const v = virtual.get(f);
    return v === undefined
      ? getSourceFile.call(host, f, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(f, v.text, languageVersion, true);
  };
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });

  /** @type {Problem[]} */
  const problems = [];
  for (const [name, v] of virtual) {
    const sf = program.getSourceFile(name);
    if (sf === undefined) continue;
    const diagnostics = compiled.has(v.snippet.lang)
      ? ts.getPreEmitDiagnostics(program, sf)
      : program.getSyntacticDiagnostics(sf);
    for (const d of diagnostics) {
      let at =
        d.file !== undefined && d.start !== undefined
          ? d.file.getLineAndCharacterOfPosition(d.start).line
          : 0;
      // A problem of an appended API check is shown at the declaration it checks.
      if (at >= v.appendedAt) at = v.offset + (v.checks[at - v.appendedAt]?.line ?? 0);
      const inContext = at < v.offset;
      problems.push({
        file: v.snippet.file,
        line: inContext ? v.snippet.contextLine + at : v.snippet.line + at - v.offset,
        lang: v.snippet.lang,
        message: `${inContext ? '(in its <!-- snippet --> declarations) ' : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      });
    }
  }
  return { snippets, problems };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { snippets, problems } = checkSnippets();
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
  const ts_ = snippets.filter((s) => compiled.has(s.lang)).length;
  console.log(
    `${problems.length === 0 ? '✓' : '✗'} ${ts_} TypeScript snippets compiled, ${snippets.length - ts_} JavaScript snippets parsed` +
      (problems.length === 0 ? '' : `: ${problems.length} problem${problems.length === 1 ? '' : 's'}`),
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
