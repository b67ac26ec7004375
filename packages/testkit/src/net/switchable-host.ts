import { startFaultProxy, type FaultProxy } from '../proxy/fault-proxy.js';
import { installTestResolver } from './test-resolver.js';

// A host name in front of a server that a test can move to another address, as a DNS change does (a failover
// that updates a record, a service moved to a new machine). The name resolves, through the in-process test
// resolver, to one of two loopback addresses; a fault proxy listens on each, at the same port (DNS changes
// the address, not the port), both forwarding to the server — so the data stays where the writes are counted,
// and the proxies count which address each connection went to.

/** The two addresses a switchable host moves between (Linux serves all of 127.0.0.0/8 on the loopback). */
export const switchableAddresses = ['127.0.0.2', '127.0.0.3'] as const;

/** A name that resolves to one of two proxies in front of the same server. */
export interface SwitchableHost {
  /** The name clients are configured with, e.g. `db-1.test` (`.test` is reserved for testing, RFC 2606). */
  readonly name: string;
  /** The port, the same at both addresses. */
  readonly port: number;
  /** The proxies at `switchableAddresses[0]` and `[1]`. */
  readonly proxies: readonly [FaultProxy, FaultProxy];
  /** Which address the name resolves to now. */
  readonly current: 0 | 1;
  /** The name resolves to address `to` from the next lookup on (its proxy listens again if it was refusing). */
  switchTo(to: 0 | 1): Promise<void>;
  /** How many lookups of the name were answered: a client that re-resolves on each connection raises it. */
  lookups(): number;
  /** Closes both proxies and stops serving the name. Idempotent. */
  close(): Promise<void>;
}

let hostCount = 0;

/** Two proxies at the same port on two loopback addresses, one free port found for both (a few tries). */
async function proxyPair(target: { host: string; port: number }): Promise<[FaultProxy, FaultProxy]> {
  for (let attempt = 1; ; attempt++) {
    const a = await startFaultProxy({ target, listenHost: switchableAddresses[0] });
    try {
      const b = await startFaultProxy({ target, listenHost: switchableAddresses[1], listenPort: a.port });
      return [a, b];
    } catch (error) {
      await a.close();
      // Something else holds the port on the second address: pick another.
      if (attempt >= 5 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
}

/** Starts a switchable host in front of `target`, resolving to the first address. */
export async function startSwitchableHost(options: {
  target: { host: string; port: number };
  /** The name (default `db-<n>-<pid>.test`, unique in the process). */
  name?: string;
}): Promise<SwitchableHost> {
  const name = options.name ?? `db-${++hostCount}-${process.pid}.test`;
  const proxies = await proxyPair(options.target);
  const resolver = installTestResolver();
  resolver.set(name, proxies[0].host);
  let current: 0 | 1 = 0;
  let closed = false;
  return {
    name,
    port: proxies[0].port,
    proxies,
    get current() {
      return current;
    },
    async switchTo(to) {
      if (proxies[to].mode === 'refuse') await proxies[to].pass();
      current = to;
      resolver.set(name, proxies[to].host);
    },
    lookups: () => resolver.lookups(name),
    async close() {
      if (closed) return;
      closed = true;
      resolver.uninstall();
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}
