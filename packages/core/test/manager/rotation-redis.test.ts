// Issue #24's security fault on a real server: the password is rotated on a throwaway redis-server while a target
// serves a steady load, then the new secret is given by a policy reload. The target's own reconnects meet WRONGPASS
// (classified auth, readable, retried on its backoff, never a storm); the reload replaces the target with one that
// logs in with the new secret, and the load is served again. No secret ever reaches an error, a log line or an event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redisDriver, type RedisClient } from '@reconnect/driver-redis';
import { openRedisAdmin, startRedis, useServer } from '@reconnect/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createManager, type Manager } from '../../src/index.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-rotation-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const oldSecret = 'old-secret-4f1c';
const newSecret = 'new-secret-9a7e';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writeConfig(file: string, port: number, password: string): void {
  writeFileSync(
    file,
    [
      'version: 1',
      'targets:',
      '  cache:',
      '    driver: redis',
      `    options: { host: 127.0.0.1, port: ${port}, password: ${password} }`,
      '    policy:',
      '      extends: preset:redis',
      '      healthCheck: { interval: 200ms, timeout: 150ms, failureThreshold: 1 }',
      '      reconnect: { backoff: { type: fixed, base: 200ms, max: 200ms, jitter: none } }',
      '',
    ].join('\n'),
  );
}

describe('a password rotated on the server, the new secret given by a reload (throwaway Redis)', () => {
  const server = useServer(() => startRedis());

  it('reconnects meet WRONGPASS (auth, readable, paced); the reload logs in with the new secret; no secret is shown', async () => {
    const file = path.join(mkdtempSync(path.join(tmp, 'case-')), 'reconnect.config.yaml');
    const port = server().port;
    writeConfig(file, port, oldSecret);
    const lines: string[] = [];
    const log =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void =>
        void lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
    let m: Manager | undefined;
    const admin = await openRedisAdmin({ host: '127.0.0.1', port });
    await admin.run(['CONFIG', 'SET', 'requirepass', oldSecret]);
    try {
      m = await createManager({
        config: file,
        drivers: { redis: redisDriver },
        env: {},
        logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      });
      expect(await m.startAll()).toEqual({ cache: { ok: true } });
      const events: string[] = [];
      m.target<RedisClient>('cache').on('reconnectFailed', (e) => events.push(JSON.stringify(e)));
      const read = () =>
        m!.target<RedisClient>('cache').execute((r) => r.ping(), { idempotent: true, deadline: 300 });
      expect(await read()).toBe('PONG');

      // Rotated on the server: the new password, every client connection but the admin's cut.
      await admin.run(['CONFIG', 'SET', 'requirepass', newSecret]);
      await admin.run(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      // Each failure with the target's state when it came (the first ones may come before it noticed).
      const errors: { error: unknown; down: boolean }[] = [];
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        await read().catch((error: unknown) =>
          errors.push({ error, down: m!.target<RedisClient>('cache').state !== 'connected' }),
        );
        await sleep(50);
      }
      const texts = errors.map(({ error: e }) => `${(e as Error).message} ${String((e as Error).cause)}`);
      // The target cannot log in: operations fail, and once it knows it is down, every give-up names the refusal,
      // whatever the attempt itself met (a timeout while ioredis could not log in).
      const whileDown = errors.filter((e) => e.down);
      expect(whileDown.length).toBeGreaterThan(0);
      for (const { error: e } of whileDown)
        expect(`${(e as Error).message} ${String((e as Error).cause)}`).toMatch(
          /WRONGPASS invalid username-password pair/,
        );
      expect(m.target<RedisClient>('cache').state).not.toBe('connected');
      // What the reconnect meets is classified auth: a refusal that no retry of the same secret fixes.
      expect(redisDriver.classify(m.target<RedisClient>('cache').lastError())).toMatchObject({
        kind: 'auth',
      });
      // Paced by its 200 ms backoff, not a storm: at most a connect per gap (plus on-demand ones) in 1.5 s.
      expect(events.length).toBeLessThanOrEqual(12);

      // The new secret by reload: the target is replaced by one that logs in with it.
      writeConfig(file, port, newSecret);
      const reloaded = await m.reload();
      expect(reloaded.result).toBe('applied');
      expect(reloaded.summary).toEqual(['cache: options.password *** → ***']);
      let served: unknown;
      for (let i = 0; i < 40 && served !== 'PONG'; i++) served = await read().catch(() => sleep(50));
      expect(served).toBe('PONG');
      expect(m.target<RedisClient>('cache').isConnected()).toBe(true);

      // No secret anywhere a user sees it: errors (and their causes), log lines, events, the reload summary.
      expect(lines.length).toBeGreaterThan(0); // the logger heard the outage and the reload
      const shown = [...texts, ...lines, ...events, ...reloaded.summary].join('\n');
      expect(shown).not.toContain(oldSecret);
      expect(shown).not.toContain(newSecret);
    } finally {
      await m?.stopAll();
      await admin.run(['CONFIG', 'SET', 'requirepass', '']).catch(() => undefined);
      await admin.close();
    }
  }, 30_000);
});
