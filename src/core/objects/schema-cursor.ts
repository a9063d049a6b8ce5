/**
 * Walks a kind's schema alongside an object: the field or list item below a node, and how a
 * list merges (its x-kubernetes-* keywords, kit.ts mergeList/setList). What the strategic merge
 * patch and server-side apply read, so list semantics live in the schemas alone.
 *
 * `$ref`s resolve to the shared schemas (by `$id`); `allOf` (TypeBox Intersect) is searched
 * branch by branch. A node the schema does not describe gives an empty cursor: maps merge key by
 * key and lists are replaced whole, as Kubernetes does for fields without annotations.
 */
import type { TSchema } from '@sinclair/typebox';
import { KIND_TABLE, type KindName } from './kind-table.js';
import { SHARED_SCHEMAS } from './shared-schemas.js';

type Node = Record<string, unknown>;

export interface ListSemantics {
  /** map: items merge by `keys`; set: scalars merged as a set; atomic: replaced whole. */
  type: 'map' | 'set' | 'atomic';
  keys: readonly string[];
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class SchemaCursor {
  constructor(
    private readonly nodes: readonly Node[],
    private readonly byId: ReadonlyMap<string, Node>,
  ) {}

  /** Every schema node that applies here, with `$ref` and `allOf` expanded. */
  private expanded(): Node[] {
    const out: Node[] = [];
    const visit = (n: Node, depth: number): void => {
      if (depth > 16) return;
      out.push(n);
      if (typeof n.$ref === 'string') {
        const target = this.byId.get(n.$ref);
        if (target) visit(target, depth + 1);
      }
      for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
        const list = n[key];
        if (Array.isArray(list)) for (const b of list) if (isNode(b)) visit(b, depth + 1);
      }
    };
    for (const n of this.nodes) visit(n, 0);
    return out;
  }

  /** The schema of field `name` of the object here (a map value when the node is a map). */
  field(name: string): SchemaCursor {
    const found: Node[] = [];
    for (const n of this.expanded()) {
      const props = n.properties;
      if (isNode(props) && isNode(props[name])) found.push(props[name] as Node);
      else if (isNode(n.additionalProperties)) found.push(n.additionalProperties);
    }
    return new SchemaCursor(found, this.byId);
  }

  /** The schema of the items of the list here. */
  item(): SchemaCursor {
    return new SchemaCursor(this.expanded().flatMap((n) => (isNode(n.items) ? [n.items] : [])), this.byId);
  }

  /** How the list here merges. */
  list(): ListSemantics {
    for (const n of this.expanded()) {
      const type = n['x-kubernetes-list-type'];
      if (type === 'map') return { type: 'map', keys: (n['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [String(n['x-kubernetes-patch-merge-key'])] };
      if (type === 'set') return { type: 'set', keys: [] };
    }
    return { type: 'atomic', keys: [] };
  }

  /** Whether the schema knows this node at all (unknown nodes merge as plain maps). */
  get known(): boolean {
    return this.nodes.length > 0;
  }
}

/** Builds cursors for the kinds; one per process is plenty (the schemas never change). */
export class SchemaIndex {
  private readonly byId = new Map<string, Node>();

  constructor(shared: readonly TSchema[] = SHARED_SCHEMAS) {
    for (const s of shared) if (typeof s.$id === 'string') this.byId.set(s.$id, s as unknown as Node);
    for (const row of Object.values(KIND_TABLE)) {
      const s = row.schema as unknown as Node;
      if (typeof s.$id === 'string') this.byId.set(s.$id, s);
    }
  }

  /** A cursor for a document no schema describes (maps merge, lists are replaced). */
  none(): SchemaCursor {
    return new SchemaCursor([], this.byId);
  }

  /** The cursor at the root of a `kind` object. */
  root(kind: KindName): SchemaCursor {
    return new SchemaCursor([KIND_TABLE[kind].schema as unknown as Node], this.byId);
  }
}
