import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../cleanup/temp-dir.js';
import { findBinary } from './binaries.js';

// Throwaway certificates for TLS servers, made with the `openssl` command line in a temporary directory: one
// good server certificate and the three ways a certificate goes wrong in production (signed by a CA the client
// does not trust, expired, issued for another host), plus the rarer ones a client's verification names apart: a
// chain through an intermediate CA, a certificate not valid yet, one whose signature was altered, and one the CA
// revoked (with the CA's CRL).

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
  /** An intermediate CA signed by the CA (`cert` is its certificate alone). */
  readonly intermediate: CertificatePair;
  /**
   * For `127.0.0.1` and `localhost`, signed by {@link intermediate}: `cert` (and `certFile`) is the chain a server
   * presents, this certificate followed by the intermediate's.
   */
  readonly chained: CertificatePair;
  /** The same names and CA, valid from tomorrow (its notBefore is a day ahead). */
  readonly notYetValid: CertificatePair;
  /** The good certificate with one bit of its signature flipped (its key is the good one's). */
  readonly badSignature: CertificatePair;
  /** The same names and CA, revoked: listed in {@link crl}. */
  readonly revoked: CertificatePair;
  /** The CA's certificate revocation list (PEM), listing {@link revoked}; a client checks it when given as `crl`. */
  readonly crl: string;
  /** The same names and CA, but for TLS clients only (extendedKeyUsage clientAuth): no server certificate. */
  readonly clientOnly: CertificatePair;
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
  // `extensions` in place of the subjectAltName line: an intermediate CA's.
  const leaf = (
    name: string,
    issuer: string,
    names: string,
    days: number,
    extensions?: string,
  ): CertificatePair => {
    writeFileSync(join(dir, `${name}.ext`), extensions ?? `subjectAltName=${names}\n`);
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
  const good = leaf('good', 'ca', local, 30);
  const expired = leaf('expired', 'ca', local, -1);
  const wrongHost = leaf('wrong-host', 'ca', 'DNS:wrong-host.invalid', 30);
  const wrongCa = leaf('wrong-ca', 'other-ca', local, 30);
  const intermediate = leaf(
    'intermediate',
    'ca',
    '',
    30,
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n',
  );
  const chainedLeaf = leaf('chained', 'intermediate', local, 30);
  const clientOnly = leaf(
    'client-only',
    'ca',
    local,
    30,
    `subjectAltName=${local}\nextendedKeyUsage=clientAuth\n`,
  );
  const chainFile = join(dir, 'chained-chain.crt');
  writeFileSync(chainFile, chainedLeaf.cert + intermediate.cert);
  const chained = { ...chainedLeaf, certFile: chainFile, cert: chainedLeaf.cert + intermediate.cert };
  // `openssl x509` (3.0) cannot set notBefore; `openssl ca` can, and keeps the database a CRL is made from.
  const database = caDatabase(dir);
  const caIssued = (name: string, start: Date, end: Date): CertificatePair => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${local}\n`);
    run(['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    run([
      'ca',
      ...['-batch', '-notext', '-config', database, '-in', `${name}.csr`, '-out', `${name}.crt`],
      ...['-startdate', asn1Time(start), '-enddate', asn1Time(end), '-extfile', `${name}.ext`],
    ]);
    const certFile = join(dir, `${name}.crt`);
    return { certFile, keyFile: join(dir, `${name}.key`), cert: readFileSync(certFile, 'utf8') };
  };
  const day = 86_400_000;
  const notYetValid = caIssued('not-yet-valid', new Date(Date.now() + day), new Date(Date.now() + 30 * day));
  const revoked = caIssued('revoked', new Date(Date.now() - day), new Date(Date.now() + 30 * day));
  run(['ca', '-batch', '-config', database, '-revoke', 'revoked.crt']);
  run(['ca', '-batch', '-config', database, '-gencrl', '-out', 'ca.crl']);
  // The last byte of the DER is the end of the signature's last integer: flipping a bit keeps the encoding valid.
  const der = execFileSync(openssl, ['x509', '-in', good.certFile, '-outform', 'DER'], { stdio: 'pipe' });
  der.writeUInt8(der.readUInt8(der.length - 1) ^ 1, der.length - 1);
  const badSignatureFile = join(dir, 'bad-signature.crt');
  writeFileSync(badSignatureFile, toPem(der));
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    caFile: join(dir, 'ca.crt'),
    good,
    expired,
    wrongHost,
    wrongCa,
    intermediate,
    chained,
    notYetValid,
    badSignature: {
      certFile: badSignatureFile,
      keyFile: good.keyFile,
      cert: readFileSync(badSignatureFile, 'utf8'),
    },
    revoked,
    crl: readFileSync(join(dir, 'ca.crl'), 'utf8'),
    clientOnly,
    remove: () => removeDir(dir),
  };
}

/** `openssl ca`'s configuration and database for the test CA, in `dir`; returns the configuration's path. */
function caDatabase(dir: string): string {
  mkdirSync(join(dir, 'ca-db'));
  writeFileSync(join(dir, 'ca-db', 'index.txt'), '');
  writeFileSync(join(dir, 'ca-db', 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca-db', 'crlnumber'), '1000\n');
  const config = join(dir, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      'database = ca-db/index.txt',
      'serial = ca-db/serial',
      'crlnumber = ca-db/crlnumber',
      'new_certs_dir = ca-db',
      'certificate = ca.crt',
      'private_key = ca.key',
      'default_md = sha256',
      'default_crl_days = 30',
      'policy = any',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  return config;
}

/** `YYYYMMDDHHMMSSZ`, the time format of `openssl ca -startdate`. */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
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
