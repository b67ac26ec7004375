import { openRedisAdmin } from './admin.js';
import { sleep, type CatalogueFault, type FaultEnv } from './fault.js';

// Redis under Sentinel: a failover that demotes the master the clients write to (issue #24's `READONLY` after a
// promotion). `env.server` is the master at the start, `env.sentinel` a Sentinel monitoring it as `mymaster`.

const masterName = 'mymaster';

function needSentinel(env: FaultEnv, name: string) {
  if (env.sentinel === undefined)
    throw new Error(`fault "${name}" needs env.sentinel (a Sentinel monitoring env.server as ${masterName})`);
  return env.sentinel;
}

/** One command to a Redis server or Sentinel, on a session of its own. */
async function ask(server: { host: string; port: number }, command: string[]): Promise<string> {
  const a = await openRedisAdmin({ host: server.host, port: server.port });
  try {
    return await a.run(command);
  } finally {
    await a.close();
  }
}

/** The master's port as the Sentinel names it now. */
async function masterPort(sentinel: { host: string; port: number }): Promise<number> {
  const reply = await ask(sentinel, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]);
  return Number(reply.split('\n')[1]);
}

export const sentinelFaults: readonly CatalogueFault[] = [
  {
    name: 'sentinel-failover',
    group: 'store',
    title: 'Sentinel failover (the master demoted)',
    description:
      'Redis under Sentinel: `SENTINEL FAILOVER` promotes the replica and turns the master the clients write to into a replica of it — writes that still reach the old master answer READONLY until the client asks Sentinel again. The new topology stays after heal: heal waits until Sentinel names the new master (`acted()` is 1 once it does) and the old master replicates it (the pair whole again, about 10 s later: until then no write can reach a replica).',
    stores: ['redis'],
    viaProxy: false,
    viaSentinel: true,
    async start(env) {
      const sentinel = needSentinel(env, 'sentinel-failover');
      const before = await masterPort(sentinel);
      // NOGOODSLAVE while the Sentinel has not yet checked the replica on a link of its own: ask again, bounded.
      for (let waited = 0; ; waited += 200) {
        const refused = await ask(sentinel, ['SENTINEL', 'FAILOVER', masterName]).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (refused === undefined) break;
        if (waited >= 5000 || !(refused instanceof Error && refused.message.includes('NOGOODSLAVE')))
          throw refused;
        await sleep(200);
      }
      let moved = 0;
      let healed = false;
      return {
        acted: () => moved,
        heal: async () => {
          if (healed) return;
          healed = true;
          // The promotion takes a moment (the replica is told REPLICAOF NO ONE, the old master follows it).
          for (let waited = 0; waited < 10_000 && moved === 0; waited += 100) {
            if ((await masterPort(sentinel).catch(() => before)) !== before) moved = 1;
            else await sleep(100);
          }
          if (moved === 0) return;
          // The pair is whole again only when the old master replicates the new one: Sentinel reconfigures it on
          // its next check of it (about 10 s). Until then the new master has no replica, and a write that must
          // reach one (WAIT, min-replicas-to-write) cannot succeed: that is still the fault.
          const now = await masterPort(sentinel);
          for (let waited = 0; waited < 20_000; waited += 200) {
            const info = await ask({ host: env.server.host, port: now }, ['INFO', 'replication']).catch(
              () => '',
            );
            if (/connected_slaves:[1-9]/.test(info) && /slave0:.*state=online/.test(info)) return;
            await sleep(200);
          }
        },
      };
    },
  },
];
