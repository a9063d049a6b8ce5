/**
 * The cluster's private certificate authority and the server's TLS certificate.
 *
 * The CA is created at the server's first start and never replaced automatically: agents pin
 * its fingerprint (carried in the join token), so a silently regenerated CA would cut every
 * node off. The server leaf is cheap and is reissued whenever its SANs no longer cover the
 * server's addresses or it is close to expiry.
 *
 * Layout under `dir/tls/`: ca.crt 0644, ca.key 0600, server.crt 0644, server.key 0600.
 */
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import type { Logger } from '../../core/logger.js';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import { ensureDir, readOptional, writeFileAtomic } from './files.js';

export const CA_VALIDITY_YEARS = 10;
export const LEAF_VALIDITY_YEARS = 2;
/** A leaf closer than this to expiry is reissued at startup rather than reused. */
export const LEAF_RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/**
 * notBefore is backdated: boards without an RTC often run a few minutes behind until NTP
 * catches up, and a certificate "not yet valid" would refuse them.
 */
export const BACKDATE_MS = 24 * 3600 * 1000;
const RSA_BITS = 2048;
/** Dot-separated labels of letters, digits and inner hyphens; an optional trailing dot. */
const DNS_NAME = /^(?=.{1,253}\.?$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export interface ClusterCa {
  caCertPem: string;
  caKeyPem: string;
  /** sha256 of the certificate's DER, lowercase hex without colons. */
  fingerprint: string;
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
}

export interface EnsureCaOptions {
  logger: Logger;
  now?: () => Date;
  /** Subject CN of a newly created CA. */
  commonName?: string;
}

export interface IssueServerCertOptions {
  /** DNS names and IP addresses; localhost, 127.0.0.1, ::1 and the hostname are always added. */
  hosts: string[];
  now?: () => Date;
}

export interface EnsureServerCertOptions extends IssueServerCertOptions {
  logger: Logger;
}

export function tlsDir(dir: string): string {
  return join(dir, 'tls');
}

/** sha256 of the DER, as in node:crypto's fingerprint256 without colons, lowercased. */
export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Loads the cluster CA from `dir/tls/`, creating it on first start. */
export async function ensureClusterCa(dir: string, options: EnsureCaOptions): Promise<ClusterCa> {
  const log = options.logger.child({ component: 'ca' });
  const now = options.now ?? (() => new Date());
  const tls = tlsDir(dir);
  const certPath = join(tls, 'ca.crt');
  const keyPath = join(tls, 'ca.key');
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);

  if (certPem !== undefined) {
    if (keyPem === undefined) {
      // The certificate may already be pinned by nodes: refuse rather than replace it.
      throw new GroveError(ErrorCode.ConfigInvalid, `cluster CA key ${keyPath} is missing (the certificate exists); restore it from a backup`, {
        details: { file: keyPath },
      });
    }
    const ca = validateCa(certPem, keyPem, certPath);
    log.debug({ fingerprint: ca.fingerprint }, 'cluster CA loaded');
    return ca;
  }

  // No certificate: either a first start or a crash between writing the key and the cert. In
  // both cases no node can have pinned this CA yet (the fingerprint is only handed out after
  // this function returns), so creating a fresh one is safe.
  await ensureDir(tls, 0o755);
  const ca = await createCa(now(), options.commonName ?? 'Grove cluster CA');
  await writeFileAtomic(keyPath, ca.caKeyPem, 0o600);
  await writeFileAtomic(certPath, ca.caCertPem, 0o644);
  log.info({ fingerprint: ca.fingerprint, dir: tls }, 'cluster CA created');
  return ca;
}

function validateCa(certPem: string, keyPem: string, certPath: string): ClusterCa {
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.ca) throw new Error('not a CA certificate');
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('the key does not match the certificate');
    return { caCertPem: certPem, caKeyPem: keyPem, fingerprint: certificateFingerprint(certPem) };
  } catch (err) {
    throw new GroveError(ErrorCode.ConfigInvalid, `cluster CA ${certPath} is unusable: ${errorMessage(err)}`, {
      cause: err,
      details: { file: certPath },
    });
  }
}

async function generateRsaKeyPair(): Promise<forge.pki.rsa.KeyPair> {
  // With a callback, forge hands the work to Node's native (off-thread) key generation.
  return new Promise((resolve, reject) => {
    forge.pki.rsa.generateKeyPair({ bits: RSA_BITS }, (err, keys) => (err ? reject(err) : resolve(keys)));
  });
}

/** A positive, minimally encoded 128-bit serial (first byte 0x01..0x7f). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function addYears(date: Date, years: number): Date {
  const d = new Date(date.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

async function createCa(now: Date, commonName: string): Promise<ClusterCa> {
  const keys = await generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = addYears(now, CA_VALIDITY_YEARS);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Grove' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const caCertPem = forge.pki.certificateToPem(cert);
  return { caCertPem, caKeyPem: forge.pki.privateKeyToPem(keys.privateKey), fingerprint: certificateFingerprint(caCertPem) };
}

/** The hosts every server certificate carries, so local tools and the local agent can connect. */
function baseHosts(): string[] {
  const hosts = ['localhost', '127.0.0.1', '::1'];
  // A hostname that is not a valid DNS name (underscores happen) cannot go into a SAN.
  if (DNS_NAME.test(hostname())) hosts.push(hostname());
  return hosts;
}

/**
 * localhost, loopback, the hostname and every non-internal interface address: what agents on
 * the LAN will most likely dial. Link-local IPv6 is left out (it needs a zone id in URLs).
 */
export function defaultServerHosts(): string[] {
  const hosts = baseHosts();
  for (const addrs of Object.values(networkInterfaces())) {
    for (const addr of addrs ?? []) {
      if (addr.internal) continue;
      if (addr.family === 'IPv6' && addr.address.toLowerCase().startsWith('fe80:')) continue;
      hosts.push(addr.address);
    }
  }
  return normalizeHosts(hosts);
}

/** Canonical, de-duplicated host list: lowercase DNS names, canonical IP text. */
function normalizeHosts(hosts: string[]): string[] {
  const out = new Set<string>();
  for (const raw of hosts) out.add(normalizeHost(raw));
  return [...out];
}

function normalizeHost(raw: string): string {
  const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  if (family === 4) return host;
  // The WHATWG URL parser prints IPv6 in canonical compressed form (0:0:…:1 → ::1).
  if (family === 6) return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  if (!DNS_NAME.test(host)) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid host name ${JSON.stringify(raw)} for the server certificate`, {
      details: { host: raw },
    });
  }
  return host.toLowerCase().replace(/\.$/, '');
}

/** Subject alternative names of a certificate, normalized like the hosts we issue for. */
export function certificateHosts(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? '';
  const hosts: string[] = [];
  for (const entry of san.split(', ')) {
    const m = /^(DNS|IP Address):(.+)$/.exec(entry.trim());
    if (m?.[2] !== undefined) hosts.push(normalizeHost(m[2]));
  }
  return hosts;
}

/** Issues a new server certificate signed by the cluster CA (always a fresh key). */
export async function issueServerCert(ca: ClusterCa, options: IssueServerCertOptions): Promise<ServerCertificate> {
  const now = (options.now ?? (() => new Date()))();
  const hosts = normalizeHosts([...options.hosts, ...baseHosts()]);
  const caCert = forge.pki.certificateFromPem(ca.caCertPem);
  const caKey = forge.pki.privateKeyFromPem(ca.caKeyPem);
  const keys = await generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = addYears(now, LEAF_VALIDITY_YEARS);
  cert.setSubject([
    { name: 'commonName', value: hosts.find((h) => isIP(h) === 0 && h !== 'localhost') ?? 'grove-server' },
    { name: 'organizationName', value: 'Grove' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((h) => (isIP(h) === 0 ? { type: 2, value: h } : { type: 7, ip: h })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Why an existing leaf cannot be reused, or undefined when it can. */
export function leafProblem(ca: ClusterCa, leaf: ServerCertificate, hosts: string[], now: Date): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(leaf.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(leaf.keyPem))) return 'key does not match';
  } catch (err) {
    return `unreadable: ${errorMessage(err)}`;
  }
  const caCert = new X509Certificate(ca.caCertPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return 'not issued by the cluster CA';
  if (new Date(cert.validFrom).getTime() > now.getTime()) return 'not yet valid';
  if (new Date(cert.validTo).getTime() - now.getTime() < LEAF_RENEW_BEFORE_MS) return 'expires soon';
  const have = new Set(certificateHosts(leaf.certPem));
  const missing = normalizeHosts([...hosts, ...baseHosts()]).filter((h) => !have.has(h));
  if (missing.length > 0) return `does not cover ${missing.join(', ')}`;
  return undefined;
}

/**
 * The server certificate under `dir/tls/`: reused when it is the CA's, valid for at least
 * another month and covers every host; otherwise issued anew (covering the union of the old
 * SANs and the new hosts, so an address that is briefly down does not drop out).
 */
export async function ensureServerCert(dir: string, ca: ClusterCa, options: EnsureServerCertOptions): Promise<ServerCertificate> {
  const log = options.logger.child({ component: 'ca' });
  const now = options.now ?? (() => new Date());
  const tls = tlsDir(dir);
  const certPath = join(tls, 'server.crt');
  const keyPath = join(tls, 'server.key');
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  let previousHosts: string[] = [];
  if (certPem !== undefined && keyPem !== undefined) {
    const problem = leafProblem(ca, { certPem, keyPem }, options.hosts, now());
    if (problem === undefined) {
      log.debug({ file: certPath }, 'server certificate reused');
      return { certPem, keyPem };
    }
    log.info({ file: certPath, reason: problem }, 'reissuing server certificate');
    try {
      previousHosts = problem === 'not issued by the cluster CA' ? [] : certificateHosts(certPem);
    } catch {
      previousHosts = [];
    }
  }
  const leaf = await issueServerCert(ca, { hosts: [...previousHosts, ...options.hosts], now });
  await ensureDir(tls, 0o755);
  await writeFileAtomic(keyPath, leaf.keyPem, 0o600);
  await writeFileAtomic(certPath, leaf.certPem, 0o644);
  log.info({ file: certPath, hosts: certificateHosts(leaf.certPem) }, 'server certificate issued');
  return leaf;
}
