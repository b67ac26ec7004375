import type { SwitchableHost } from '../net/switchable-host.js';
import type { FaultProxy } from '../proxy/fault-proxy.js';
import type { ServerHandle } from '../servers/server-handle.js';
import { openMariaDBAdmin, openRedisAdmin, type AdminSession } from './admin.js';

// The fault catalogue's parts: what a fault is, and the helpers its entries share. The catalogue: the ways production servers and networks fail, each a named function that a driver's tests
// (or a benchmark) apply to a throwaway server or to the fault proxy in front of it, and heal. Each one is
// bounded in time and leaves the server as it found it after heal().

/** The stores the catalogue knows how to hurt. */
export type FaultStore = 'redis' | 'mariadb' | 'elasticsearch';

/** The groups of the fault matrix. */
export type FaultGroup = 'process' | 'network' | 'connections' | 'security' | 'store' | 'client';

/** What a fault is applied to. */
export interface FaultEnv {
  readonly store: FaultStore;
  /**
   * The throwaway server (its `host`/`port` are where admin sessions connect, bypassing the proxy); for
   * `elasticsearch`, the test cluster (`startElasticsearchCluster`).
   */
  readonly server: ServerHandle;
  /** The fault proxy the client connects through; required by faults with `viaProxy`. */
  readonly proxy?: FaultProxy;
  /**
   * Redis: a Sentinel monitoring `server` as `mymaster` (`startRedisSentinel`), which the client asks for the
   * master; required by faults with `viaSentinel`.
   */
  readonly sentinel?: ServerHandle;
  /** The host name the client connects to (`startSwitchableHost`); required by faults with `viaHostname`. */
  readonly host?: SwitchableHost;
  /** How long the fault lasts, for faults that act over time (flapping, a busy script). */
  readonly durationMs: number;
  /**
   * MariaDB: the account the clients connect as, when it is not root. `password-rotated` rotates its password
   * (root's otherwise); `readonly` needs one, since root bypasses `read_only`.
   */
  readonly account?: { readonly user: string; readonly password: string };
}

/** A fault in progress. */
export interface ActiveFault {
  /** Ends the fault and restores the server (idempotent). */
  heal(): Promise<void>;
  /**
   * How often the fault acted on the server so far (connections killed), for a fault whose effect a client may
   * not see: a test that asserts nothing else can at least assert the fault happened.
   */
  readonly acted?: () => number;
}

/** One entry of the catalogue. */
export interface CatalogueFault {
  readonly name: string;
  readonly group: FaultGroup;
  /** A short title for tables. */
  readonly title: string;
  /** What happens, in a sentence. */
  readonly description: string;
  readonly stores: readonly FaultStore[];
  /** The client must connect through `env.proxy`. */
  readonly viaProxy: boolean;
  /** The client must find the master through `env.sentinel` (a replicated Redis under Sentinel). */
  readonly viaSentinel?: boolean;
  /** The client must connect to `env.host.name` (a name the test resolver serves), not to an address. */
  readonly viaHostname?: boolean;
  start(env: FaultEnv): Promise<ActiveFault>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Repeats `act` every `everyMs` until healed; heal waits for the act in progress. */
export function repeating(
  everyMs: number,
  act: () => Promise<number | void> | number | void,
  restore?: () => Promise<void> | void,
): Promise<ActiveFault> {
  let stopped = false;
  // What the acts say they did (connections killed), summed.
  let acted = 0;
  const loop = (async () => {
    while (!stopped) {
      acted += (await act()) ?? 0;
      await sleep(everyMs);
    }
  })().catch(() => {});
  return Promise.resolve({
    acted: () => acted,
    heal: async () => {
      if (stopped) return;
      stopped = true;
      await loop;
      await restore?.();
    },
  });
}

export function needProxy(env: FaultEnv, name: string): FaultProxy {
  if (env.proxy === undefined)
    throw new Error(`fault "${name}" needs the client to connect through env.proxy`);
  return env.proxy;
}

export const admin = (env: FaultEnv): Promise<AdminSession> => {
  const address = env.server as ServerHandle & { options?: { password?: string } };
  return env.store === 'redis'
    ? openRedisAdmin({
        host: env.server.host,
        port: env.server.port,
        ...(address.options?.password === undefined ? {} : { password: address.options.password }),
      })
    : openMariaDBAdmin({ host: env.server.host, port: env.server.port });
};

/** Opens an admin session, applies `start`; heal runs `end` on the same session and closes it. */
export async function withAdmin(
  env: FaultEnv,
  start: (a: AdminSession) => Promise<ActiveFault | void>,
  end?: (a: AdminSession) => Promise<void>,
): Promise<ActiveFault> {
  const a = await admin(env);
  let inner: ActiveFault | void;
  try {
    inner = await start(a);
  } catch (error) {
    await a.close();
    throw error;
  }
  let healed = false;
  const acted = inner?.acted;
  return {
    ...(acted === undefined ? {} : { acted }),
    heal: async () => {
      if (healed) return;
      healed = true;
      try {
        await inner?.heal();
        await end?.(a);
      } finally {
        await a.close();
      }
    },
  };
}

/** Kills every client connection but the admin's own; resolves to how many were killed. */
export async function killClients(env: FaultEnv, a: AdminSession, filter = ''): Promise<number> {
  if (env.store === 'redis') {
    const killed = await a.run('CLIENT KILL TYPE normal SKIPME yes').catch(() => '0');
    return Number(killed) || 0;
  }
  const ids = await a.run(
    `SELECT GROUP_CONCAT(id) FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND command NOT IN ('Daemon', 'Binlog Dump') AND user <> 'system user' ${filter}`,
  );
  let killed = 0;
  for (const id of ids.split(',').filter((x) => /^\d+$/.test(x)))
    if (
      await a.run(`KILL CONNECTION ${id}`).then(
        () => true,
        () => false,
      )
    )
      killed++;
  return killed;
}

/** Both stores. */
export const both: readonly FaultStore[] = ['redis', 'mariadb'];
