import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../cleanup/temp-dir.js';
import { findBinary } from './binaries.js';

// Throwaway certificates for TLS servers, made with the `openssl` command line in a temporary directory: one
// good server certificate and the three ways a certificate goes wrong in production (signed by a CA the client
// does not trust, expired, issued for another host).

/** A certificate and its private key, as files (and the certificate as PEM). */
export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
}

/** What {@link makeTestCertificates} makes. */
export interface TestCertificates {
  readonly dir: string;
  /** The CA clients trust, as PEM (pass it as `ca`) and as a file. */
  readonly ca: string;
  readonly caFile: string;
  /** For `127.0.0.1` and `localhost`, signed by the CA, valid for 30 days. */
  readonly good: CertificatePair;
  /** The same names and CA, expired since yesterday. */
  readonly expired: CertificatePair;
  /** Signed by the CA and valid, but for `wrong-host.invalid` only (a hostname mismatch). */
  readonly wrongHost: CertificatePair;
  /** The same names, signed by another CA that clients do not trust. */
  readonly wrongCa: CertificatePair;
  /** Removes the directory (servers keep copies of what they present; the testkit's root is swept at exit too). */
  remove(): void;
}

/** Which certificate a TLS server presents: one of {@link TestCertificates}' pairs. */
export type CertificateName = 'good' | 'expired' | 'wrongHost' | 'wrongCa';

/** A server's TLS: the port it is served on, the certificates, and the files it reads its own from. */
export interface ServerTls {
  /** Where TLS clients connect (Redis: its `--tls-port`; MariaDB: its one port). */
  readonly port: number;
  readonly certificates: TestCertificates;
  /** The certificate and key the server presents: {@link serveCertificate} overwrites them. */
  readonly certFile: string;
  readonly keyFile: string;
}

const opensslBinary = {
  name: 'openssl',
  debianPackage: 'openssl',
  extraDirs: ['/usr/bin', '/usr/local/bin'],
};

/** Makes a CA, a second CA, and the four server certificates (EC P-256 keys, so it takes well under a second). */
export function makeTestCertificates(): TestCertificates {
  const openssl = findBinary(opensslBinary);
  const dir = makeTempDir('tls');
  const run = (args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string, cn: string) =>
    run([
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '30',
      '-subj',
      `/CN=${cn}`,
    ]);
  ca('ca', 'Reconnect test CA');
  ca('other-ca', 'Another CA');
  const leaf = (name: string, issuer: string, names: string, days: number): CertificatePair => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${names}\n`);
    run(['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    // A negative -days puts notAfter before now: an expired certificate.
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.crt`,
      '-CAkey',
      `${issuer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    ]);
    const certFile = join(dir, `${name}.crt`);
    return { certFile, keyFile: join(dir, `${name}.key`), cert: readFileSync(certFile, 'utf8') };
  };
  const local = 'IP:127.0.0.1,DNS:localhost';
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    caFile: join(dir, 'ca.crt'),
    good: leaf('good', 'ca', local, 30),
    expired: leaf('expired', 'ca', local, -1),
    wrongHost: leaf('wrong-host', 'ca', 'DNS:wrong-host.invalid', 30),
    wrongCa: leaf('wrong-ca', 'other-ca', local, 30),
    remove: () => removeDir(dir),
  };
}

/** The files a server presents (first a copy of the good pair) and the CA it trusts, in its own directory. */
export function servedCertificateFiles(
  serverDir: string,
  certificates: TestCertificates,
): { certFile: string; keyFile: string; caFile: string } {
  const files = {
    certFile: join(serverDir, 'served.crt'),
    keyFile: join(serverDir, 'served.key'),
    caFile: join(serverDir, 'ca.crt'),
  };
  copyFileSync(certificates.good.certFile, files.certFile);
  copyFileSync(certificates.good.keyFile, files.keyFile);
  copyFileSync(certificates.caFile, files.caFile);
  return files;
}

/** Overwrites the certificate and key a server presents (it reads them again when told: see the TLS faults). */
export function serveCertificate(tls: ServerTls, name: CertificateName): void {
  const pair = tls.certificates[name];
  copyFileSync(pair.certFile, tls.certFile);
  copyFileSync(pair.keyFile, tls.keyFile);
}
