import type { ServerHandle } from '../servers/server-handle.js';
import type { AdminSession } from './admin.js';
import { admin, both, killClients, needProxy, repeating, withAdmin, type CatalogueFault } from './fault.js';

/** Faults the server itself causes: its connections, its security, its state, and one of the client process. */
export const serverFaults: readonly CatalogueFault[] = [
  {
    name: 'idle-cut',
    group: 'connections',
    title: 'idle connections cut by the server',
    description:
      'The server closes connections idle for 1 s (Redis `timeout 1`; MariaDB: connections asleep for 1 s are killed, as `wait_timeout` does).',
    stores: both,
    viaProxy: false,
    start: (env) =>
      env.store === 'redis'
        ? withAdmin(
            env,
            async (a) => {
              await a.run('CONFIG SET timeout 1');
              // The fault's own session must not be the idle one the server cuts.
              return repeating(300, async () => void (await a.run('PING')));
            },
            async (a) => {
              await a.run('CONFIG SET timeout 0');
            },
          )
        : withAdmin(env, (a) =>
            repeating(300, () => killClients(env, a, "AND command = 'Sleep' AND time >= 1")),
          ),
  },
  {
    name: 'idle-drop',
    group: 'connections',
    title: 'idle connections dropped by a middlebox (no FIN)',
    description:
      'A NAT or load balancer forgets connections idle for 1 s: from then on nothing they send goes anywhere, and neither side gets a FIN or an RST; new and busy connections pass. Heal resets the dropped ones (the next packet of a forgotten flow is refused).',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'idle-drop');
      const before = p.stats().dropped;
      p.dropIdle(1000);
      return Promise.resolve({
        // The connections it dropped (a steady load may leave none idle long enough).
        acted: () => Math.max(0, p.stats().dropped - before),
        heal: () => Promise.resolve(p.dropIdle(0)),
      });
    },
  },
  {
    name: 'kill-connections',
    group: 'connections',
    title: 'server-side kill of busy connections',
    description:
      'Every client connection is killed by the server every second (`CLIENT KILL TYPE normal`, `KILL CONNECTION`).',
    stores: both,
    viaProxy: false,
    start: (env) => withAdmin(env, (a) => repeating(1000, () => killClients(env, a))),
  },
  {
    name: 'max-connections',
    group: 'connections',
    title: 'max connections reached',
    description:
      "Every connection slot is taken (Redis `maxclients 1`, held by the fault's session; MariaDB `max_connections` at its minimum of 10, filled by the fault's sessions) and the clients' connections are killed: reconnects meet \"max number of clients reached\" / 1040 until the slots free.",
    stores: both,
    viaProxy: false,
    start: (env) =>
      withAdmin(env, async (a) => {
        if (env.store === 'redis') {
          const before = (await a.run('CONFIG GET maxclients')).split('\n')[1] ?? '10000';
          await a.run('CONFIG SET maxclients 1');
          await killClients(env, a);
          return { heal: async () => void (await a.run(`CONFIG SET maxclients ${before}`)) };
        }
        const before = await a.run('SELECT @@global.max_connections');
        await a.run('SET GLOBAL max_connections = 10');
        await killClients(env, a);
        // Fill every slot (and the one a privileged account may take beyond them) with sessions of our own.
        const fillers: AdminSession[] = [];
        for (let i = 0; i < 12; i++) {
          const session = await admin(env).catch(() => undefined);
          if (session === undefined) break;
          fillers.push(session);
        }
        return {
          heal: async () => {
            await a.run(`SET GLOBAL max_connections = ${Number(before)}`);
            await Promise.all(fillers.map((f) => f.close()));
          },
        };
      }),
  },
  {
    name: 'password-rotated',
    group: 'security',
    title: 'password rotated on the server',
    description:
      "The account's password is changed on the server (Redis `requirepass`; MariaDB `SET PASSWORD` for `env.account`, root's without one) and its connections killed: reconnects are refused (WRONGPASS / NOAUTH, 1045) until it is changed back.",
    stores: both,
    viaProxy: false,
    start: (env) => {
      const who = env.account === undefined ? '' : ` FOR '${env.account.user}'@'%'`;
      const old = env.account?.password ?? '';
      return withAdmin(
        env,
        async (a) => {
          await a.run(
            env.store === 'redis'
              ? ['CONFIG', 'SET', 'requirepass', 'rotated-secret']
              : `SET PASSWORD${who} = PASSWORD('rotated-secret')`,
          );
          await killClients(env, a);
        },
        async (a) => {
          await a.run(
            env.store === 'redis'
              ? ['CONFIG', 'SET', 'requirepass', '']
              : `SET PASSWORD${who} = PASSWORD('${old.replace(/'/g, "''")}')`,
          );
        },
      );
    },
  },
  {
    name: 'readonly',
    group: 'store',
    title: 'primary demoted to read-only',
    description:
      'Redis: `REPLICAOF` an unreachable primary — writes answer READONLY, reads are served (a failover that left the client on a replica). MariaDB: `read_only=ON` on the primary — writes of an account without `READ_ONLY ADMIN` (`env.account`; root bypasses it) fail with 1290, reads are served.',
    stores: both,
    viaProxy: false,
    start: (env) =>
      withAdmin(
        env,
        async (a) => {
          await a.run(env.store === 'redis' ? 'REPLICAOF 127.0.0.1 1' : 'SET GLOBAL read_only = ON');
        },
        async (a) => {
          await a.run(env.store === 'redis' ? 'REPLICAOF NO ONE' : 'SET GLOBAL read_only = OFF');
        },
      ),
  },
  {
    name: 'oom',
    group: 'store',
    title: 'out of memory (OOM)',
    description: 'Redis: `maxmemory 1` with `noeviction` — every write answers OOM, reads are served.',
    stores: ['redis'],
    viaProxy: false,
    start: (env) =>
      withAdmin(
        env,
        async (a) => {
          await a.run('CONFIG SET maxmemory-policy noeviction');
          await a.run('CONFIG SET maxmemory 1');
        },
        async (a) => {
          await a.run('CONFIG SET maxmemory 0');
        },
      ),
  },
  {
    name: 'busy-script',
    group: 'store',
    title: 'BUSY (a long script)',
    description:
      'Redis: a Lua script loops for the whole fault; after 100 ms (`busy-reply-threshold`) every other command answers BUSY.',
    stores: ['redis'],
    viaProxy: false,
    start: (env) =>
      withAdmin(
        env,
        async (a) => {
          await a.run('CONFIG SET busy-reply-threshold 100');
          const looper = await admin(env);
          const seconds = Math.max(1, Math.round(env.durationMs / 1000));
          const script = `local s = redis.call('TIME')[1] while redis.call('TIME')[1] - s < ${seconds} do end return 1`;
          const ran = looper.run(['EVAL', script, '0'], env.durationMs + 10_000).catch(() => '');
          return {
            heal: async () => {
              await a.run('SCRIPT KILL').catch(() => '');
              await ran;
              await looper.close();
            },
          };
        },
        async (a) => {
          await a.run('CONFIG SET busy-reply-threshold 5000');
        },
      ),
  },
  {
    name: 'table-locked',
    group: 'store',
    title: 'lock wait (a table locked)',
    description:
      "MariaDB: another session holds `LOCK TABLES … WRITE` on the workload's table for the fault: its statements wait for the lock (a migration, a long transaction).",
    stores: ['mariadb'],
    viaProxy: false,
    start: (env) =>
      withAdmin(
        env,
        async (a) => {
          const database = (env.server as ServerHandle & { options?: { database?: string } }).options
            ?.database;
          const tables = await a.run(
            `SELECT GROUP_CONCAT(CONCAT(table_schema, '.', table_name, ' WRITE')) FROM information_schema.tables WHERE table_schema = '${database ?? 'test'}'`,
          );
          if (tables !== 'NULL' && tables !== '') await a.run(`LOCK TABLES ${tables}`);
        },
        async (a) => {
          await a.run('UNLOCK TABLES');
        },
      ),
  },
  {
    name: 'event-loop-stall',
    group: 'client',
    title: 'client event-loop stall (1.5 s)',
    description:
      "The client's own process blocks its event loop for 1.5 s (a synchronous job, a long GC): its timers fire late and all at once.",
    stores: both,
    viaProxy: false,
    start() {
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        // A synchronous job: nothing else runs in this process meanwhile.
      }
      return Promise.resolve({ heal: () => Promise.resolve() });
    },
  },
  {
    name: 'clock-jump',
    group: 'client',
    title: 'client wall clock jumps an hour ahead, then back',
    description:
      "The client process's wall clock (`Date.now`) jumps an hour ahead for the fault and back at its end (an NTP step, a VM resumed, a container restored): code that times by the wall clock sees an hour pass at once, then time run backwards. The monotonic clock (`performance.now`) is untouched.",
    stores: both,
    viaProxy: false,
    start() {
      return Promise.resolve(jumpWallClock(clockJumpMs));
    },
  },
];

/** How far `clock-jump` moves the wall clock. */
export const clockJumpMs = 3_600_000;

/** Moves this process's `Date.now` by `offsetMs` until healed (once; a second heal does nothing). */
export function jumpWallClock(offsetMs: number): { heal: () => Promise<void> } {
  const real = Date.now;
  Date.now = () => real.call(Date) + offsetMs;
  return {
    heal: () => {
      if (Date.now !== real) Date.now = real;
      return Promise.resolve();
    },
  };
}
