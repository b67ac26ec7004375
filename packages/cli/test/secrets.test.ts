import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

const FILE_PW = 'file-secret-Xy91q';
const ENV_PW = 'env-secret-Lm44z';
const env = { DB_PASSWORD: ENV_PW, ES_URL: `http://elastic:${ENV_PW}@127.0.0.1:9200` };
const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-cli-secrets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const valid = `
version: 1
targets:
  main_db:
    driver: mysql
    policy: preset:mysql
    options:
      uri: mysql://root:${FILE_PW}@127.0.0.1:3306/app
      password: \${DB_PASSWORD}
      ssl: { key: ${FILE_PW} }
  search:
    driver: elasticsearch
    options:
      nodes: ["\${ES_URL}", "http://u:${FILE_PW}@127.0.0.1:9201"]
      auth: { username: elastic, password: ${FILE_PW} }
      apiKey: ${FILE_PW}
`;

function expectNoSecret(...texts: string[]): void {
  for (const t of texts) {
    expect(t).not.toContain(FILE_PW);
    expect(t).not.toContain(ENV_PW);
  }
}

describe('secrets never appear in CLI output', () => {
  const file = path.join(tmp, 'reconnect.config.yaml');
  writeFileSync(file, valid);

  it('validate (text and JSON) redacts passwords given in the file and through ${VAR}', async () => {
    const text = await run(['validate', '--config', file], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('mysql://root:***@127.0.0.1:3306/app');
    expect(text.stdout).toContain('http://elastic:***@127.0.0.1:9200');
    const json = await run(['validate', '--config', file, '--json'], { env });
    expectNoSecret(text.stdout, text.stderr, json.stdout, json.stderr);
  });

  it('explain shows no option values', async () => {
    for (const target of ['main_db', 'search']) {
      const text = await run(['explain', target, '--config', file], { env });
      const json = await run(['explain', target, '--config', file, '--json'], { env });
      expect(text.code).toBe(0);
      expectNoSecret(text.stdout, text.stderr, json.stdout, json.stderr);
    }
  });

  it('errors from an invalid file with secrets stay clean', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(
      bad,
      `${valid}    policy: { retry: { backoff: { type: "\${DB_PASSWORD}", jitter: ${FILE_PW} } } }\n`,
    );
    const text = await run(['validate', '--config', bad], { env });
    const json = await run(['validate', '--config', bad, '--json'], { env });
    const explain = await run(['explain', 'search', '--config', bad], { env });
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('targets.search.policy.retry.backoff.type');
    expectNoSecret(text.stdout, text.stderr, json.stdout, json.stderr, explain.stdout, explain.stderr);
  });

  it('validate never quotes the text of a ${…} reference (a password may contain one)', async () => {
    const bad = path.join(tmp, 'ref.yaml');
    writeFileSync(
      bad,
      `version: 1\ntargets:\n  db:\n    driver: mysql\n    description: 'Zx\${9k!Qw7}pp'\n    options: { password: 'Zx\${9k!Qw7}pp' }\n`,
    );
    for (const args of [
      ['validate', '--config', bad],
      ['validate', '--config', bad, '--json'],
    ]) {
      const out = await run(args, { env });
      expect(out.code).toBe(1);
      const shown = (out.stderr + out.stdout).replace(/",\s*"/g, '.');
      expect(shown).toContain('targets.db.options.password');
      expect(shown).toContain('targets.db.description');
      expect(out.stderr + out.stdout).not.toContain('9k!Qw7');
    }
  });
});
