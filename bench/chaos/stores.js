// The stores of `npm run bench:chaos` (and the matrix's TLS stores, tls-stores.js). Each one reuses the live demo's scenario module
// (examples/demo/scenarios/*: the throwaway server, the idempotent read, the non-idempotent write of a
// unique id and the count on the server) and adds what a benchmark needs beside it: clients built
// against any endpoint (the server itself or a fault proxy in front of it), and the faults by name.
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import {
  faultCatalogue,
  faultNamed,
  openMariaDBAdmin,
  openRedisAdmin,
  startFaultProxy,
  startRedis,
  startRedisSentinel,
  startSwitchableHost,
} from '@reconnect/testkit';
import { ensureIdempotencyKeyTable, statementOnce } from '@reconnect/driver-mysql';
import { redisCommands } from '@reconnect/driver-redis';
import { elasticsearchRequests } from '@reconnect/driver-elasticsearch';
import { redisScenario } from '../../examples/demo/scenarios/redis.js';
import { tlsStores } from './tls-stores.js';
import { mysqlScenario } from '../../examples/demo/scenarios/mysql.js';
import { elasticsearchScenario } from '../../examples/demo/scenarios/elasticsearch.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A fault, timed by `t` (the run's timing, ms): `start` begins it, `end` resolves once the server
 * accepts connections again (the moment "server back" is measured from).
 * @typedef {{ name: string, start: () => Promise<unknown>, end: () => Promise<unknown> }} PlayedFault
 */

/** The restart loop: `cycles` × (SIGKILL, `downMs` down, restart, `upMs` up), ending with a restart. */
function restartLoop(kill, restart, t) {
  return {
    start: async () => {
      for (let i = 0; i < t.loopCycles; i++) {
        await kill();
        await sleep(t.loopDownMs);
        await restart();
        if (i < t.loopCycles - 1) await sleep(t.loopUpMs);
      }
      await kill();
    },
    end: () => restart(),
  };
}

/** Every fault name, in table order; `node-down` exists for Elasticsearch only. */
export const faultNames = ['crash', 'hang', 'blackhole', 'restart-loop', 'node-down'];

export const faultTitles = {
  crash: 'crash (SIGKILL) + restart',
  hang: 'hang (SIGSTOP) + resume',
  blackhole: 'network blackhole (fault proxy)',
  'restart-loop': 'restart loop',
  'node-down': 'one node of three down (SIGKILL) + restart',
  ...Object.fromEntries(faultCatalogue.map((f) => [f.name, f.title])),
};

/** The fault matrix (`--matrix`, issue #24): the testkit's fault catalogue and the restart loop. */
export const matrixFaultNames = [...faultCatalogue.map((f) => f.name), 'restart-loop'];

/** Every fault a run may name. */
export const allFaultNames = [...new Set([...faultNames, ...matrixFaultNames])];

/**
 * Whether the client must connect through the fault proxy for this fault: `true`, or `'hostname'` when it must
 * connect by a host name the test resolver serves (a switchable host: two proxies, one name).
 */
export const faultNeedsProxy = (name) =>
  faultCatalogue.some((f) => f.name === name && f.viaHostname)
    ? 'hostname'
    : name === 'blackhole' || faultCatalogue.some((f) => f.name === name && f.viaProxy);

/** The catalogue's TLS certificate faults: they need a TLS server, so they run against the TLS stores. */
const tlsFaultNames = faultCatalogue.filter((f) => f.name.startsWith('tls-')).map((f) => f.name);

/** The catalogue's faults for a store kind of the testkit ('redis', 'mariadb'), and the restart loop. */
const matrixFor = (kind) => [
  ...faultCatalogue
    .filter((f) => f.stores.includes(kind) && !tlsFaultNames.includes(f.name) && !f.viaSentinel)
    .map((f) => f.name),
  'restart-loop',
];

/** A catalogue fault played on one server (and the proxy or switchable host in front of it, when there is one). */
function catalogueFault(kind, server, proxies, name, t, account, hosts = [], sentinel = undefined) {
  const fault = faultNamed(name);
  let active;
  return {
    start: async () => {
      active = await fault.start({
        store: kind,
        server,
        ...(proxies[0] === undefined ? {} : { proxy: proxies[0] }),
        ...(hosts[0] === undefined ? {} : { host: hosts[0] }),
        ...(sentinel === undefined ? {} : { sentinel }),
        durationMs: t.faultMs,
        ...(account === undefined ? {} : { account }),
      });
    },
    end: async () => {
      await active?.heal();
    },
    // How often the fault acted on the server (connections killed), where it says.
    acted: () => active?.acted?.(),
  };
}

/**
 * @typedef {object} BenchStore
 * @property {string} key
 * @property {string} title
 * @property {string[]} faults        the faults this store is run through
 * @property {string[]} matrixFaults  the faults of the matrix (`--matrix`)
 * @property {string} preset          the store's own preset name
 * @property {string} rawName
 * @property {boolean} [replicated]  has a replica that can confirm writes (the `durable` contender)
 * @property {() => Promise<StoreRun>} start  a fresh throwaway server (or cluster) for one run
 */

/**
 * @typedef {object} StoreRun
 * @property {(viaProxy: boolean) => Promise<void>} expose  put fault proxies in front (blackhole runs)
 * @property {() => any} rawClient       the store's own client at its defaults, at the exposed endpoint
 * @property {(client: any) => Promise<unknown>} closeRaw
 * @property {() => { driverPackage: string, options: unknown }} reconnectOptions
 * @property {(client: any) => Promise<unknown>} read
 * @property {(client: any, lane: string, id: string) => Promise<unknown>} write
 * @property {(lane: string) => Promise<string[]>} serverWrites
 * @property {KeyedWrites} [keyed]   writes with an idempotency key (issue #27), for the `keys` contender
 * @property {(name: string, t: object) => PlayedFault} fault
 * @property {() => Promise<void>} stop
 */

/**
 * @typedef {object} KeyedWrites
 * @property {(target: any, lane: string, id: string) => Promise<unknown>} write  the write, fenced by the key `lane:id`
 * @property {(options: any) => any} [options]  the driver options the fence needs
 * @property {(target: any) => Promise<unknown>} [setup]  once per run, on the started target
 * @property {string} note  how, for the tables
 */

/**
 * Proxies in front of `targets` ({host, port} each), or none, or (`'hostname'`) a switchable host in front of
 * each: clients connect by name. Returns what clients connect to; `close()` closes what it started.
 */
async function maybeProxies(viaProxy, targets) {
  if (!viaProxy) return { endpoints: targets, proxies: [], hosts: [] };
  if (viaProxy === 'hostname') {
    const hosts = await Promise.all(targets.map((t) => startSwitchableHost({ target: t })));
    return { endpoints: hosts.map((h) => ({ host: h.name, port: h.port })), proxies: [], hosts };
  }
  const proxies = await Promise.all(
    targets.map((t) => startFaultProxy({ target: { host: t.host, port: t.port } })),
  );
  return { endpoints: proxies.map((p) => ({ host: p.host, port: p.port })), proxies, hosts: [] };
}

/** Closes the proxies and switchable hosts `maybeProxies` started. */
const closeExposed = (ep) => Promise.all([...ep.proxies, ...(ep.hosts ?? [])].map((p) => p.close()));

function blackhole(proxies) {
  return {
    start: async () => {
      for (const p of proxies) p.blackhole();
    },
    end: () => Promise.all(proxies.map((p) => p.pass())),
  };
}

/** @returns {BenchStore} */
function redisStore() {
  return {
    key: 'redis',
    title: 'Redis',
    preset: 'redis',
    rawName: 'ioredis',
    faults: ['crash', 'hang', 'blackhole', 'restart-loop'],
    matrixFaults: matrixFor('redis'),
    async start() {
      const scen = redisScenario();
      await scen.setup(); // AOF, appendfsync always: an acknowledged write survives the crash
      const server = scen.handle();
      let ep = { endpoints: [{ host: server.host, port: server.port }], proxies: [] };
      return {
        async expose(viaProxy) {
          ep = await maybeProxies(viaProxy, ep.endpoints);
        },
        rawClient() {
          const client = new Redis({ host: ep.endpoints[0].host, port: ep.endpoints[0].port });
          client.on('error', () => {});
          return client;
        },
        closeRaw: async (c) => c.disconnect(),
        reconnectOptions: () => ({
          driverPackage: '@reconnect/driver-redis',
          options: { host: ep.endpoints[0].host, port: ep.endpoints[0].port },
        }),
        read: scen.read,
        write: scen.write,
        serverWrites: scen.serverWrites,
        keyed: {
          write: (target, lane, id) =>
            redisCommands(target).callOnce(`${lane}:${id}`, 'RPUSH', `demo:writes:${lane}`, id),
          note: 'callOnce (guard key and RPUSH in one script)',
        },
        fault(name, t) {
          if (name === 'crash') return { start: () => server.kill(), end: () => server.restart() };
          if (name === 'hang') return { start: () => server.hang(), end: () => server.resume() };
          if (name === 'blackhole') return blackhole(ep.proxies);
          if (name === 'restart-loop')
            return restartLoop(
              () => server.kill(),
              () => server.restart(),
              t,
            );
          return catalogueFault('redis', server, ep.proxies, name, t, undefined, ep.hosts);
        },
        async stop() {
          await closeExposed(ep);
          await scen.teardown();
        },
      };
    },
  };
}

/** @returns {BenchStore} */
function mysqlStore() {
  return {
    key: 'mysql',
    title: 'MariaDB',
    preset: 'mysql',
    rawName: 'mysql2 pool',
    faults: ['crash', 'hang', 'blackhole', 'restart-loop'],
    matrixFaults: matrixFor('mariadb'),
    async start() {
      const scen = mysqlScenario();
      await scen.setup(); // InnoDB, flush at commit (=2): a committed row survives the process's SIGKILL
      const server = scen.handle();
      let ep = { endpoints: [{ host: server.host, port: server.port }], proxies: [] };
      const db = server.options.database;
      // The clients connect as an application account, as in production: root bypasses `read_only` (and takes
      // the slot MariaDB keeps beyond max_connections), so faults that refuse an application would not show.
      const account = { user: 'app', password: 'app-secret' };
      const root = await openMariaDBAdmin(server);
      try {
        await root.run(`CREATE USER '${account.user}'@'%' IDENTIFIED BY '${account.password}'`);
        await root.run(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${account.user}'@'%'`);
      } finally {
        await root.close();
      }
      return {
        async expose(viaProxy) {
          ep = await maybeProxies(viaProxy, ep.endpoints);
        },
        rawClient: () =>
          mysql.createPool({
            ...server.options,
            ...account,
            host: ep.endpoints[0].host,
            port: ep.endpoints[0].port,
          }),
        closeRaw: (pool) => Promise.race([pool.end(), sleep(2000)]),
        reconnectOptions: () => ({
          driverPackage: '@reconnect/driver-mysql',
          options: {
            uri: `mysql://${account.user}:${account.password}@${ep.endpoints[0].host}:${ep.endpoints[0].port}/${db}`,
          },
        }),
        read: scen.read,
        write: scen.write,
        serverWrites: scen.serverWrites,
        keyed: {
          setup: (target) => ensureIdempotencyKeyTable(target),
          write: (target, lane, id) =>
            statementOnce(target, `${lane}:${id}`, 'INSERT INTO demo_writes (lane, wid) VALUES (?, ?)', [
              lane,
              id,
            ]),
          note: 'statementOnce (key row in the same transaction)',
        },
        fault(name, t) {
          if (name === 'crash') return { start: () => server.kill(), end: () => server.restart() };
          if (name === 'hang') return { start: () => server.hang(), end: () => server.resume() };
          if (name === 'blackhole') return blackhole(ep.proxies);
          if (name === 'restart-loop')
            return restartLoop(
              () => server.kill(),
              () => server.restart(),
              t,
            );
          return catalogueFault('mariadb', server, ep.proxies, name, t, account, ep.hosts);
        },
        async stop() {
          await closeExposed(ep);
          await scen.teardown();
        },
      };
    },
  };
}

/**
 * The catalogue's Elasticsearch faults in the matrix. Not `es-sniff-unreachable`: the store preset does not sniff
 * (discovery off), so the cell would only show a node killed; the driver's own test runs it with discovery on.
 */
const esMatrixFaults = faultCatalogue
  .filter((f) => f.stores.includes('elasticsearch') && f.name !== 'es-sniff-unreachable')
  .map((f) => f.name);

/** The `_bulk` fault's writes: each write is one bulk of this many documents (so a bulk can land in part). */
const bulkParts = 3;

/**
 * The write ids on the server from bulk writes: an id once per complete copy — every part present once is one
 * copy; a part present twice makes two (a duplicate); a part missing makes none (lost, if it was acknowledged).
 */
function bulkWriteIds(docs) {
  const parts = new Map();
  for (const d of docs) {
    const counts = parts.get(d.source.wid) ?? new Array(bulkParts).fill(0);
    counts[d.source.part] += 1;
    parts.set(d.source.wid, counts);
  }
  return [...parts].flatMap(([wid, counts]) =>
    new Array(Math.min(...counts) === 0 ? 0 : Math.max(...counts)).fill(wid),
  );
}

/** A bulk write that failed in part: `outcome` unknown when some item may have landed, else not_sent. */
function bulkFailure(code, items, unknown) {
  return Object.assign(new Error(`bulk: ${items} of ${bulkParts} items not applied`), {
    code,
    outcome: unknown ? 'unknown' : 'not_sent',
  });
}

/** @returns {BenchStore} */
function elasticsearchStore() {
  return {
    key: 'elasticsearch',
    title: 'Elasticsearch (3-node test cluster)',
    preset: 'elasticsearch',
    rawName: 'ES client',
    faults: ['crash', 'hang', 'blackhole', 'restart-loop', 'node-down'],
    matrixFaults: esMatrixFaults,
    async start() {
      const scen = elasticsearchScenario();
      await scen.setup(); // the documents live in the coordinator: they survive every node's crash
      const cluster = scen.handle();
      let ep = {
        endpoints: cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
        proxies: [],
      };
      const urls = () => ep.endpoints.map((e) => `http://${e.host}:${e.port}`);
      const index = (lane) => `demo-writes-${lane}`;
      const bulkOps = (lane, id) =>
        Array.from({ length: bulkParts }, (_, part) => [
          { index: { _index: index(lane) } },
          { wid: id, lane, part },
        ]).flat();
      // The `_bulk` fault makes every write a bulk of `bulkParts` documents (set before the load starts).
      let bulk = false;
      return {
        async expose(viaProxy) {
          ep = await maybeProxies(viaProxy, ep.endpoints);
        },
        rawClient: () => new Client({ nodes: urls() }),
        closeRaw: (c) => c.close(),
        reconnectOptions: () => ({
          driverPackage: '@reconnect/driver-elasticsearch',
          options: { nodes: urls() },
        }),
        read: scen.read,
        async write(client, lane, id) {
          if (!bulk) return scen.write(client, lane, id);
          const res = await client.bulk({ operations: bulkOps(lane, id) });
          const failed = res.items.filter((i) => (i.index?.status ?? 500) >= 300).length;
          if (res.errors) throw bulkFailure('BULK_ITEMS_FAILED', failed, failed < bulkParts);
          return res;
        },
        serverWrites: async (lane) =>
          bulk ? bulkWriteIds(cluster.documents(index(lane))) : scen.serverWrites(lane),
        keyed: {
          options: (o) => ({ ...o, clientIds: true }),
          async write(target, lane, id) {
            const requests = elasticsearchRequests(target);
            if (!bulk) return requests.index({ index: index(lane), document: { wid: id, lane } });
            const res = await requests.bulk(bulkOps(lane, id));
            const left = res.items.filter((i) => i.outcome !== 'applied' && i.outcome !== 'already_applied');
            if (left.length > 0)
              throw bulkFailure(
                `BULK_${left[0].outcome.toUpperCase()}`,
                left.length,
                left.some((i) => i.outcome === 'unknown') || left.length < bulkParts,
              );
            return res;
          },
          note: 'clientIds: an id made before the first attempt, create semantics',
        },
        fault(name, t) {
          if (name === 'crash') return { start: () => cluster.kill(), end: () => cluster.restart() };
          if (name === 'hang') return { start: () => cluster.hang(), end: () => cluster.resume() };
          if (name === 'blackhole') return blackhole(ep.proxies);
          if (name === 'restart-loop')
            return restartLoop(
              () => cluster.kill(),
              () => cluster.restart(),
              t,
            );
          if (name === 'node-down') {
            const n1 = cluster.nodes[0];
            return { start: () => n1.kill(), end: () => n1.restart() };
          }
          if (name === 'es-bulk-node-leaves') bulk = true;
          return catalogueFault('elasticsearch', cluster, ep.proxies, name, t);
        },
        async stop() {
          await closeExposed(ep);
          await scen.teardown();
        },
      };
    },
  };
}

/** A master, a replica and a Sentinel (quorum 1) watching them, for the catalogue's Sentinel faults. */
async function startSentinelSet() {
  // Redis 7 delays a diskless full sync by 5 s (repl-diskless-sync-delay): without it the replica holds nothing yet.
  // The replica too: promoted by the failover, it serves the old master's full resync once Sentinel turns the old
  // master into its replica, and until then the new master has no replica to confirm a write (the `durable`
  // contender's writes fail NOT_REPLICATED meanwhile). One replica on purpose: with two, WAIT 1 on the old master is
  // confirmed by the replica that is not promoted, and those writes are lost all the same (measured: 19).
  const master = await startRedis({ persistence: 'aof', args: ['--repl-diskless-sync-delay', '0'] });
  const replica = await startRedis({
    persistence: 'aof',
    args: ['--replicaof', '127.0.0.1', String(master.port), '--repl-diskless-sync-delay', '0'],
  });
  for (let waited = 0; ; waited += 100) {
    const a = await openRedisAdmin({ host: replica.host, port: replica.port });
    const info = await a.run(['INFO', 'replication']).finally(() => a.close());
    if (info.includes('master_link_status:up')) break;
    if (waited > 20_000) throw new Error('the replica did not sync within 20 s');
    await sleep(100);
  }
  const sentinel = await startRedisSentinel({ masterPort: master.port, quorum: 1 });
  // The Sentinel learns the replica from the master's INFO, and its link state from the replica's (every 10 s at
  // first): wait until it names one in sync, or a failover has nowhere to go.
  for (let waited = 0; ; waited += 200) {
    const a = await openRedisAdmin({ host: sentinel.host, port: sentinel.port });
    const replicas = await a.run(['SENTINEL', 'REPLICAS', 'mymaster']).finally(() => a.close());
    // Its view of the replica must show the link up too, or SENTINEL FAILOVER answers NOGOODSLAVE.
    if (replicas.includes(String(replica.port)) && /flags\nslave\n[^]*master-link-status\nok/.test(replicas))
      break;
    if (waited > 20_000) throw new Error('the Sentinel did not learn the replica within 20 s');
    await sleep(200);
  }
  return { master, replica, sentinel, servers: [master, replica] };
}

/** @returns {BenchStore} */
function redisSentinelStore() {
  const faults = faultCatalogue.filter((f) => f.viaSentinel).map((f) => f.name);
  return {
    key: 'redis-sentinel',
    title: 'Redis under Sentinel (master + replica)',
    preset: 'redis',
    rawName: 'ioredis (sentinel)',
    // Has a replica to confirm writes (the `durable` contender: waitForReplicas).
    replicated: true,
    faults: [],
    matrixFaults: faults,
    async start() {
      const set = await startSentinelSet();
      const sentinels = [{ host: set.sentinel.host, port: set.sentinel.port }];
      const key = (lane) => `demo:writes:${lane}`;
      return {
        expose: async () => {},
        rawClient() {
          const client = new Redis({ sentinels, name: 'mymaster' });
          client.on('error', () => {});
          return client;
        },
        closeRaw: async (c) => c.disconnect(),
        reconnectOptions: () => ({
          driverPackage: '@reconnect/driver-redis',
          options: { sentinels: sentinels.map((s) => `${s.host}:${s.port}`), name: 'mymaster' },
        }),
        read: (client) => client.get('demo:key'),
        write: (client, lane, id) => client.rpush(key(lane), id),
        // Counted on the master Sentinel names at the end (the promoted replica after a failover).
        async serverWrites(lane) {
          const client = new Redis({ sentinels, name: 'mymaster', lazyConnect: true });
          client.on('error', () => {});
          try {
            await client.connect();
            return await client.lrange(key(lane), 0, -1);
          } finally {
            client.disconnect();
          }
        },
        keyed: {
          write: (target, lane, id) =>
            redisCommands(target).callOnce(`${lane}:${id}`, 'RPUSH', key(lane), id),
          note: 'callOnce (guard key and RPUSH in one script)',
        },
        fault: (name, t) => catalogueFault('redis', set.master, [], name, t, undefined, [], set.sentinel),
        async stop() {
          await Promise.allSettled([set.sentinel, ...set.servers].map((s) => s.stop()));
        },
      };
    },
  };
}

/** Every store, in table order. */
export const stores = {
  redis: redisStore(),
  mysql: mysqlStore(),
  elasticsearch: elasticsearchStore(),
  // The Sentinel faults, on a replicated Redis under Sentinel (matrix only).
  'redis-sentinel': redisSentinelStore(),
  // The TLS certificate faults, on TLS servers of their own (matrix only).
  ...tlsStores({ maybeProxies, catalogueFault, faultNames: tlsFaultNames }),
};
