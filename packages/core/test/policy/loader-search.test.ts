// The config search walks up from the working directory to the project root (the nearest directory with a
// package.json), as cosmiconfig's `project` search does; an explicit path still skips it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isConfigError, loadConfig } from '../../src/index.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-search-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const yaml = (target: string) => `version: 1\ntargets: { ${target}: { driver: redis } }\n`;

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmp, 'project-'));
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

describe('loadConfig: the search walks up to the project root', () => {
  it('finds the file in the project root from a subdirectory', async () => {
    const root = tree({
      'package.json': '{"name":"app"}',
      'reconnect.config.yaml': yaml('root'),
      'src/jobs/.keep': '',
    });
    const found = await loadConfig({ cwd: path.join(root, 'src', 'jobs'), env: {} });
    expect(found.file).toBe(path.join(root, 'reconnect.config.yaml'));
    expect(Object.keys(found.targets)).toEqual(['root']);
  });

  it('takes the nearest file on the way up', async () => {
    const root = tree({
      'package.json': '{"name":"app"}',
      'reconnect.config.yaml': yaml('root'),
      'services/api/.reconnectrc.json': '{"version":1,"targets":{"api":{"driver":"redis"}}}',
      'services/api/src/.keep': '',
    });
    const found = await loadConfig({ cwd: path.join(root, 'services', 'api', 'src'), env: {} });
    expect(Object.keys(found.targets)).toEqual(['api']);
  });

  it('stops at the project root: a file above the nearest package.json is not found', async () => {
    const root = tree({
      'reconnect.config.yaml': yaml('outside'),
      'app/package.json': '{"name":"app"}',
      'app/src/.keep': '',
    });
    const error = await loadConfig({ cwd: path.join(root, 'app', 'src'), env: {} }).catch((e: unknown) => e);
    expect(isConfigError(error) && error.issues[0]?.kind).toBe('config_not_found');
  });

  it('finds the "reconnect" key of the project root\'s package.json', async () => {
    const root = tree({
      'package.json': JSON.stringify({
        name: 'app',
        reconnect: { version: 1, targets: { pkg: { driver: 'redis' } } },
      }),
      'lib/.keep': '',
    });
    const found = await loadConfig({ cwd: path.join(root, 'lib'), env: {} });
    expect(found.file).toBe(path.join(root, 'package.json'));
  });
});
