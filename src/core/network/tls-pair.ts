/**
 * PURE (parsing only, no I/O): whether a kubernetes.io/tls Secret's `tls.crt` and `tls.key` are a
 * certificate chain and private key Caddy can load (docs/networking.md "Ingress", TLS). The server
 * asks it to say what is wrong on the Ingress (status and an Event); the ingress node asks it again
 * before handing the PEMs to Caddy, because one bad certificate in `POST /load` makes Caddy refuse
 * the whole config — a bad Secret must cost its hosts HTTPS, not every Ingress its routes.
 *
 * Problems name the key and what is wrong, never a byte of the value.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

/** A certificate chain and a key far above real ones (a 4096-bit RSA chain of 4 is ~8 KiB), far below what hurts a Pi. */
export const TLS_PEM_LIMITS = Object.freeze({ certBytes: 64 * 1024, keyBytes: 16 * 1024, chainLength: 10 });

export const TLS_CERT_KEY = 'tls.crt';
export const TLS_KEY_KEY = 'tls.key';

export interface TlsPair {
  certPem: string;
  keyPem: string;
}

export type TlsPairCheck = { ok: true; pair: TlsPair } | { ok: false; problem: string };

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END \1-----/g;
/** Key PEMs Caddy (Go's tls.X509KeyPair) reads: PKCS#8, PKCS#1 RSA, SEC 1 EC; encrypted keys it cannot. */
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

/** The PEM blocks of `text` as [label, whole block]; undefined when anything but blocks and whitespace is there. */
function pemBlocks(text: string): [string, string][] | undefined {
  const blocks: [string, string][] = [];
  let rest = text;
  for (const m of text.matchAll(PEM_BLOCK)) {
    blocks.push([m[1]!, m[0]]);
    rest = rest.replace(m[0], '');
  }
  return rest.trim() === '' ? blocks : undefined;
}

const fail = (problem: string): TlsPairCheck => ({ ok: false, problem });

/** Checks a Secret's decoded data: sizes, PEM shape, that both parse, and that the key belongs to the first certificate. */
export function checkTlsPair(data: Readonly<Record<string, string>>): TlsPairCheck {
  const certPem = data[TLS_CERT_KEY];
  const keyPem = data[TLS_KEY_KEY];
  if (!certPem) return fail(`has no ${TLS_CERT_KEY}`);
  if (!keyPem) return fail(`has no ${TLS_KEY_KEY}`);
  if (certPem.length > TLS_PEM_LIMITS.certBytes) return fail(`${TLS_CERT_KEY} is ${certPem.length} bytes: at most ${TLS_PEM_LIMITS.certBytes}`);
  if (keyPem.length > TLS_PEM_LIMITS.keyBytes) return fail(`${TLS_KEY_KEY} is ${keyPem.length} bytes: at most ${TLS_PEM_LIMITS.keyBytes}`);
  const certs = pemBlocks(certPem);
  if (!certs?.length || certs.some(([label]) => label !== 'CERTIFICATE')) return fail(`${TLS_CERT_KEY} is not PEM CERTIFICATE blocks`);
  if (certs.length > TLS_PEM_LIMITS.chainLength) return fail(`${TLS_CERT_KEY} holds ${certs.length} certificates: at most ${TLS_PEM_LIMITS.chainLength}`);
  const keys = pemBlocks(keyPem);
  if (keys?.length !== 1 || !KEY_LABELS.has(keys[0]![0])) return fail(`${TLS_KEY_KEY} is not one unencrypted PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certs[0]![1]);
    for (const [, block] of certs.slice(1)) new X509Certificate(block);
  } catch {
    return fail(`${TLS_CERT_KEY} holds a certificate that does not parse`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keys[0]![1]);
  } catch {
    return fail(`${TLS_KEY_KEY} does not parse as a private key`);
  }
  if (!leaf.checkPrivateKey(key)) return fail(`${TLS_KEY_KEY} is not the key of the first certificate in ${TLS_CERT_KEY}`);
  return { ok: true, pair: { certPem, keyPem } };
}
