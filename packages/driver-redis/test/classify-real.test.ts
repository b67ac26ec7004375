import { resolvePolicy } from '@reconnect/core';
import { freePort, startFaultProxy, startRedis, useServer, type RedisServer } from '@reconnect/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';
import { connectContext, until } from './helpers.js';

// Every rule of classify.ts that says "never sent" (`sent: false`: a write may be retried) produced by a real
// redis-server (or ioredis against one), and the server checked afterwards: the refused write did not run. The
// rules that say "may have run" (no `sent`) are produced the same way where the difference matters, and the
// server shows that the command did run. driver.test.ts produces WRONGPASS and NOAUTH (a connect: nothing of the
// caller's is sent) and ECONNREFUSED; attempt-limits.test.ts the attempt-ended refusal, with the server's count.

const fast = {
  retry: { attemptTimeout: '2s' },
  reconnect: {
    connectTimeout: '1s',
    backoff: { type: 'fixed', base: '100ms', max: '100ms', jitter: 'none' },
  },
} as const;

const opts = (input: unknown) => redisOptionsSchema.parse(input);

/** A plain ioredis client for setting the scene and reading the server's state: no driver rules in the way. */
async function raw(port: number, options: { username?: string; password?: string } = {}): Promise<Redis> {
  const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null, ...options });
  r.on('error', () => undefined);
  await r.connect();
  return r;
}

/** What `promise` rejected with; fails the test if it fulfilled. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

// What each test opened, closed after it whatever happened (servers, proxies, clients).
const cleanups: (() => Promise<unknown>)[] = [];
const later = (cleanup: () => unknown): void => {
  cleanups.push(() => Promise.resolve().then(cleanup));
};
const driverClient = async (options: object, policy: object = fast): Promise<RedisClient> => {
  const client = await redisDriver.connect(opts(options), connectContext(policy));
  later(() => redisDriver.close(client));
  return client;
};
const rawClient = async (port: number, options?: { username?: string; password?: string }) => {
  const r = await raw(port, options);
  later(() => r.disconnect());
  return r;
};
afterEach(async () => {
  await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('replies that refuse a command, from one throwaway server', () => {
  const server = useServer(() => startRedis({ args: ['--enable-debug-command', 'yes'] }));

  it('LOADING: a write while the server loads its dataset is refused and never runs', async () => {
    const admin = await rawClient(server().port);
    const watcher = await rawClient(server().port);
    const client = await driverClient({ port: server().port });
    await admin.flushall();
    // 20 000 keys at 50 µs each: about a second of loading, with events served every KB.
    await admin.call('DEBUG', 'POPULATE', '20000', 'loading');
    await admin.config('SET', 'key-load-delay', '50');
    await admin.config('SET', 'loading-process-events-interval-bytes', '1024');
    const reload = admin.call('DEBUG', 'RELOAD');
    try {
      await until(async () => /loading:1/.test(await watcher.info('persistence')), 5000);
      const error = await rejection(client.set('loading:write', 'v'));
      expect(redisDriver.classify(error)).toEqual({ kind: 'transient', code: 'LOADING', sent: false });
    } finally {
      await reload;
      await admin.config('SET', 'key-load-delay', '0');
    }
    expect(await admin.exists('loading:write')).toBe(0);
  });

  it('BUSY: a write while a script runs too long is refused and never runs', async () => {
    const admin = await rawClient(server().port);
    const blocker = await rawClient(server().port);
    const client = await driverClient({ port: server().port });
    await admin.config('SET', 'busy-reply-threshold', '100');
    const script = blocker.eval('while true do end', 0).catch((e: unknown) => e);
    try {
      // A read first, until the script is seen running (so the write cannot run before it): BUSY once the script
      // has run past the threshold.
      await until(
        () =>
          admin.get('busy:probe').then(
            () => false,
            (e: Error) => e.message.startsWith('BUSY'),
          ),
        5000,
      );
      const error = await rejection(client.set('busy:write', 'v'));
      expect(redisDriver.classify(error)).toEqual({ kind: 'transient', code: 'BUSY', sent: false });
    } finally {
      await admin.script('KILL');
      await script;
      await admin.config('SET', 'busy-reply-threshold', '5000');
    }
    expect(await admin.exists('busy:write')).toBe(0);
  });

  it('READONLY: a write on a replica is refused and never runs, there or on its master', async () => {
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(server().port)] });
    later(() => replica.stop());
    const client = await driverClient({ port: replica.port });
    const error = await rejection(client.set('readonly:write', 'v'));
    expect(redisDriver.classify(error)).toEqual({
      kind: 'transient',
      code: 'READONLY',
      sent: false,
      readOnlyNode: true,
    });
    expect(await (await rawClient(replica.port)).exists('readonly:write')).toBe(0);
    expect(await (await rawClient(server().port)).exists('readonly:write')).toBe(0);
  });

  it('NOPERM: a command the user may not run is refused and never runs', async () => {
    const admin = await rawClient(server().port);
    await admin.call('ACL', 'SETUSER', 'limited', 'on', '>limited-pw', '~*', '+@all', '-set');
    try {
      const client = await driverClient({ port: server().port, username: 'limited', password: 'limited-pw' });
      const error = await rejection(client.set('noperm:write', 'v'));
      expect(redisDriver.classify(error)).toEqual({ kind: 'auth', code: 'NOPERM', sent: false });
      expect(await admin.exists('noperm:write')).toBe(0);
    } finally {
      await admin.call('ACL', 'DELUSER', 'limited');
    }
  });

  it('MAXCLIENTS: a connection over maxclients is refused before any command runs', async () => {
    const admin = await rawClient(server().port);
    const rejected = async () => Number(/rejected_connections:(\d+)/.exec(await admin.info('stats'))?.[1]);
    const before = await rejected();
    // The refusal is the reply to the client's first handshake command: ioredis ignores a failed CLIENT SETNAME or
    // HELLO (RESP3), but not a failed RESP2 AUTH, so the refusal reaches the driver only with a password on RESP2;
    // otherwise the connect fails as "Connection is closed." (connection). Straight to the server, the refusal and
    // the close beat the first write, which fails with EPIPE (connection, may have run: the conservative reading);
    // through a proxy the AUTH is usually written before the close is seen, and its reply arrives. When the close
    // wins anyway (seen under CI load), the driver checks the lost connect with a socket of its own straight to the
    // server (server-busy.ts), which the server refuses too: one refusal more, none through the proxy. A connect
    // refused so is waited out within its connectTimeout; 100 ms leaves no time for a second one here, so the driver
    // connects through the proxy exactly once.
    const proxy = await startFaultProxy({ target: server().options });
    later(() => proxy.close());
    await admin.config('SET', 'requirepass', 'maxclients-pw');
    await admin.config('SET', 'maxclients', '1');
    try {
      const error = await rejection(
        redisDriver.connect(
          opts({ port: proxy.port, password: 'maxclients-pw', protocol: 2 }),
          connectContext({ ...fast, reconnect: { ...fast.reconnect, connectTimeout: '100ms' } }),
        ),
      );
      expect(redisDriver.classify(error)).toEqual({ kind: 'throttled', code: 'MAXCLIENTS', sent: false });
      expect(proxy.stats().accepted).toBe(1);
      // The proxied connect, plus the driver's check socket when the close beat the AUTH reply.
      expect(await rejected()).toBeGreaterThanOrEqual(before + 1);
      expect(await rejected()).toBeLessThanOrEqual(before + 2);
    } finally {
      await admin.config('SET', 'maxclients', '10000');
      await admin.config('SET', 'requirepass', '');
    }
  });
});

describe('replies of replicas and cluster nodes', () => {
  it('MASTERDOWN: a write on a replica cut off from its master (serve-stale-data no) never runs', async () => {
    // Writable (replica-read-only no), so the write meets the stale-data rule rather than READONLY; stale data is
    // refused only once connected, since the testkit's readiness PING and the driver's handshake need answers.
    const replica = await startRedis({
      args: ['--replicaof', '127.0.0.1', String(await freePort()), '--replica-read-only', 'no'],
    });
    later(() => replica.stop());
    const client = await driverClient({ port: replica.port });
    const admin = await rawClient(replica.port);
    await admin.config('SET', 'replica-serve-stale-data', 'no');
    const error = await rejection(client.set('masterdown:write', 'v'));
    expect(redisDriver.classify(error)).toEqual({ kind: 'transient', code: 'MASTERDOWN', sent: false });
    // INFO is one of the few commands a stale replica answers: no key in any database.
    expect(await admin.info('keyspace')).not.toMatch(/^db\d+:/m);
  });

  it('CLUSTERDOWN: a write to a cluster node that serves no slot never runs', async () => {
    const node = await startRedis({ config: { 'cluster-enabled': 'yes' } });
    later(() => node.stop());
    const client = await driverClient({ port: node.port });
    const error = await rejection(client.set('clusterdown:write', 'v'));
    expect(redisDriver.classify(error)).toEqual({ kind: 'transient', code: 'CLUSTERDOWN', sent: false });
    const admin = await rawClient(node.port);
    expect(await admin.info('keyspace')).not.toMatch(/^db\d+:/m);
  });

  it('TRYAGAIN: a multi-key write into a slot being migrated never runs', async () => {
    const [a, b] = await Promise.all([
      startRedis({ config: { 'cluster-enabled': 'yes' } }),
      startRedis({ config: { 'cluster-enabled': 'yes' } }),
    ]);
    later(() => a.stop());
    later(() => b.stop());
    const adminA = await rawClient(a.port);
    const adminB = await rawClient(b.port);
    const idB = (await adminB.call('CLUSTER', 'MYID')) as string;
    await adminA.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await adminA.call('CLUSTER', 'MEET', '127.0.0.1', String(b.port));
    await until(async () => ((await adminA.call('CLUSTER', 'NODES')) as string).includes(idB), 5000);
    await until(async () => /cluster_state:ok/.test((await adminA.call('CLUSTER', 'INFO')) as string), 5000);
    const slot = String(await adminA.call('CLUSTER', 'KEYSLOT', '{t}'));
    await adminA.set('{t}a', 'before');
    await adminA.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', idB);

    const client = await driverClient({ port: a.port });
    const error = await rejection(client.mset('{t}a', 'after', '{t}b', 'after'));
    expect(redisDriver.classify(error)).toEqual({ kind: 'transient', code: 'TRYAGAIN', sent: false });
    expect(await adminA.get('{t}a')).toBe('before');
  });
});

/** A one-node cluster holding every slot, on its own server. */
async function oneNodeCluster(options: { persistence?: 'aof' } = {}): Promise<RedisServer> {
  // Announcing its address: a node that never met another one does not know it, and CLUSTER SLOTS would send the
  // client nowhere.
  const node = await startRedis({
    config: { 'cluster-enabled': 'yes', 'cluster-announce-ip': '127.0.0.1' },
    ...options,
  });
  later(() => node.stop());
  const admin = await raw(node.port);
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await until(async () => /cluster_state:ok/.test((await admin.call('CLUSTER', 'INFO')) as string), 5000);
  } finally {
    admin.disconnect();
  }
  return node;
}

describe('ioredis refusing before it writes', () => {
  it("Cluster isn't ready: a write while the cluster client reconnects is refused and never runs", async () => {
    const node = await oneNodeCluster({ persistence: 'aof' });
    const client = await driverClient({ cluster: { nodes: [`127.0.0.1:${node.port}`] } });
    expect(await client.set('cluster:before', 'v')).toBe('OK');
    await node.kill();
    await until(() => client.status === 'reconnecting', 5000);
    const error = await rejection(client.set('cluster:write', 'v'));
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'NOT_CONNECTED', sent: false });
    await node.restart();
    const admin = await rawClient(node.port);
    await until(async () => /cluster_state:ok/.test((await admin.call('CLUSTER', 'INFO')) as string), 5000);
    // The append-only file kept the write before the kill: the refused one is not there.
    expect(await admin.exists('cluster:before')).toBe(1);
    expect(await admin.exists('cluster:write')).toBe(0);
  });

  it('None of startup nodes is available: a cluster connect where no node answers sends nothing', async () => {
    // The driver's connect() reports the cluster's last error event instead (ClusterAllFailedError, connection:
    // may have run, the conservative reading); ioredis's own connect() of the client the driver builds says this.
    const port = await freePort();
    const client = createRedisClient(opts({ cluster: { nodes: [`127.0.0.1:${port}`] } }), {
      policy: resolvePolicy(fast),
      target: 'test',
    });
    client.on('error', () => undefined);
    later(() => client.disconnect());
    const error = await rejection(client.connect());
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'NO_NODE', sent: false });
  });

  it('All sentinels are unreachable: a Sentinel connect where no sentinel answers sends nothing', async () => {
    const port = await freePort();
    const error = await rejection(
      redisDriver.connect(opts({ sentinels: [`127.0.0.1:${port}`], name: 'mymaster' }), connectContext(fast)),
    );
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'NO_SENTINEL', sent: false });
  });

  it("Stream isn't writeable: a write while the client reconnects never reaches the server", async () => {
    const server = await startRedis();
    later(() => server.stop());
    const proxy = await startFaultProxy({ target: server.options });
    later(() => proxy.close());
    const client = await driverClient({ port: proxy.port });
    await proxy.refuse();
    await until(() => client.status === 'reconnecting', 5000);
    const before = proxy.stats().bytesToServer;
    const error = await rejection(client.set('offline:write', 'v'));
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'NOT_CONNECTED', sent: false });
    expect(proxy.stats().bytesToServer).toBe(before);
    const admin = await rawClient(server.port);
    expect(await admin.exists('offline:write')).toBe(0);
  });
});

describe('losses that may have run: the server shows they did', () => {
  it('Command aborted due to connection close: pipelined writes after a partial reply ran', async () => {
    const server = await startRedis();
    later(() => server.stop());
    const proxy = await startFaultProxy({ target: server.options });
    later(() => proxy.close());
    const client = await driverClient({ port: proxy.port });
    // The first reply (+OK\r\n, 5 bytes) reaches the client, then the connection is cut.
    proxy.cutAfter(5, 'toClient');
    const results = await client.pipeline().set('p:1', '1').set('p:2', '2').set('p:3', '3').exec();
    expect(results?.[0]).toEqual([null, 'OK']);
    const aborted = results?.[1]?.[0];
    expect((aborted as Error).message).toBe('Command aborted due to connection close');
    expect(redisDriver.classify(aborted)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
    const admin = await rawClient(server.port);
    // Not "never sent": the server ran every write whose reply was lost.
    expect(await admin.mget('p:1', 'p:2', 'p:3')).toEqual(['1', '2', '3']);
  });

  it('Connection is closed: a write in flight when the client gives up reconnecting ran', async () => {
    const server = await startRedis();
    later(() => server.stop());
    const proxy = await startFaultProxy({ target: server.options });
    later(() => proxy.close());
    // No reconnect at all: the first close ends the client, and ioredis settles what was in flight with
    // "Connection is closed."
    const client = await driverClient(
      { port: proxy.port },
      {
        ...fast,
        reconnect: { ...fast.reconnect, maxRetries: 0, onExhausted: 'stop' },
      },
    );
    proxy.cutAfter(0, 'toClient');
    const error = await rejection(client.set('closed:write', 'v'));
    expect((error as Error).message).toBe('Connection is closed.');
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
    const admin = await rawClient(server.port);
    expect(await admin.get('closed:write')).toBe('v');
  });
});
