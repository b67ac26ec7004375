import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPluginError } from '../../src/errors.js';
import { builtinDrivers, resolveDriver } from '../../src/driver/resolve-driver.js';

const root = mkdtempSync(join(tmpdir(), 'reconnect-plugins-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Writes node_modules/<name> under the temp app with the given package.json fields and index source.
function plugin(name: string, source: string, pkg: Record<string, unknown> = {}): void {
  const dir = join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js', ...pkg }),
  );
  writeFileSync(join(dir, 'index.js'), source);
}

const validDriver = `
const options = { safeParse: (v) => ({ success: true, data: v }) };
export default {
  name: 'fake', system: 'fake', options,
  async connect() { return {}; }, async probe() {}, async close() {}, classify() { return { kind: 'unknown' }; },
};`;

async function pluginError(name: string): Promise<Error & { plugin?: string }> {
  try {
    await resolveDriver(name, root);
  } catch (error) {
    expect(isPluginError(error)).toBe(true);
    return error as Error;
  }
  throw new Error(`expected ${name} to fail`);
}

describe('resolveDriver', () => {
  it('imports a third-party package from the config directory', async () => {
    plugin('reconnect-driver-fake', validDriver);
    const driver = await resolveDriver('reconnect-driver-fake', root);
    expect(driver.name).toBe('fake');
    expect(typeof driver.connect).toBe('function');
  });

  it('finds an ESM-only package (exports with an import condition only)', async () => {
    plugin('esm-only-driver', validDriver, { main: undefined, exports: { '.': { import: './index.js' } } });
    const driver = await resolveDriver('esm-only-driver', root);
    expect(driver.system).toBe('fake');
  });

  it('a missing package is a PluginError naming it', async () => {
    const e = await pluginError('reconnect-driver-nope');
    expect(e.plugin).toBe('reconnect-driver-nope');
    expect(e.message).toMatch(/Driver plugin "reconnect-driver-nope": is not installed/);
  });

  it('a typo of a built-in gets a did-you-mean and never advice to install the unknown name', async () => {
    const e = await pluginError('reddis');
    expect(e.message).toMatch(/is not installed: no built-in driver and no package of that name/);
    expect(e.message).toContain('did you mean "redis"?');
    expect(e.message).not.toMatch(/npm install/);
  });

  it('a module that throws on import is a PluginError saying so', async () => {
    plugin('throwing-driver', `throw new Error('boom at load');`);
    const e = await pluginError('throwing-driver');
    expect(e.message).toMatch(/throwing-driver.*threw while being imported: boom at load/);
    expect((e.cause as Error).message).toBe('boom at load');
  });

  it('a default export not shaped like a driver is a PluginError listing what is missing', async () => {
    plugin('half-driver', `export default { name: 'half', connect() {} };`);
    const e = await pluginError('half-driver');
    expect(e.message).toMatch(
      /half-driver.*not a driver: missing system \(a string\), options \(a zod schema\), probe\(\), close\(\), classify\(\)/,
    );
    plugin('no-default', `export const driver = {};`);
    expect((await pluginError('no-default')).message).toMatch(/default export is undefined/);
  });

  it('maps the built-in aliases to the @reconnect driver packages', async () => {
    expect(builtinDrivers).toEqual({
      mysql: '@reconnect/driver-mysql',
      mariadb: '@reconnect/driver-mysql',
      redis: '@reconnect/driver-redis',
      elasticsearch: '@reconnect/driver-elasticsearch',
    });
    // Whether or not the package is built yet, the alias is what gets resolved and named.
    try {
      const d = await resolveDriver('mysql', root);
      expect(d.name).toBe('mysql');
    } catch (error) {
      expect(isPluginError(error)).toBe(true);
      expect((error as { plugin: string }).plugin).toBe('@reconnect/driver-mysql');
    }
  });
});
