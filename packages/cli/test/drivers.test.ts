import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { suggestDriver } from '../src/index.js';
import { run } from './helpers.js';

// A new user's typo: `driver: reddis`. It must fail where a CI step validates the file (not at the
// service's start-up), point at the line, suggest the real driver, and never tell anyone to install a
// package one letter off a real one.

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-drivers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function config(name: string, targets: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `version: 1\ntargets:\n${targets}`);
  return file;
}

/** Every `npm install X` in a text names a built-in driver's own package, or there is none. */
function installAdvice(text: string): string[] {
  return [...text.matchAll(/npm install (\S+)/g)].map((m) => m[1]!);
}

describe('validate and check: a driver that cannot be resolved', () => {
  const typo = config(
    'typo.yaml',
    '  cache: { driver: reddis, options: { url: "redis://127.0.0.1:6379" } }\n',
  );

  it.each([['validate'], ['check']])(
    '%s: exit 1 at targets.cache.driver, did you mean `redis`?',
    async (command) => {
      const r = await run([command, '--config', typo]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'typo.yaml: targets.cache.driver: Unknown driver "reddis" — did you mean `redis`?',
      );
      expect(r.stderr).toContain('[unknown_driver]');
      expect(installAdvice(r.stdout + r.stderr)).toEqual([]);
      expect(r.stdout).not.toContain('is valid');
    },
  );

  it('--json gives the issue as data', async () => {
    const r = await run(['validate', '--config', typo, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      valid: boolean;
      issues: { path: string[]; kind: string; message: string }[];
    };
    expect(doc.valid).toBe(false);
    expect(doc.issues).toHaveLength(1);
    expect(doc.issues[0]!.path).toEqual(['targets', 'cache', 'driver']);
    expect(doc.issues[0]!.kind).toBe('unknown_driver');
  });

  it.each([
    ['elasticsearh', 'elasticsearch'],
    ['msql', 'mysql'],
    ['MySQL', 'mysql'],
    ['@reconnect/driver-redsi', '@reconnect/driver-redis'],
  ])('%s → did you mean `%s`?', async (typed, meant) => {
    const file = config(`near-${typed.replace(/\W/g, '_')}.yaml`, `  t: { driver: '${typed}' }\n`);
    const r = await run(['validate', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`targets.t.driver: Unknown driver "${typed}" — did you mean \`${meant}\`?`);
    expect(installAdvice(r.stderr)).toEqual([]);
  });

  it('a name close to nothing known gets no suggestion and no install advice', async () => {
    const file = config(
      'far.yaml',
      '  t: { driver: frobnicator-plugin }\n  u: { driver: ./no-such-file.mjs }\n',
    );
    const r = await run(['validate', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'targets.t.driver: Unknown driver "frobnicator-plugin": not a built-in driver',
    );
    expect(r.stderr).toContain('targets.u.driver: Unknown driver "./no-such-file.mjs"');
    expect(r.stderr).not.toContain('did you mean');
    expect(installAdvice(r.stderr)).toEqual([]);
  });

  it('suggests an installed third-party driver package by its name', () => {
    const app = path.join(tmp, 'app');
    const pkg = path.join(app, 'node_modules', 'reconnect-driver-cassandra');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      path.join(pkg, 'package.json'),
      '{"name":"reconnect-driver-cassandra","type":"module","main":"index.js"}',
    );
    expect(suggestDriver('reconnect-driver-casandra', app)).toBe('reconnect-driver-cassandra');
    expect(suggestDriver('reconnect-driver-casandra', tmp)).toBeUndefined();
  });

  it('--skip-drivers passes the file and says that drivers were not checked', async () => {
    const r = await run(['validate', '--config', typo, '--skip-drivers']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('typo.yaml is valid: 1 target');
    expect(r.stdout).toContain(
      "(--skip-drivers: drivers not loaded; each target's driver name and options were not checked)",
    );
    const json = JSON.parse(
      (await run(['validate', '--config', typo, '--skip-drivers', '--json'])).stdout,
    ) as {
      driversChecked: boolean;
      warnings: string[];
    };
    expect(json.driversChecked).toBe(false);
    expect(json.warnings.join(' ')).toContain('--skip-drivers');
  });

  it('a valid file with built-in drivers still passes, and says nothing about skipping', async () => {
    const file = config(
      'ok.yaml',
      '  cache: { driver: redis, options: { url: "redis://127.0.0.1:6379" } }\n',
    );
    const r = await run(['validate', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('--skip-drivers');
    expect(r.stderr).toBe('');
  });
});
