import { inspect } from 'node:util';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createTarget } from '@reconnect/core';
import { startRedis, useServer } from '@reconnect/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisDriver, redisOptionsSchema } from '../src/index.js';
import { until } from './helpers.js';
import { preset } from './target-helpers.js';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const secret = 'pa55-w0rd-never-printed';
const spansText = () =>
  JSON.stringify(
    exporter
      .getFinishedSpans()
      .map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })),
  );

describe('passwords never appear in errors, health snapshots or spans', () => {
  // An ACL user from the config file, so it survives restart() (the default user stays open for the
  // testkit's readiness PING).
  const server = useServer(() => startRedis({ config: { user: `app on >${secret} ~* &* +@all` } }));

  it('a working target with the password in its URL, through operations, a failing reply, a crash and a reconnect', async () => {
    const target = createTarget({
      name: 'cache',
      driver: redisDriver,
      options: redisOptionsSchema.parse({ url: `redis://app:${secret}@127.0.0.1:${server().port}` }),
      policy: preset('fast-failover'),
    });
    await target.start();
    try {
      expect(await target.execute((r) => r.call('ACL', 'WHOAMI'), { idempotent: true })).toBe('app');
      await target.execute((r) => r.set('s', 'v'), { idempotent: true });
      const wrongType = await target.execute((r) => r.lpush('s', 'x')).catch((e: unknown) => e);
      await server().kill();
      await until(() => !target.isConnected(), 3000);
      await server().restart();
      await until(() => target.isConnected(), 5000);
      await target.execute((r) => r.get('s'), { idempotent: true });
      const spans = spansText();
      expect(exporter.getFinishedSpans().length).toBeGreaterThan(3);
      expect(spans).toContain('"error.type":"WRONGTYPE"'); // the failing reply, by the store's own code (never a class name)
      expect(spans).toContain('reconnect.reconnect');
      expect(spans).not.toContain(secret);
      expect(inspect(wrongType, { depth: 10 })).not.toContain(secret);
      expect(JSON.stringify(target.health())).not.toContain(secret);
      expect(redisDriver.describe?.(redisOptionsSchema.parse({ url: `redis://app:${secret}@h:1` }))).toBe(
        'h:1',
      );
    } finally {
      await target.stop();
    }
  });

  it('a wrong password: the start() error, lastError, health() and spans are clean', async () => {
    const wrong = `${secret}-wrong`;
    const target = createTarget({
      name: 'cache',
      driver: redisDriver,
      options: redisOptionsSchema.parse({ url: `redis://app:${wrong}@127.0.0.1:${server().port}` }),
      policy: preset('fast-failover'),
    });
    const error = await target.start().catch((e: unknown) => e);
    try {
      expect(error).toBeInstanceOf(Error);
      const seen = [
        inspect(error, { depth: 10 }),
        JSON.stringify(error),
        inspect(target.lastError(), { depth: 10 }),
        JSON.stringify(target.health()),
        spansText(),
      ].join('\n');
      expect(seen).toMatch(/WRONGPASS/);
      expect(seen).not.toContain(secret);
    } finally {
      await target.stop();
    }
  });
});
