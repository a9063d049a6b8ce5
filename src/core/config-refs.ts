/**
 * PURE: which ConfigMaps and Secrets a set of pod templates reference — volumes
 * (configMap.name, secret.secretName, a projected volume's configMap and secret sources), env[].valueFrom.*KeyRef.name and envFrom[].*Ref.name, of
 * init containers as well as containers. A node is sent exactly these objects, nothing else.
 * References are namespaced: a pod sees the ConfigMaps and Secrets of its own namespace only.
 */
import { DEFAULT_NAMESPACE } from './keys.js';
import type { WireConfigObject } from './objects/wire.js';

export type ConfigKind = WireConfigObject['kind'];

/**
 * A ConfigMap or Secret as a node receives it: sealed per node by the server
 * (src/server/config-distributor.ts, src/core/wire-config.ts), read by the agent through its
 * ConfigSource (agent/src/agent/config-source.ts). Its schema is WireConfigObject
 * (src/core/objects/wire.ts); `namespace` absent = "default", Secret values already decoded.
 */
export type ConfigObject = WireConfigObject;

/**
 * What references live in, structurally: a 0.1 PodTemplate, a Kubernetes PodSpec (the server's
 * Pods, the node's WirePodTarget spec) all fit.
 */
interface NamedRef {
  readonly name: string;
}
export interface ReferencingContainer {
  env?: readonly { readonly name: string; readonly valueFrom?: { readonly configMapKeyRef?: NamedRef; readonly secretKeyRef?: NamedRef; readonly fieldRef?: unknown; readonly resourceFieldRef?: unknown } }[];
  envFrom?: readonly { readonly configMapRef?: NamedRef; readonly secretRef?: NamedRef }[];
}
export interface ReferencingPod {
  volumes?: readonly {
    readonly name: string;
    readonly configMap?: NamedRef;
    readonly secret?: { readonly secretName: string };
    /** A projected volume's configMap and secret sources are references too. */
    readonly projected?: { readonly sources?: readonly { readonly configMap?: NamedRef; readonly secret?: NamedRef; readonly downwardAPI?: unknown }[] };
  }[];
  initContainers?: readonly ReferencingContainer[];
  containers: readonly ReferencingContainer[];
}

export interface ConfigRef {
  kind: ConfigKind;
  name: string;
  /** The namespace of the object (and of the pods that reference it); absent = "default". */
  namespace?: string;
}

/** The namespace a reference or object is in. */
export const namespaceOf = (ref: { namespace?: string }): string => ref.namespace ?? DEFAULT_NAMESPACE;

/**
 * `ConfigMap/settings` in the default namespace (as before namespaces), `ConfigMap/ns/settings`
 * in any other: one string per reference, for sets and sorting (names and namespaces have no "/").
 */
export function refKey(ref: ConfigRef): string {
  const ns = namespaceOf(ref);
  return ns === DEFAULT_NAMESPACE ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ns}/${ref.name}`;
}

/** Whether two references name the same object. */
export const sameRef = (a: ConfigRef, b: ConfigRef): boolean => a.kind === b.kind && a.name === b.name && namespaceOf(a) === namespaceOf(b);

function containerRefs(c: ReferencingContainer, add: (kind: ConfigKind, name: string) => void): void {
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    if (from?.configMapKeyRef) add('ConfigMap', from.configMapKeyRef.name);
    else if (from?.secretKeyRef) add('Secret', from.secretKeyRef.name);
  }
  for (const f of c.envFrom ?? []) {
    if (f.configMapRef) add('ConfigMap', f.configMapRef.name);
    else if (f.secretRef) add('Secret', f.secretRef.name);
  }
}

/**
 * The distinct references of `templates`, sorted by kind then name; in `namespace` (carried
 * on each reference outside the default one), the namespace of the pods they belong to.
 */
export function collectConfigRefs(templates: Iterable<ReferencingPod>, namespace: string = DEFAULT_NAMESPACE): ConfigRef[] {
  const found = new Map<string, ConfigRef>();
  const add = (kind: ConfigKind, name: string): void => {
    const ref: ConfigRef = namespace === DEFAULT_NAMESPACE ? { kind, name } : { kind, name, namespace };
    found.set(refKey(ref), ref);
  };
  for (const t of templates) {
    for (const v of t.volumes ?? []) {
      if (v.configMap) add('ConfigMap', v.configMap.name);
      else if (v.secret) add('Secret', v.secret.secretName);
      for (const s of v.projected?.sources ?? []) {
        if (s.configMap) add('ConfigMap', s.configMap.name);
        else if (s.secret) add('Secret', s.secret.name);
      }
    }
    for (const c of t.initContainers ?? []) containerRefs(c, add);
    for (const c of t.containers) containerRefs(c, add);
  }
  return [...found.values()].sort((a, b) => (refKey(a) < refKey(b) ? -1 : refKey(a) > refKey(b) ? 1 : 0));
}
