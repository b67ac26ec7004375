import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTarget, resolvePolicy } from '@reconnect/core';
import { startRedis, type RedisServer } from '@reconnect/testkit';
import { Redis, type Cluster } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';
import { connectContext, until } from './helpers.js';

// The ioredis client-side states of classify.ts (issue #24's audit) met with real redis-servers and a real Redis
// Cluster: a command in flight when its node's connection is killed and the cluster client then quit, a slot
// refresh cut by a close, a cluster connect cut or replaced, a socket timeout on a frozen server, two cluster nodes
// that send a slot to each other forever, every node refusing CLUSTER SLOTS, a reply stream that is not Redis's,
// and a caller's abort. Where the driver itself never lets the state reach a caller, the test says so and uses the
// client the driver builds (createRedisClient), or a plain ioredis client, as the nearest real path.

const fast = {
  retry: { attemptTimeout: '5s' },
  reconnect: {
    connectTimeout: '2s',
    backoff: { type: 'fixed', base: '100ms', max: '100ms', jitter: 'none' },
  },
} as const;

const opts = (input: unknown) => redisOptionsSchema.parse(input);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

const cleanups: (() => unknown)[] = [];
const later = (cleanup: () => unknown): void => {
  cleanups.push(cleanup);
};
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse())
    await Promise.resolve()
      .then(cleanup)
      .catch(() => undefined);
});

async function raw(port: number): Promise<Redis> {
  const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  r.on('error', () => undefined);
  await r.connect();
  later(() => r.disconnect());
  return r;
}

const clusterOk = async (admin: Redis) =>
  /cluster_state:ok/.test((await admin.call('CLUSTER', 'INFO')) as string);

/** A cluster node on its own throwaway server, announcing 127.0.0.1. */
async function clusterNode(): Promise<RedisServer> {
  const node = await startRedis({ config: { 'cluster-enabled': 'yes', 'cluster-announce-ip': '127.0.0.1' } });
  later(() => node.stop());
  return node;
}

/** A one-node cluster holding every slot. */
async function oneNodeCluster(): Promise<{ node: RedisServer; admin: Redis }> {
  const node = await clusterNode();
  const admin = await raw(node.port);
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await until(() => clusterOk(admin), 5000);
  return { node, admin };
}

/** Two masters, A with slots 0–8191 and B with the rest, that met each other. */
async function twoNodeCluster() {
  const [a, b] = [await clusterNode(), await clusterNode()];
  const [adminA, adminB] = [await raw(a.port), await raw(b.port)];
  await adminA.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
  await adminB.call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
  await adminA.call('CLUSTER', 'MEET', '127.0.0.1', String(b.port));
  await until(async () => (await clusterOk(adminA)) && (await clusterOk(adminB)), 8000);
  return { a, b, adminA, adminB };
}

/** A key whose slot the node of `admin` serves (one of A's: slots 0–8191). */
async function keyOn(admin: Redis): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const key = `k${i}`;
    if (Number(await admin.call('CLUSTER', 'KEYSLOT', key)) < 8192) return key;
  }
  throw new Error('no key found in slots 0-8191');
}

const driverClient = async (options: object, policy: object = fast): Promise<RedisClient> => {
  const client = await redisDriver.connect(opts(options), connectContext(policy));
  later(() => redisDriver.close(client));
  return client;
};

describe('a Redis Cluster client: its own states, met on a real cluster', () => {
  it('Cluster is ended: a command whose connection the server killed, retried after the client was quit', async () => {
    const { a, adminA } = await twoNodeCluster();
    // ioredis retries a command whose node connection closed after retryDelayOnFailover (the cluster itself stays
    // ready: the other node's connection is up); the client quits meanwhile.
    const client = (await driverClient({
      cluster: { nodes: [`127.0.0.1:${a.port}`], retryDelayOnFailover: 800 },
    })) as Cluster;
    const key = await keyOn(adminA);
    const blocked = rejection(client.blpop(key, 0));
    let id: string | undefined;
    await until(async () => {
      id = /id=(\d+) [^\n]*cmd=blpop/.exec((await adminA.call('CLIENT', 'LIST')) as string)?.[1];
      return id !== undefined;
    }, 3000);
    // The node's connection leaves the client's pool once ioredis saw the kill: the command then waits to retry.
    const removed = new Promise((resolve) => client.once('-node', resolve));
    await adminA.call('CLIENT', 'KILL', 'ID', id!);
    await removed;
    expect(client.status).toBe('ready');
    await redisDriver.close(client);
    const error = (await blocked) as Error;
    expect(error.message).toBe('Cluster is ended.');
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
  });

  it('Cluster is disconnected: a slot-table refresh (an operation may start one) cut by the client closing', async () => {
    const { node } = await oneNodeCluster();
    const client = (await driverClient({ cluster: { nodes: [`127.0.0.1:${node.port}`] } })) as Cluster;
    // refreshSlotsCache is public on the Cluster an operation receives; its callback is the only one told.
    const refreshed = new Promise<unknown>((resolve) => client.refreshSlotsCache((e) => resolve(e)));
    client.disconnect();
    const error = (await refreshed) as Error;
    expect(error.message).toBe('Cluster is disconnected.');
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
  });

  // The driver's connect() and reconnect watch the client's events and settle on the signal; these two rejections
  // of ioredis's own connect() reach only its caller, so the client the driver builds is connected by hand.
  function builtCluster(port: number): Cluster {
    const client = createRedisClient(opts({ cluster: { nodes: [`127.0.0.1:${port}`] } }), {
      policy: resolvePolicy(fast),
      target: 'test',
    }) as Cluster;
    client.on('error', () => undefined);
    later(() => client.disconnect());
    return client;
  }

  it('Connection is aborted: a cluster connect whose client disconnected before it began', async () => {
    const { node } = await oneNodeCluster();
    const client = builtCluster(node.port);
    const connecting = rejection(client.connect());
    client.disconnect();
    const error = (await connecting) as Error;
    expect(error.message).toBe('Connection is aborted');
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
  });

  it('Connection is discarded: a cluster connect replaced by a newer one', async () => {
    const { node } = await oneNodeCluster();
    const client = builtCluster(node.port);
    const first = rejection(client.connect());
    client.disconnect();
    const second = client.connect();
    const error = (await first) as Error;
    expect(error.message).toBe('Connection is discarded because a new connection is made');
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'CONNECTION_CLOSED' });
    // The newer connect is the one that counts: it reaches the real node.
    await second;
    expect(await client.set('discarded:after', 'v')).toBe('OK');
  });

  it('Too many Cluster redirections: two real nodes that each say the other serves a slot', async () => {
    const { a, adminA, adminB } = await twoNodeCluster();
    const idA = (await adminA.call('CLUSTER', 'MYID')) as string;
    const idB = (await adminB.call('CLUSTER', 'MYID')) as string;
    const client = await driverClient({
      cluster: { nodes: [`127.0.0.1:${a.port}`], maxRedirections: 4, slotsRefreshInterval: 0 },
    });
    const key = await keyOn(adminA);
    const slot = String(await adminA.call('CLUSTER', 'KEYSLOT', key));
    // A gives the slot away to B; B was never told and still sees A as its owner: MOVED back and forth.
    await adminA.call('CLUSTER', 'SETSLOT', slot, 'NODE', idB);
    expect(await adminB.call('CLUSTER', 'COUNTKEYSINSLOT', slot)).toBe(0);
    const slotsOfB = (await adminB.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    expect(
      slotsOfB.some(([from, to, [, , id]]) => from <= Number(slot) && Number(slot) <= to && id === idA),
    ).toBe(true);
    const error = (await rejection(client.set(key, 'v'))) as Error;
    expect(error.message).toMatch(/^Too many Cluster redirections\. Last error: ReplyError: MOVED/);
    expect(redisDriver.classify(error)).toEqual({ kind: 'transient', code: 'TOO_MANY_REDIRECTIONS' });
    // Neither node holds the key (asked by slot: a plain EXISTS on A would itself be MOVED).
    expect(await adminA.call('CLUSTER', 'COUNTKEYSINSLOT', slot)).toBe(0);
    expect(await adminB.call('CLUSTER', 'COUNTKEYSINSLOT', slot)).toBe(0);
  });

  it('ClusterAllFailedError: every node refuses CLUSTER SLOTS to the user the driver logs in as', async () => {
    const { node, admin } = await oneNodeCluster();
    await admin.call('ACL', 'SETUSER', 'app', 'on', '>app-pw', '~*', '+@all', '-cluster');
    const error = await rejection(
      redisDriver.connect(
        opts({ cluster: { nodes: [`127.0.0.1:${node.port}`] }, username: 'app', password: 'app-pw' }),
        connectContext(fast),
      ),
    );
    expect((error as Error).name).toBe('ClusterAllFailedError');
    expect(String((error as { lastNodeError?: unknown }).lastNodeError)).toMatch(/NOPERM/);
    expect(redisDriver.classify(error)).toEqual({ kind: 'connection', code: 'CLUSTER_ALL_FAILED' });
  });
});

describe('a standalone client: a frozen server, a foreign server, a caller that gives up', () => {
  it('Socket timeout: ioredis socketTimeout on a SIGSTOPped redis-server (a plain ioredis client)', async () => {
    // The driver's options have no socketTimeout (its strict schema refuses it) and the driver never sets one: only
    // an ioredis client made by hand meets this rule. It is met here against a real, frozen server.
    const server = await startRedis();
    later(() => server.stop());
    const client = new Redis({
      port: server.port,
      lazyConnect: true,
      socketTimeout: 300,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    const emitted: unknown[] = [];
    client.on('error', (e) => emitted.push(e));
    later(() => client.disconnect());
    await client.connect();
    await server.hang();
    later(() => server.resume());
    const lost = await rejection(client.get('k'));
    const timeout = emitted.find((e) => String((e as Error).message).startsWith('Socket timeout'));
    expect(timeout, `errors emitted: ${emitted.map(String).join('; ')}`).toBeDefined();
    expect(redisDriver.classify(timeout)).toEqual({ kind: 'timeout', code: 'SOCKET_TIMEOUT' });
    // The command in flight: lost with the connection, it may have run.
    expect(redisDriver.classify(lost).kind).toBe('connection');
  });

  it('a protocol error (no ParserError with ioredis 6): the driver pointed at a server that does not speak RESP', async () => {
    // No redis-server sends what its parser cannot read: an HTTP server answering the driver's first command is
    // the nearest real case (a Redis URL with the port of another service). ioredis 6 decodes RESP itself and
    // throws a plain Error here (redis-parser's ParserError was ioredis 5's): classify's ParserError branch is
    // never met, and this error is fatal by the last rule (no reply code), which is what that branch said too.
    const http: Server = createHttpServer((_req, res) => res.end('not redis'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    later(() => new Promise((resolve) => http.close(resolve)));
    const port = (http.address() as AddressInfo).port;
    const error = await rejection(redisDriver.connect(opts({ port }), connectContext(fast)));
    expect((error as Error).name).toBe('Error');
    expect((error as Error).message).toMatch(/^Unknown RESP type 72 "H"/);
    expect(redisDriver.classify(error)).toEqual({ kind: 'fatal' });
  });

  it('ABORTED: a blocking command cut by its caller’s abort through a target', async () => {
    const server = await startRedis();
    later(() => server.stop());
    const target = createTarget({
      name: 'cache',
      driver: redisDriver,
      options: opts({ port: server.port }),
      policy: fast,
    });
    await target.start();
    later(() => target.stop());
    const admin = await raw(server.port);
    const controller = new AbortController();
    let seen: unknown;
    const call = target
      .execute(
        async (client) => {
          try {
            return await client.blpop('aborted:list', 0);
          } catch (e) {
            seen = e;
            throw e;
          }
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await until(async () => /cmd=blpop/.test((await admin.call('CLIENT', 'LIST')) as string), 3000);
    controller.abort();
    await call;
    expect((seen as Error).name).toBe('AbortError');
    expect(redisDriver.classify(seen)).toEqual({ kind: 'timeout', code: 'ABORTED' });
  });
});
