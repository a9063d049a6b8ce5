/**
 * The certificates an ingress node hands Caddy (docs/networking.md "Ingress", TLS): for each TLS
 * Secret the view's Ingresses name, the Secret as this node's sealed config bundle carries it
 * (the server sends them to ingress nodes only), checked again here (core tls-pair.ts) because
 * one bad PEM in Caddy's config makes it refuse the whole config. A Secret this node does not
 * have, one that is not of type kubernetes.io/tls (an Opaque Secret a pod on this node uses
 * travels in the same bundle), or one that fails the check, is left out: its hosts are served on
 * HTTP only — as the server's TLSSecretWrongType event and the Ingress' status say.
 *
 * Checks are kept per Secret version, so the many views that change only endpoints parse nothing.
 */
import type { ConfigObject } from '../../../../src/core/config-refs.js';
import type { IngressView } from '../../../../src/core/network/ingress-view.js';
import { checkTlsPair, type TlsPair, type TlsPairCheck } from '../../../../src/core/network/tls-pair.js';
import { TLS_SECRET_TYPE } from '../../../../src/core/objects/ingress-constants.js';

/** How the node finds a Secret it was sent (ConfigSource.get for kind Secret). */
export type SecretLookup = (name: string, namespace: string) => ConfigObject | undefined;

export interface ResolvedCertificates {
  /** "<namespace>/<secret>" → the PEMs, for the Secrets that passed the check. */
  certificates: Map<string, TlsPair>;
  /** One line per named Secret left out ("default/shop-tls: not on this node"), sorted. */
  problems: string[];
}

export class IngressCertificates {
  private checked = new Map<string, { version: string; result: TlsPairCheck }>();

  constructor(private readonly lookup: SecretLookup) {}

  resolve(ingresses: readonly IngressView[]): ResolvedCertificates {
    const certificates = new Map<string, TlsPair>();
    const problems: string[] = [];
    const seen = new Map<string, { version: string; result: TlsPairCheck }>();
    const named = [...new Set(ingresses.flatMap((ing) => ing.tls.map((t) => `${ing.namespace}/${t.secretName}`)))].sort();
    for (const key of named) {
      const [namespace, name] = key.split('/') as [string, string];
      const secret = this.lookup(name, namespace);
      if (!secret) {
        problems.push(`${key}: not on this node (missing, or not a kubernetes.io/tls Secret)`);
        continue;
      }
      if (secret.type !== TLS_SECRET_TYPE) {
        problems.push(`${key}: of type ${secret.type ?? 'Opaque'}, not ${TLS_SECRET_TYPE}`);
        continue;
      }
      const cached = this.checked.get(key);
      const entry = cached?.version === secret.version ? cached : { version: secret.version, result: checkTlsPair(secret.data) };
      seen.set(key, entry);
      if (entry.result.ok) certificates.set(key, entry.result.pair);
      else problems.push(`${key}: ${entry.result.problem}`);
    }
    // Only what the Ingresses still name is kept.
    this.checked = seen;
    return { certificates, problems };
  }
}
