/**
 * Client certificates for API users, signed by the cluster CA (`grove kubeconfig --user NAME
 * --client-cert`). As Kubernetes reads them: the subject's CN is the user name, each O is a
 * group. The client makes its own key and sends only the public key; the certificate has
 * extKeyUsage clientAuth only, so it can never serve as a server certificate (and the server's
 * own, serverAuth only, is refused as a client one by the TLS check).
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import forge from 'node-forge';
import { ErrorCode, GroveError, errorMessage } from '../../core/errors.js';
import { BACKDATE_MS, randomSerial, type ClusterCa } from '../security/ca.js';

/** Longest validity a client certificate gets; deleting the user revokes it earlier. */
export const MAX_CLIENT_CERT_DAYS = 365;
export const DEFAULT_CLIENT_CERT_DAYS = 365;
const MAX_PUBLIC_KEY_PEM_BYTES = 4096;
const MAX_GROUPS = 16;
const GROUP_RE = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,62}$/;

export interface IssuedClientCert {
  certificate: string;
  /** Lowercase hex, as the user record keeps it. */
  serial: string;
  expiresAt: string;
}

export interface ClientCertRequest {
  user: string;
  groups: readonly string[];
  /** SPKI PEM of an RSA key (node-forge signs RSA keys only). */
  publicKeyPem: string;
  days: number;
  now: Date;
}

function invalid(field: string, reason: string): GroveError {
  return new GroveError(ErrorCode.InvalidArgument, `${field}: ${reason}`, { details: { field } });
}

/** Checks what a client sent: an RSA public key of 2048..4096 bits, groups as Kubernetes names them. */
export function checkClientCertRequest(publicKeyPem: unknown, groups: unknown, days: unknown): { publicKeyPem: string; groups: string[]; days: number } {
  if (typeof publicKeyPem !== 'string' || publicKeyPem.length > MAX_PUBLIC_KEY_PEM_BYTES) throw invalid('publicKey', `expected a PEM public key of at most ${MAX_PUBLIC_KEY_PEM_BYTES} bytes`);
  let bits: number | undefined;
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key`);
    bits = key.asymmetricKeyDetails?.modulusLength;
  } catch (err) {
    throw invalid('publicKey', `not an RSA public key (${errorMessage(err)})`);
  }
  if (bits === undefined || bits < 2048 || bits > 4096) throw invalid('publicKey', `RSA keys of 2048 to 4096 bits only, got ${bits ?? 'unknown'}`);
  const list = groups === undefined ? [] : groups;
  if (!Array.isArray(list) || list.length > MAX_GROUPS || !list.every((g): g is string => typeof g === 'string' && GROUP_RE.test(g))) {
    throw invalid('groups', `expected at most ${MAX_GROUPS} group names (letters, digits, ":._-")`);
  }
  const d = days ?? DEFAULT_CLIENT_CERT_DAYS;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_CLIENT_CERT_DAYS) throw invalid('days', `expected 1..${MAX_CLIENT_CERT_DAYS}`);
  return { publicKeyPem, groups: list, days: d };
}

/** Signs a client certificate for `request.user` with the cluster CA. */
export function issueClientCert(ca: ClusterCa, request: ClientCertRequest): IssuedClientCert {
  const caCert = forge.pki.certificateFromPem(ca.caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(request.publicKeyPem);
  cert.serialNumber = randomSerial();
  const notAfter = new Date(request.now.getTime() + request.days * 24 * 3600 * 1000);
  cert.validity.notBefore = new Date(request.now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: request.user }, ...request.groups.map((g) => ({ name: 'organizationName', value: g }))]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.caKeyPem), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return { certificate: pem, serial: new X509Certificate(pem).serialNumber.toLowerCase(), expiresAt: notAfter.toISOString() };
}

/** A verified client certificate of a TLS request: its CN, O entries and serial; undefined without one. */
export interface PeerCertificate {
  commonName: string;
  groups: string[];
  serial: string;
}

/**
 * The client certificate a TLS connection presented and the TLS layer verified against the
 * cluster CA (the server asks for one without requiring it: `authorized` says it chained to the
 * CA and has clientAuth), or undefined.
 */
export function verifiedPeerCertificate(socket: unknown): PeerCertificate | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function' || tls.authorized !== true) return undefined;
  const peer = tls.getPeerCertificate();
  const cn = peer?.subject?.CN;
  if (!peer || typeof cn !== 'string' || cn === '' || typeof peer.serialNumber !== 'string') return undefined;
  const o = peer.subject.O as string | string[] | undefined;
  return { commonName: cn, groups: o === undefined ? [] : Array.isArray(o) ? o : [o], serial: peer.serialNumber.toLowerCase() };
}
