/**
 * Node membership on Node objects: joins (token → Node object + credential, many joins in one
 * commit), the operator's edits (labels, cordon = spec.unschedulable) and deletion. The Node
 * object lives at nodes/<name>; the credential hash at GroveKeys.nodeCredential (never in the
 * object: `kubectl get node -o yaml` must not show it); the config key where node-keys.ts keeps
 * it. The join body, the proof a taken name needs and the token rules are nodes.ts's and
 * security/tokens.ts's.
 *
 * Callers serialise calls (the control plane's mutex), as for every read-modify-write.
 */
import { ErrorCode, GroveError } from '../../core/errors.js';
import type { Outcome } from '../../core/batcher.js';
import { GroveKeys } from '../../core/keys.js';
import type { Node } from '../../core/objects/cluster.js';
import type { AnyObject, ObjectChange } from '../../core/objects/changes.js';
import type { StoreOp } from '../../store/store.js';
import { newNodeKey, nodeKeyKey } from '../node-keys.js';
import { checkLabelCount, parseJoinBody, parseNodePatch, proveNodeIdentity, tokenPut, type JoinResult, type NodeRegistration } from '../nodes.js';
import { issueNodeCredentials } from '../security/credentials.js';
import { authenticateJoinToken, spendJoinToken, type JoinTokenRecord } from '../security/tokens.js';
import { validName } from '../request-fields.js';
import { joinedNode, patchedNode } from './node-object.js';
import type { ObjectStore } from './object-store.js';

/** What GroveKeys.nodeCredential holds. */
export interface NodeCredentialRecord {
  /** sha256 of the node's MQTT password (security/credentials.ts). */
  credentialHash: string;
  /** When the node last joined (ISO). */
  joinedAt: string;
}

export interface NodeJoined {
  result: JoinResult;
  registration: NodeRegistration;
  /** The node's fresh config key (a rejoin rotates it). */
  configKey: Buffer;
}

const nodeRef = (name: string) => ({ kind: 'Node' as const, name });

function notFound(name: string): GroveError {
  return new GroveError(ErrorCode.NotFound, `nodes ${JSON.stringify(name)} not found`, { details: { kind: 'Node', name } });
}

export class NodeRegistry {
  constructor(private readonly objects: ObjectStore) {}

  /**
   * Joins arriving together, in ONE commit: a join that fails (bad token, name taken) fails
   * alone and spends nothing. A new name gets a Node object with the labels its join asked for;
   * a rejoin (proven by the node's current credential) keeps its object (labels, cordon,
   * readiness) and rotates credential and config key. `replaceExisting`: the server's own host
   * takes its name over without the credential (local-join.ts).
   */
  async joinBatch(bodies: readonly unknown[], now: Date, opts: { replaceExisting?: boolean } = {}): Promise<Outcome<NodeJoined>[]> {
    const store = this.objects.store;
    const credentials = new Map<string, NodeCredentialRecord | undefined>();
    const created = new Map<string, Node>();
    const tokens = new Map<string, JoinTokenRecord>();
    const records = new Map<string, StoreOp>();
    const outcomes: Outcome<NodeJoined>[] = [];
    for (const body of bodies) {
      try {
        const join = parseJoinBody(body);
        // The token first: an unauthenticated caller learns nothing about which nodes exist.
        const token = await authenticateJoinToken(store, join.token, now, tokens);
        const name = join.nodeName;
        if (!credentials.has(name)) credentials.set(name, (await store.get<NodeCredentialRecord>(GroveKeys.nodeCredential(name)))?.value);
        const exists = created.has(name) || (await this.objects.get(nodeRef(name))) !== undefined;
        const credential = credentials.get(name);
        if (exists && !opts.replaceExisting) {
          // An object without a credential (half a 0.1 record, a restore) is proven by nobody.
          proveNodeIdentity(join, credential?.credentialHash ?? '');
        }
        const creds = issueNodeCredentials(name, join.password);
        const record: NodeCredentialRecord = { credentialHash: creds.hash, joinedAt: now.toISOString() };
        credentials.set(name, record);
        records.set(`cred:${name}`, { type: 'put', key: GroveKeys.nodeCredential(name), value: record });
        const key = newNodeKey(name, now);
        records.set(`key:${name}`, key.op);
        const spent = spendJoinToken(token);
        if (spent) tokens.set(spent.id, spent);
        if (!exists) created.set(name, joinedNode(name, join.labels));
        outcomes.push({
          ok: true,
          value: {
            result: { node: name, username: creds.username, password: creds.password },
            registration: { name, username: creds.username, password: creds.password, credentialHash: creds.hash },
            configKey: key.key,
          },
        });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (records.size > 0) {
      const changes: ObjectChange[] = [...created.values()].map((n) => ({ op: 'put', object: n as AnyObject }));
      await this.objects.commit(changes, { records: [...records.values(), ...[...tokens.values()].map(tokenPut)] });
    }
    return outcomes;
  }

  /** `grove node label|cordon|uncordon`: PATCH {labels?: {k: v | null}, cordoned?}. */
  async patch(name: string, input: unknown): Promise<Node> {
    validName(name, 'node name');
    const { labels, cordoned } = parseNodePatch(input);
    const node = await this.objects.get(nodeRef(name));
    if (!node) throw notFound(name);
    const next = patchedNode(node, labels, cordoned);
    checkLabelCount(next.metadata.labels ?? {});
    const { resourceVersion: _rv, ...meta } = next.metadata;
    const { results } = await this.objects.commit([{ op: 'put', object: { ...next, metadata: meta } as AnyObject }]);
    return results[0]!.object as Node;
  }

  /**
   * Removes a node: its object, credential (its next MQTT CONNECT is refused) and config key,
   * in one commit. Its pods are the controllers' business afterwards, as for any node gone.
   */
  async delete(name: string): Promise<void> {
    validName(name, 'node name');
    if (!(await this.objects.get(nodeRef(name)))) throw notFound(name);
    await this.objects.commit([{ op: 'delete', ref: nodeRef(name) }], {
      records: [
        { type: 'delete', key: GroveKeys.nodeCredential(name) },
        { type: 'delete', key: nodeKeyKey(name) },
      ],
    });
  }
}
