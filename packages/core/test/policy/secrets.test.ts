import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { isConfigError, loadConfig, redactSecrets } from '@reconnect/core';

const FILE_PW = 'file-pw-Zq81x';
const ENV_PW = 'env-pw-Kp27y';
const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-secrets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return file;
}

async function errorText(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isConfigError(e)).toBe(true);
  // Everything a log line could show: message, issues, and a full inspection of the error object.
  return `${String((e as Error).message)}\n${JSON.stringify((e as { issues: unknown }).issues)}\n${inspect(e, { depth: 10 })}`;
}

describe('secrets never appear in configuration errors', () => {
  const env = { DB_PW: ENV_PW };

  it.each([
    [
      'a password in options next to an error elsewhere',
      `
version: 1
targets:
  db:
    driver: mysql
    policy: { retry: { maxRetries: -1 } }
    options: { user: root, password: ${FILE_PW}, uri: "mysql://root:\${DB_PW}@db:3306/app" }
`,
    ],
    [
      'a password where an enum is expected',
      `
version: 1
targets:
  db: { driver: mysql, policy: { retry: { backoff: { type: "${FILE_PW}" } } } }
`,
    ],
    [
      'an env password where an enum is expected',
      `
version: 1
targets:
  db: { driver: mysql, policy: { retry: { backoff: { jitter: "\${DB_PW}" } } } }
`,
    ],
    [
      'an env password where a duration is expected',
      `
version: 1
defaults: { healthCheck: { timeout: "\${DB_PW}" } }
targets:
  db: { driver: mysql }
`,
    ],
    [
      'a password on the line of a YAML syntax error',
      `
version: 1
targets:
  db: { driver: mysql, options: { password: ${FILE_PW} }
    bad: [
`,
    ],
    [
      'a password in a URL on a broken line',
      `
version: 1
targets: { db: { driver: mysql, options: { uri: mysql://root:${FILE_PW}@db/app } } } }
`,
    ],
  ])('%s', async (_name, yaml) => {
    const text = await errorText(loadConfig({ config: write(`c${Math.random()}.yaml`, yaml), env }));
    expect(text).not.toContain(FILE_PW);
    expect(text).not.toContain(ENV_PW);
  });

  // A password that happens to contain `${…}` is met by interpolation before anything else.
  it.each([
    ['an invalid reference under a password key', 'password', 'Zx${9k!Qw7}pp', ['9k!Qw7', 'Zx', 'pp']],
    ['an invalid reference under a non-secret key', 'host', 'Zx${9k!Qw7}pp', ['9k!Qw7']],
    ['a "missing variable" under a password key', 'password', 'Zx${Qw7Hk}pp', ['Qw7Hk']],
  ])('%s never quotes the reference', async (_name, key, value, fragments) => {
    const yaml = `
version: 1
targets:
  db: { driver: mysql, options: { ${key}: '${value}' } }
`;
    const text = await errorText(loadConfig({ config: write(`r${Math.random()}.yaml`, yaml), env }));
    expect(text).toContain(`targets.db.options.${key}`);
    for (const f of fragments) expect(text).not.toContain(f);
  });

  it.each([
    ['a key=value DSN', 'host=db password=hunter2SECRET'],
    ['a quoted key=value pair', "host=db pwd='hunter 2SECRET'"],
    ['a URL password holding @', 'redis://:p@ssw0rdSECRET@h:6379'],
    ['a URL password holding /', 'mysql://u:ab/cdSECRET@h/app'],
    ['a PEM private key', '-----BEGIN EC PRIVATE KEY----- MHcSECRET'],
  ])('%s in the message of a config module that throws', async (_name, leak) => {
    const file = write(
      `m${Math.random()}.mjs`,
      `throw new Error(${JSON.stringify(`cannot connect: ${leak}`)});\n`,
    );
    const text = await errorText(loadConfig({ config: file, env }));
    expect(text).toContain('cannot connect');
    expect(text).not.toContain('SECRET');
  });

  it('a password in a broken JSON file', async () => {
    const file = write(
      'c.json',
      `{"version": 1, "targets": {"db": {"driver": "mysql", "options": {"password": "${FILE_PW}"}}} oops`,
    );
    const text = await errorText(loadConfig({ config: file, env }));
    expect(text).not.toContain(FILE_PW);
  });

  it('redactSecrets hides both kinds in resolved options', async () => {
    const config = await loadConfig({
      config: {
        version: 1,
        targets: {
          db: { driver: 'mysql', options: { password: FILE_PW, uri: 'mysql://root:${DB_PW}@db/app' } },
        },
      },
      env,
    });
    expect(config.targets['db']?.options).toEqual({
      password: FILE_PW,
      uri: `mysql://root:${ENV_PW}@db/app`,
    });
    const shown = JSON.stringify(redactSecrets(config.targets['db']?.options));
    expect(shown).not.toContain(FILE_PW);
    expect(shown).not.toContain(ENV_PW);
    expect(shown).toContain('mysql://root:***@db/app');
  });
});
