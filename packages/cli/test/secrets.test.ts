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

// The fixtures' options are shapes for the redaction to hide, not options a real driver accepts (the
// MySQL driver refuses a uri next to a password): validate skips the drivers' own option checks.
const skipDrivers = ['--skip-drivers'];

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
    const text = await run(['validate', '--config', file, ...skipDrivers], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('mysql://root:***@127.0.0.1:3306/app');
    expect(text.stdout).toContain('http://elastic:***@127.0.0.1:9200');
    const json = await run(['validate', '--config', file, '--json', ...skipDrivers], { env });
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

  it('validate hides key=value DSNs, URL passwords with @ or /, and private keys (text and JSON)', async () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\\nMIIEpPEMSECRET\\n-----END RSA PRIVATE KEY-----';
    const shapes = path.join(tmp, 'shapes.yaml');
    writeFileSync(
      shapes,
      `version: 1
targets:
  db:
    driver: mysql
    options:
      connectionString: "host=db password=hunter2SECRET user=app"
      ado: "Server=db;Password='a b SECRET';"
      redis: "redis://:p@ssw0rdSECRET@h:6379"
      mysql: "mysql://u:ab%2FcdSECRET@h/app"
      note: "${pem}"
      tls: { key: keySECRET, clientKey: clientSECRET, ca: visible-ca }
      signingKey: signSECRET
      privateKey: privSECRET
      keyPrefix: "app:"
`,
    );
    const text = await run(['validate', '--config', shapes, ...skipDrivers], { env });
    const json = await run(['validate', '--config', shapes, '--json', ...skipDrivers], { env });
    expect(text.code).toBe(0);
    expect(json.code).toBe(0);
    for (const out of [text.stdout, json.stdout]) {
      expect(out).not.toContain('SECRET');
      expect(out).toContain('host=db password=***');
      expect(out).toContain('redis://:***@h:6379');
      expect(out).toContain('mysql://u:***@h/app');
      expect(out).toContain('visible-ca');
      expect(out).toContain('app:');
    }
  });

  it('validate refuses a URL whose password holds an unencoded / (part of it would become the host), without quoting it', async () => {
    const file = path.join(tmp, 'slash.yaml');
    writeFileSync(
      file,
      'version: 1\ntargets:\n  db:\n    driver: mysql\n    options: { uri: "mysql://u:ab/cdSECRET@h/app" }\n',
    );
    for (const args of [
      ['validate', '--config', file],
      ['validate', '--config', file, '--json'],
    ]) {
      const out = await run(args, { env });
      expect(out.code).toBe(1);
      expect(out.stdout + out.stderr).toContain('url_credentials');
      expect(out.stdout + out.stderr).not.toContain('SECRET');
      expect(out.stdout + out.stderr).not.toContain('cdSECRET');
    }
  });
});
