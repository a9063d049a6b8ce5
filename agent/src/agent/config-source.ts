/**
 * ConfigSource: how the agent reads the ConfigMaps and Secrets its pods reference (volumes,
 * env valueFrom, envFrom). The server sends each node only the objects its pods reference; the
 * node keeps them encrypted at rest and hands out plaintext only in memory, through this port.
 * Implementations: the synced, encrypted node copy (real agents) and MemoryConfigSource (tests).
 */

import type { ConfigKind, ConfigObject } from '../../../src/core/config-refs.js';

export type { ConfigKind, ConfigObject };

export interface ConfigSource {
  /** The object as last received, or undefined when the node has none by that name. */
  get(kind: ConfigKind, name: string): ConfigObject | undefined;
  /** Called after objects were added, changed or removed; returns an unsubscribe function. */
  onChange(listener: (changed: readonly { kind: ConfigKind; name: string }[]) => void): () => void;
}

/** In-memory ConfigSource for tests and hollow nodes: `set`/`delete` notify the listeners. */
export class MemoryConfigSource implements ConfigSource {
  private readonly objects = new Map<string, ConfigObject>();
  private readonly listeners = new Set<(changed: readonly { kind: ConfigKind; name: string }[]) => void>();
  private counter = 0;

  get(kind: ConfigKind, name: string): ConfigObject | undefined {
    return this.objects.get(`${kind}/${name}`);
  }

  set(kind: ConfigKind, name: string, data: Record<string, string>): void {
    this.objects.set(`${kind}/${name}`, { kind, name, data: { ...data }, version: String(++this.counter) });
    this.notify([{ kind, name }]);
  }

  delete(kind: ConfigKind, name: string): void {
    if (this.objects.delete(`${kind}/${name}`)) this.notify([{ kind, name }]);
  }

  onChange(listener: (changed: readonly { kind: ConfigKind; name: string }[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(changed: readonly { kind: ConfigKind; name: string }[]): void {
    for (const l of this.listeners) l(changed);
  }
}
