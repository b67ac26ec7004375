import { inspect } from 'node:util';
import { startFaultProxy, startRedis, useServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';
import { connectContext, recordingMonitor, outcomeWithin, until } from './helpers.js';

const fast = {
  retry: { attemptTimeout: '500ms' },
  reconnect: {
    connectTimeout: '500ms',
    backoff: { type: 'fixed', base: '100ms', max: '100ms', jitter: 'none' },
  },
} as const;

const opts = (input: unknown) => redisOptionsSchema.parse(input);

describe('redisDriver on a throwaway redis-server', () => {
  const server = useServer(() => startRedis());

  it('connects, probes with PING and closes without leaving the client running', async () => {
    const client = await redisDriver.connect(opts({ url: server().url }), connectContext(fast));
    expect(client.status).toBe('ready');
    await redisDriver.probe(client, { signal: new AbortController().signal });
    expect(await client.client('GETNAME')).toBe('reconnect:test');
    await redisDriver.close(client);
    expect(client.status).toBe('end');
  });

  it('a silent server: the connect waits for its own signal (connectTimeout), not the shorter attemptTimeout', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    proxy.blackhole(); // accepts, never answers: ioredis's ready check gets no reply
    const controller = new AbortController();
    try {
      // The caller (the lifecycle, `reconnect check`) aborts the connect at connectTimeout; until then nothing
      // inside it may give up: ioredis's ready check used to time out at attemptTimeout after its own connect
      // timeout (here at ~1.7 s, "Command timed out"), so a silent Redis read differently from the other stores.
      const policy = { retry: { attemptTimeout: '200ms' }, reconnect: { connectTimeout: '1500ms' } } as const;
      const started = Date.now();
      const connecting = redisDriver.connect(
        opts({ port: proxy.port }),
        connectContext(policy, controller.signal),
      );
      const early = await outcomeWithin(connecting, 2500);
      expect(early.state === 'rejected' ? String(early.error) : early.state).toBe('pending');
      const reason = new Error('connect did not finish within 2500 ms');
      controller.abort(reason);
      const error = await connecting.catch((e: unknown) => e);
      expect(error).toBe(reason);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    } finally {
      await proxy.close();
    }
  });

  it('rejects a connect to a closed port with ECONNREFUSED (sent: false) and stops the abandoned client', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    await proxy.refuse();
    try {
      const error = await redisDriver
        .connect(opts({ port: proxy.port }), connectContext(fast))
        .catch((e: unknown) => e);
      expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'ECONNREFUSED', sent: false });
      await proxy.pass();
      // Nothing keeps retrying behind the lifecycle's back.
      await new Promise((r) => setTimeout(r, 400));
      expect(proxy.stats().accepted).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('honours the connect signal against a server that never answers', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    proxy.blackhole();
    try {
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(new Error('connect timeout')), 150);
      const policy = { ...fast, reconnect: { ...fast.reconnect, connectTimeout: '10s' } };
      const error = await redisDriver
        .connect(opts({ port: proxy.port }), connectContext(policy, controller.signal))
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe('connect timeout');
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await proxy.close();
    }
  });

  it('probe honours its signal when the server hangs', async () => {
    const client = await redisDriver.connect(
      opts({ port: server().port }),
      connectContext({ ...fast, retry: { attemptTimeout: '10s' } }),
    );
    try {
      await server().hang();
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('probe timeout')), 200);
      const started = Date.now();
      const error = await redisDriver.probe(client, { signal: controller.signal }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('probe timeout');
      expect(Date.now() - started).toBeLessThan(600);
    } finally {
      await server().resume();
      await redisDriver.close(client);
    }
  });

  it('real errors classify as documented: not-sent while down, in-flight loss, command timeout', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    const client = await redisDriver.connect(
      opts({ port: proxy.port }),
      connectContext({ ...fast, retry: { attemptTimeout: '300ms' } }),
    );
    try {
      // A reply that never comes: commandTimeout (= attemptTimeout) settles it.
      proxy.blackhole();
      const timedOut = await client.get('k').catch((e: unknown) => e);
      expect(redisDriver.classify(timedOut)).toEqual({ kind: 'timeout', code: 'COMMAND_TIMEOUT' });
      await proxy.pass();
      await until(() => client.status === 'ready');
      // In flight when the connection drops: settled at once, outcome unknown.
      proxy.cutAfter(0, 'toClient');
      const lost = await client.incr('n').catch((e: unknown) => e);
      expect(redisDriver.classify(lost)).toMatchObject({
        kind: 'connection',
        code: 'MAX_RETRIES_PER_REQUEST',
      });
      expect(redisDriver.classify(lost).sent).toBeUndefined();
      // While disconnected: refused before sending.
      await proxy.refuse();
      await until(() => client.status === 'reconnecting');
      const notSent = await client.get('k').catch((e: unknown) => e);
      expect(redisDriver.classify(notSent)).toEqual({
        kind: 'connection',
        code: 'NOT_CONNECTED',
        sent: false,
      });
    } finally {
      await redisDriver.close(client);
      await proxy.close();
    }
  });

  it('BUSY (a long script) is transient', async () => {
    const client = await redisDriver.connect(
      opts({ port: server().port }),
      connectContext({ retry: { attemptTimeout: '5s' } }),
    );
    const blocker = new Redis({ port: server().port, lazyConnect: true });
    try {
      await client.config('SET', 'busy-reply-threshold', '100');
      await blocker.connect();
      const script = blocker.eval('local i = 0 while true do i = i + 1 end', 0).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 250));
      const busy = await client.get('k').catch((e: unknown) => e);
      expect(redisDriver.classify(busy)).toEqual({ kind: 'transient', code: 'BUSY', sent: false });
      await client.script('KILL');
      await script;
    } finally {
      blocker.disconnect();
      await redisDriver.close(client);
    }
  });
});

describe('auth and READONLY on their own servers', () => {
  // Started without a password (the testkit's readiness PING would get NOAUTH), then secured.
  const secured = useServer(() => startRedis());
  beforeAll(async () => {
    const admin = new Redis({ port: secured().port, lazyConnect: true });
    await admin.connect();
    await admin.config('SET', 'requirepass', 's3cr3t-pw');
    admin.disconnect();
  });

  it('a wrong password is auth, and the password appears nowhere in the error', async () => {
    const error = await redisDriver
      .connect(opts({ port: secured().port, password: 'wrong-s3cr3t' }), connectContext(fast))
      .catch((e: unknown) => e);
    expect(redisDriver.classify(error)).toEqual({ kind: 'auth', code: 'WRONGPASS', sent: false });
    expect(inspect(error, { depth: 10 })).not.toContain('wrong-s3cr3t');
    expect(JSON.stringify(error)).not.toContain('wrong-s3cr3t');
  });

  it('no password is NOAUTH (auth)', async () => {
    const error = await redisDriver
      .connect(opts({ port: secured().port }), connectContext(fast))
      .catch((e: unknown) => e);
    expect(redisDriver.classify(error)).toMatchObject({ kind: 'auth', code: 'NOAUTH' });
  });

  it('the right password in a URL connects; describe() hides it', async () => {
    const o = opts({ url: `redis://:s3cr3t-pw@127.0.0.1:${secured().port}` });
    const client = await redisDriver.connect(o, connectContext(fast));
    expect(await client.ping()).toBe('PONG');
    expect(redisDriver.describe?.(o)).toBe(`127.0.0.1:${secured().port}`);
    await redisDriver.close(client);
  });

  it('a write on a replica is READONLY (transient)', async () => {
    const replica = await startRedis({
      args: ['--replicaof', '127.0.0.1', String(secured().port), '--masterauth', 's3cr3t-pw'],
    });
    try {
      const client = await redisDriver.connect(opts({ port: replica.port }), connectContext(fast));
      const error = await client.set('k', 'v').catch((e: unknown) => e);
      expect(redisDriver.classify(error)).toEqual({
        kind: 'transient',
        code: 'READONLY',
        sent: false,
        readOnlyNode: true,
      });
      await redisDriver.close(client);
    } finally {
      await replica.stop();
    }
  });
});

describe('watch and reconnectNow', () => {
  const server = useServer(() => startRedis());

  it('reports down on a crash and up once ioredis is ready again; reconnectNow skips the backoff timer', async () => {
    const slow = {
      ...fast,
      reconnect: { ...fast.reconnect, backoff: { type: 'fixed', base: '20s', max: '20s', jitter: 'none' } },
    } as const;
    const client: RedisClient = await redisDriver.connect(
      opts({ port: server().port }),
      connectContext(slow),
    );
    const monitor = recordingMonitor();
    const unwatch = redisDriver.watch!(client, monitor);
    try {
      await server().kill();
      await until(() => monitor.events.length === 1);
      expect(monitor.events[0]?.type).toBe('down');
      expect(redisDriver.classify(monitor.events[0]?.error).kind).toBe('connection');
      expect(client.status).toBe('reconnecting');
      await server().restart();
      const restartedAt = Date.now();
      redisDriver.reconnectNow!(client);
      await until(() => monitor.events.length === 2, 2000);
      expect(monitor.events[1]?.type).toBe('up');
      expect(monitor.events[1]!.at - restartedAt).toBeLessThan(300);
      expect(await client.ping()).toBe('PONG');
    } finally {
      unwatch();
      await redisDriver.close(client);
    }
  });

  it('reconnectNow keeps a single reconnect chain (the pending backoff timer is cancelled)', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    const every300 = {
      ...fast,
      reconnect: {
        ...fast.reconnect,
        backoff: { type: 'fixed', base: '300ms', max: '300ms', jitter: 'none' },
      },
    } as const;
    const client = await redisDriver.connect(opts({ port: proxy.port }), connectContext(every300));
    try {
      proxy.reset({ persist: true });
      await until(() => client.status === 'reconnecting');
      proxy.resetStats();
      // Three nudges while the server stays unreachable: each is one extra attempt, not a new chain.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 100));
        redisDriver.reconnectNow!(client);
      }
      await new Promise((r) => setTimeout(r, 1500));
      const attempts = proxy.stats().accepted;
      // One chain: ~1800 ms / 300 ms ≈ 6 timer attempts + 3 nudges. Leaked chains would add 3 timers every 300 ms.
      expect(attempts).toBeGreaterThanOrEqual(5);
      expect(attempts).toBeLessThanOrEqual(11);
    } finally {
      await redisDriver.close(client);
      await proxy.close();
    }
  });

  it('reconnectNow on a connection the lifecycle found hung drops the socket; the client comes back after resume', async () => {
    const client = await redisDriver.connect(opts({ port: server().port }), connectContext(fast));
    const monitor = recordingMonitor();
    const unwatch = redisDriver.watch!(client, monitor);
    try {
      await server().hang();
      redisDriver.reconnectNow!(client);
      await until(() => monitor.events.some((e) => e.type === 'down'), 1000);
      await server().resume();
      // The lifecycle's next attempt (it owns the schedule while watching).
      redisDriver.reconnectNow!(client);
      await until(() => client.status === 'ready', 3000);
      expect(await client.ping()).toBe('PONG');
      expect(monitor.events.map((e) => e.type)).toEqual(['down', 'up']);
    } finally {
      unwatch();
      await redisDriver.close(client);
    }
  });

  it('while watched, ioredis makes no attempts of its own (one loop: the lifecycle’s); unwatching hands them back', async () => {
    const proxy = await startFaultProxy({ target: server().options });
    const every100 = {
      ...fast,
      reconnect: {
        ...fast.reconnect,
        backoff: { type: 'fixed', base: '100ms', max: '100ms', jitter: 'none' },
      },
    } as const;
    const client = await redisDriver.connect(opts({ port: proxy.port }), connectContext(every100));
    const unwatch = redisDriver.watch!(client, recordingMonitor());
    try {
      proxy.reset({ persist: true });
      await until(() => client.status === 'reconnecting');
      proxy.resetStats();
      await new Promise((r) => setTimeout(r, 600));
      expect(proxy.stats().accepted).toBe(0);
      redisDriver.reconnectNow!(client);
      await until(() => proxy.stats().accepted === 1, 1000);
      await new Promise((r) => setTimeout(r, 300));
      expect(proxy.stats().accepted).toBe(1);
      unwatch();
      await new Promise((r) => setTimeout(r, 600));
      // ioredis's own strategy (the policy's 100 ms backoff) runs again.
      expect(proxy.stats().accepted).toBeGreaterThanOrEqual(4);
    } finally {
      await redisDriver.close(client);
      await proxy.close();
    }
  });

  it('a close() by the driver is not reported as a loss and never reconnects', async () => {
    const client = await redisDriver.connect(opts({ port: server().port }), connectContext(fast));
    const monitor = recordingMonitor();
    redisDriver.watch!(client, monitor);
    await redisDriver.close(client);
    redisDriver.reconnectNow!(client);
    const r = await outcomeWithin(
      until(() => client.status !== 'end', 300),
      400,
    );
    expect(r.state).toBe('rejected');
    expect(monitor.events).toEqual([]);
  });
});
