import { inspect } from 'node:util';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { startMariaDB, useServer } from '@reconnect/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mysqlDriver, mysqlOptionsSchema } from '../src/index.js';
import { control, mysqlTarget, preset, until } from './helpers.js';

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
  const server = useServer(() => startMariaDB());
  beforeAll(async () => {
    const admin = await control(server().port);
    await admin.query(`CREATE USER 'app'@'%' IDENTIFIED BY '${secret}'`);
    await admin.query("GRANT ALL ON test.* TO 'app'@'%'");
    await admin.end();
  });

  it('a working target with the password in its URI, through operations, a failing statement, a crash and a reconnect', async () => {
    const target = mysqlTarget(
      { uri: `mysql://app:${secret}@127.0.0.1:${server().port}/test` },
      preset('fast-failover'),
    );
    await target.start();
    try {
      await target.execute((db) => db.query('SELECT 1'), { idempotent: true });
      const syntax = await target.execute((db) => db.query('SELEC 1')).catch((e: unknown) => e);
      await server().kill();
      await until(() => !target.isConnected(), 3000);
      await server().restart();
      await until(() => target.isConnected(), 5000);
      await target.execute((db) => db.query('SELECT 1'), { idempotent: true });
      const spans = spansText();
      expect(exporter.getFinishedSpans().length).toBeGreaterThan(3);
      expect(spans).toContain('reconnect.reconnect');
      expect(spans).not.toContain(secret);
      expect(inspect(syntax, { depth: 10 })).not.toContain(secret);
      expect(JSON.stringify(target.health())).not.toContain(secret);
      expect(
        mysqlDriver.describe?.(mysqlOptionsSchema.parse({ uri: `mysql://app:${secret}@h:1/test` })),
      ).toBe('h:1/test');
    } finally {
      await target.stop();
    }
  });

  it('a wrong password: the start() error, lastError, health() and spans are clean', async () => {
    const wrong = `${secret}-wrong`;
    const target = mysqlTarget(
      { host: '127.0.0.1', port: server().port, user: 'app', password: wrong },
      preset('fast-failover'),
    );
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
      expect(seen).toMatch(/Access denied/);
      expect(seen).not.toContain(secret);
    } finally {
      await target.stop();
    }
  });
});
