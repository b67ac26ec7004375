import type { SwitchableHost } from '../net/switchable-host.js';
import { both, type CatalogueFault, type FaultEnv } from './fault.js';

// Faults of name resolution: the client connects to a host name (served by the in-process test resolver,
// `startSwitchableHost`) and the name's answer changes under it.

function needHost(env: FaultEnv, name: string): SwitchableHost {
  if (env.host === undefined)
    throw new Error(`fault "${name}" needs the client to connect to env.host.name (startSwitchableHost)`);
  return env.host;
}

export const dnsFaults: readonly CatalogueFault[] = [
  {
    name: 'dns-switch',
    group: 'connections',
    title: 'DNS: the host name moves to another address',
    description:
      'The host name the client connects to starts resolving to another address (the same server behind it), and the old address goes away for good: its open connections are reset and it refuses new ones. A client that resolves the name again when it reconnects lands on the new address; one that kept the old address never reconnects.',
    stores: both,
    viaProxy: false,
    viaHostname: true,
    async start(env) {
      const host = needHost(env, 'dns-switch');
      const from = host.current;
      const to = from === 0 ? 1 : 0;
      const before = host.proxies[to].stats().accepted;
      await host.switchTo(to);
      await host.proxies[from].refuse();
      return {
        // Connections the new address accepted: 0 means no client followed the name.
        acted: () => host.proxies[to].stats().accepted - before,
        // The old address stays gone (healing it would let a client that never re-resolves recover too);
        // the server itself was never touched.
        heal: () => Promise.resolve(),
      };
    },
  },
];
