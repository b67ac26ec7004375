import { serveCertificate, type CertificateName, type ServerTls } from '../servers/tls.js';
import type { AdminSession } from './admin.js';
import {
  both,
  killClients,
  needProxy,
  withAdmin,
  type ActiveFault,
  type CatalogueFault,
  type FaultEnv,
} from './fault.js';

// TLS certificate faults: the server's certificate is replaced at run time by a bad one (a rotation gone wrong)
// and its clients are disconnected, so every reconnect meets it. The server must have been started with TLS
// (`startRedis({ tls })`, `startMariaDB({ tls })`, certificates from `makeTestCertificates()`).

/** Makes the server read its certificate files again (Redis: setting a tls-* config reloads them). */
async function reload(env: FaultEnv, a: AdminSession, tls: ServerTls): Promise<void> {
  await a.run(env.store === 'redis' ? ['CONFIG', 'SET', 'tls-cert-file', tls.certFile] : 'FLUSH SSL');
}

function serverTls(env: FaultEnv, fault: string): ServerTls {
  const tls = (env.server as { tls?: ServerTls }).tls;
  if (tls === undefined)
    throw new Error(
      `fault "${fault}" needs a server started with TLS: startRedis({ tls }) or startMariaDB({ tls }), tls = makeTestCertificates()`,
    );
  return tls;
}

function certificateFault(
  name: string,
  certificate: CertificateName,
  title: string,
  what: string,
): CatalogueFault {
  return {
    name,
    group: 'security',
    title,
    description: `The server's certificate is replaced by ${what} (Redis: \`CONFIG SET tls-cert-file\` reloads it; MariaDB: \`FLUSH SSL\`) and its clients are disconnected: every TLS handshake fails until heal puts the good certificate back. Through the fault proxy (in front of the TLS port), whose count of connections accepted meanwhile is \`acted()\`: a client that retries into a storm shows there.`,
    stores: both,
    viaProxy: true,
    start: (env: FaultEnv): Promise<ActiveFault> => {
      const tls = serverTls(env, name);
      const proxy = needProxy(env, name);
      return withAdmin(env, async (a) => {
        const before = proxy.stats().accepted;
        serveCertificate(tls, certificate);
        await reload(env, a, tls);
        await killClients(env, a);
        // Counted until heal (a later resetStats() of the proxy must not make it negative).
        let attempts: number | undefined;
        return {
          acted: () => attempts ?? Math.max(0, proxy.stats().accepted - before),
          heal: async () => {
            attempts = Math.max(0, proxy.stats().accepted - before);
            serveCertificate(tls, 'good');
            await reload(env, a, tls);
          },
        };
      });
    },
  };
}

/** The TLS certificate faults. */
export const tlsFaults: readonly CatalogueFault[] = [
  certificateFault(
    'tls-wrong-ca',
    'wrongCa',
    'TLS: certificate from an untrusted CA',
    'one for the same names signed by a CA the clients do not trust (their `ca` is the test CA)',
  ),
  certificateFault(
    'tls-expired',
    'expired',
    'TLS: expired certificate',
    'one for the same names and from the same CA that expired yesterday',
  ),
  certificateFault(
    'tls-wrong-host',
    'wrongHost',
    'TLS: hostname mismatch',
    'a valid one from the same CA issued for another host only (`wrong-host.invalid`)',
  ),
];
