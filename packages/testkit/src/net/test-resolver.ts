import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';

// The test resolver: names a test makes up (`db-1.test`) answered in-process, without /etc/hosts or a DNS
// server. It replaces `dns.lookup` — what `net.connect` and `tls.connect` call when given no `lookup` option —
// so it reaches every client library that connects by host name through them without passing a hook:
// ioredis and mysql2 copy only host and port into `net.connect`, undici calls `net.connect`/`tls.connect` too.
// Names it does not know go to the real `dns.lookup`. One hook per process, shared by every handle.

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

const names = new Map<string, string>();
const lookedUp = new Map<string, number>();
let installs = 0;
let original: typeof dns.lookup | undefined;

/** The address `name` resolves to, counted as a lookup; `undefined` for names the resolver does not serve. */
function answer(name: string): string | undefined {
  const address = names.get(name.toLowerCase());
  if (address !== undefined) lookedUp.set(name.toLowerCase(), (lookedUp.get(name.toLowerCase()) ?? 0) + 1);
  return address;
}

function hookedLookup(hostname: string, ...rest: unknown[]): void {
  const callback = rest.at(-1) as LookupCallback;
  const opts = rest.length > 1 ? rest[0] : undefined;
  const address = typeof hostname === 'string' ? answer(hostname) : undefined;
  if (address === undefined) {
    (original as (...args: unknown[]) => void)(hostname, ...rest);
    return;
  }
  const family = address.includes(':') ? 6 : 4;
  const all = typeof opts === 'object' && opts !== null && (opts as LookupOptions).all === true;
  // Asynchronous, as the real lookup is: callers may attach their listeners after calling connect().
  process.nextTick(() => (all ? callback(null, [{ address, family }]) : callback(null, address, family)));
}

/** The in-process resolver's handle (see {@link installTestResolver}). */
export interface TestResolver {
  /** `name` resolves to `address` (an IP literal) from the next lookup on. */
  set(name: string, address: string): void;
  /** `name` is no longer served (lookups go to the real resolver again). */
  delete(name: string): void;
  /** The address `name` resolves to now, if served. */
  addressOf(name: string): string | undefined;
  /** How many lookups of `name` the resolver answered: a client that re-resolves on reconnect raises it. */
  lookups(name: string): number;
  /** Removes this handle's hold on the hook; the last one restores `dns.lookup`. Idempotent. */
  uninstall(): void;
}

/**
 * Installs the test resolver (once per process, counted): `dns.lookup` answers the names set through the
 * returned handle, so a client configured with `db-1.test` connects wherever the test points that name.
 */
export function installTestResolver(): TestResolver {
  if (installs++ === 0) {
    original = dns.lookup;
    (dns as { lookup: unknown }).lookup = hookedLookup;
  }
  let installed = true;
  const mine = new Set<string>();
  return {
    set(name, address) {
      mine.add(name.toLowerCase());
      names.set(name.toLowerCase(), address);
    },
    delete(name) {
      names.delete(name.toLowerCase());
    },
    addressOf: (name) => names.get(name.toLowerCase()),
    lookups: (name) => lookedUp.get(name.toLowerCase()) ?? 0,
    uninstall() {
      if (!installed) return;
      installed = false;
      for (const name of mine) {
        names.delete(name);
        lookedUp.delete(name);
      }
      if (--installs === 0 && original !== undefined) {
        (dns as { lookup: unknown }).lookup = original;
        original = undefined;
      }
    },
  };
}
