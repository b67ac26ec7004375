import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatConfigPath, isConfigError, loadConfig } from '@reconnect/core';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'invalid');
const fixtures = readdirSync(dir)
  .filter((f) => !f.endsWith('.expect'))
  .sort();

// Each fixture states what it must produce: `# expect: <path> <kind>` lines in the file itself,
// or in `<file>.expect` beside it (JSON has no comments; an empty file has no room for them).
function expectations(file: string): string[] {
  const sidecar = `${file}.expect`;
  const text = readdirSync(dir).includes(path.basename(sidecar))
    ? readFileSync(sidecar, 'utf8')
    : readFileSync(file, 'utf8');
  return [...text.matchAll(/^# expect: (.+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
}

describe('invalid policy files', () => {
  it('there are at least 30 of them, each with expectations', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
    for (const f of fixtures) expect(expectations(path.join(dir, f)), f).not.toHaveLength(0);
  });

  it.each(fixtures)('%s reports exactly the expected paths and kinds', async (name) => {
    const file = path.join(dir, name);
    const error = await loadConfig({ config: file, env: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConfigError(error), `${name} should throw a ConfigError`).toBe(true);
    if (!isConfigError(error)) return;
    const got = error.issues.map((i) => `${formatConfigPath(i.path)} ${i.kind}`).sort();
    expect(got).toEqual(expectations(file));
    for (const issue of error.issues) {
      expect(issue.file).toBe(file);
      expect(issue.message.length).toBeGreaterThan(0);
    }
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).toContain(file);
  });
});
