/**
 * PURE: the TLS Secrets of the Ingresses Grove serves (docs/networking.md "Ingress", TLS).
 *
 * - Which Secrets go to which node: every `kubernetes.io/tls` Secret a served Ingress names in
 *   `spec.tls[].secretName` (in the Ingress' namespace) goes to the nodes labelled for ingress,
 *   and to no other node. They travel in the node's own sealed config bundle
 *   (config-distributor.ts), never in the cluster-wide network view, which names them only.
 *   A missing Secret, or one of another type, is not sent: its hosts are served on HTTP only.
 * - What is wrong with them, for the Ingress' status and Events (controllers/ingress-status.ts):
 *   missing, of the wrong type, or not a certificate and key Caddy can load (core tls-pair.ts).
 */
import { servedIngresses } from '../../core/network/ingress-view.js';
import { checkTlsPair, type TlsPairCheck } from '../../core/network/tls-pair.js';
import type { Node } from '../../core/objects/cluster.js';
import type { Secret } from '../../core/objects/config.js';
import { isIngressNode, TLS_SECRET_TYPE } from '../../core/objects/ingress-constants.js';
import type { Ingress, IngressClass } from '../../core/objects/ingress.js';
import { configData, type NamespacedRef } from '../config-distributor.js';
import { namespaceOf } from '../controllers/object-kit.js';

export { TLS_SECRET_TYPE };

export type IngressTlsReason = 'TLSSecretNotFound' | 'TLSSecretWrongType' | 'TLSSecretInvalid';

export interface IngressTlsProblem {
  reason: IngressTlsReason;
  /** Names the Secret and says what is wrong; never a byte of its values. */
  message: string;
}

const secretKey = (namespace: string, name: string) => `${namespace}/${name}`;

function secretIndex(secrets: readonly Secret[]): Map<string, Secret> {
  return new Map(secrets.map((s) => [secretKey(namespaceOf(s), s.metadata.name), s]));
}

/** The distinct Secret names of an Ingress' TLS entries, in the order written. */
function tlsSecretNames(ing: Ingress): string[] {
  return [...new Set((ing.spec?.tls ?? []).flatMap((t) => (t.secretName ? [t.secretName] : [])))];
}

/** The hosts a TLS Secret was meant for, as a problem's message names them. */
function hostsOf(ing: Ingress, secretName: string): string {
  const hosts = (ing.spec?.tls ?? []).filter((t) => t.secretName === secretName).flatMap((t) => t.hosts ?? []);
  return hosts.length ? hosts.join(', ') : 'its hosts';
}

/** A kubernetes.io/tls Secret's PEM check (the controller passes one that remembers results). */
export type SecretPairCheck = (secret: Secret) => TlsPairCheck;
const checkSecretPair: SecretPairCheck = (secret) => checkTlsPair(configData(secret));

/** What keeps each TLS Secret of `ing` from being served, one problem per Secret; [] when all can be. */
export function ingressTlsProblems(ing: Ingress, secrets: readonly Secret[], check: SecretPairCheck = checkSecretPair): IngressTlsProblem[] {
  const ns = namespaceOf(ing);
  const index = secretIndex(secrets);
  const out: IngressTlsProblem[] = [];
  for (const name of tlsSecretNames(ing)) {
    const secret = index.get(secretKey(ns, name));
    const httpOnly = `${hostsOf(ing, name)} served on HTTP only`;
    if (!secret) {
      out.push({ reason: 'TLSSecretNotFound', message: `TLS Secret ${ns}/${name} not found: ${httpOnly}` });
    } else if ((secret.type ?? 'Opaque') !== TLS_SECRET_TYPE) {
      out.push({ reason: 'TLSSecretWrongType', message: `Secret ${ns}/${name} is of type ${secret.type ?? 'Opaque'}, not ${TLS_SECRET_TYPE}: ${httpOnly}` });
    } else {
      const pair = check(secret);
      if (!pair.ok) out.push({ reason: 'TLSSecretInvalid', message: `TLS Secret ${ns}/${name} ${pair.problem}: ${httpOnly}` });
    }
  }
  return out;
}

/**
 * Node name → the TLS Secrets it is sent for the Ingresses: for each node labelled for ingress,
 * the existing kubernetes.io/tls Secrets the served Ingresses name; no entry for other nodes.
 */
export function ingressTlsSecretRefs(nodes: readonly Node[], ingresses: readonly Ingress[], classes: readonly IngressClass[], secrets: readonly Secret[]): Map<string, NamespacedRef[]> {
  const out = new Map<string, NamespacedRef[]>();
  const ingressNodes = nodes.filter((n) => isIngressNode(n.metadata.labels));
  if (ingressNodes.length === 0) return out;
  const index = secretIndex(secrets);
  const refs: NamespacedRef[] = [];
  for (const ing of servedIngresses(ingresses, classes)) {
    const namespace = namespaceOf(ing);
    for (const name of tlsSecretNames(ing)) {
      if (index.get(secretKey(namespace, name))?.type === TLS_SECRET_TYPE) refs.push({ kind: 'Secret', name, namespace });
    }
  }
  if (refs.length === 0) return out;
  for (const node of ingressNodes) out.set(node.metadata.name, refs);
  return out;
}
