/**
 * ConfigSource: how the agent reads the ConfigMaps and Secrets its pods reference (volumes,
 * env valueFrom, envFrom). The server sends each node only the objects its pods reference; the
 * node keeps them encrypted at rest and hands out plaintext only in memory, through this port.
 * Objects are namespaced: a pod reads those of its own namespace only.
 * Implementations: the synced, encrypted node copy (real agents) and MemoryConfigSource (tests).
 */

import { refKey, type ConfigKind, type ConfigObject, type ConfigRef } from '../../../src/core/config-refs.js';
import { DEFAULT_NAMESPACE } from '../../../src/core/keys.js';

export type { ConfigKind, ConfigObject, ConfigRef };

export interface ConfigSource {
  /** The object as last received, or undefined when the node has none by that name in `namespace` (default "default"). */
  get(kind: ConfigKind, name: string, namespace?: string): ConfigObject | undefined;
  /** Called after objects were added, changed or removed (outside default, with their namespace); returns an unsubscribe function. */
  onChange(listener: (changed: readonly ConfigRef[]) => void): () => void;
}

/** The reference of an object in `namespace`, as refKey and the change lists spell it (no namespace for default). */
export function configRef(kind: ConfigKind, name: string, namespace: string = DEFAULT_NAMESPACE): ConfigRef {
  return namespace === DEFAULT_NAMESPACE ? { kind, name } : { kind, name, namespace };
}

/** In-memory ConfigSource for tests and hollow nodes: `set`/`delete` notify the listeners. */
export class MemoryConfigSource implements ConfigSource {
  private readonly objects = new Map<string, ConfigObject>();
  private readonly listeners = new Set<(changed: readonly ConfigRef[]) => void>();
  private counter = 0;

  get(kind: ConfigKind, name: string, namespace?: string): ConfigObject | undefined {
    return this.objects.get(refKey(configRef(kind, name, namespace)));
  }

  /** `type`: a Secret's type when not Opaque (kubernetes.io/tls), as the bundle carries it. */
  set(kind: ConfigKind, name: string, data: Record<string, string>, namespace?: string, type?: string): void {
    const ref = configRef(kind, name, namespace);
    this.objects.set(refKey(ref), { ...ref, data: { ...data }, version: String(++this.counter), ...(type !== undefined ? { type } : {}) });
    this.notify([ref]);
  }

  delete(kind: ConfigKind, name: string, namespace?: string): void {
    const ref = configRef(kind, name, namespace);
    if (this.objects.delete(refKey(ref))) this.notify([ref]);
  }

  onChange(listener: (changed: readonly ConfigRef[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(changed: readonly ConfigRef[]): void {
    for (const l of this.listeners) l(changed);
  }
}
