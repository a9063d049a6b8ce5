/**
 * kubectl's resource arguments: `TYPE[,TYPE…] [NAME…]` or `TYPE/NAME…`, where TYPE is a plural,
 * singular or short name, optionally qualified by its group (`deployments.apps`), and `all`
 * means the workload kinds and their pods (as kubectl's "all" category).
 */
import { ErrorCode, GroveError } from '../../../../core/errors.js';
import { ALL_KINDS, byResource, KINDS, type KindInfo } from '../../../../core/objects/kinds.js';

export interface ResourceRequest {
  kind: KindInfo;
  /** Empty: every object of the kind (in scope). */
  names: string[];
}

/** kubectl's "all", in its order (Services … once Grove lists them here). */
const ALL = [KINDS.Pod, KINDS.DaemonSet, KINDS.Deployment, KINDS.ReplicaSet, KINDS.StatefulSet, KINDS.CronJob, KINDS.Job] as const;

function kindsOf(type: string): KindInfo[] {
  if (type.toLowerCase() === 'all') return [...ALL];
  const kind = byResource(type);
  if (!kind) throw new GroveError(ErrorCode.InvalidArgument, `the server doesn't have a resource type "${type}"`);
  return [kind];
}

/**
 * The kinds and names `args` ask for, in the order given. `verb` words the errors
 * ("You must specify the type of resource to get").
 */
export function parseResourceArgs(args: readonly string[], verb: string): ResourceRequest[] {
  if (args.length === 0) throw new GroveError(ErrorCode.InvalidArgument, `You must specify the type of resource to ${verb} (${ALL_KINDS.map((k) => k.plural).join(', ')})`);
  if (args.some((a) => a.includes('/'))) {
    const out: ResourceRequest[] = [];
    for (const arg of args) {
      const slash = arg.indexOf('/');
      if (slash <= 0 || slash === arg.length - 1) {
        throw new GroveError(ErrorCode.InvalidArgument, 'there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. \'grove get resource/<resource_name>\' instead of \'grove get resource resource/<resource_name>\'');
      }
      const [kind] = kindsOf(arg.slice(0, slash));
      if (kind === undefined || arg.slice(0, slash).toLowerCase() === 'all') throw new GroveError(ErrorCode.InvalidArgument, `"all" cannot name one object: ${arg}`);
      const name = arg.slice(slash + 1);
      const same = out.find((r) => r.kind === kind);
      if (same) same.names.push(name);
      else out.push({ kind, names: [name] });
    }
    return out;
  }
  const [types, ...names] = args as [string, ...string[]];
  const kinds: KindInfo[] = [];
  for (const type of types.split(',')) {
    if (type === '') throw new GroveError(ErrorCode.InvalidArgument, `"${types}" names an empty resource type`);
    for (const kind of kindsOf(type)) if (!kinds.includes(kind)) kinds.push(kind);
  }
  if (names.length > 0 && kinds.length > 1) throw new GroveError(ErrorCode.InvalidArgument, `names go with one resource type: use TYPE/NAME to name objects of several types (${types})`);
  return kinds.map((kind) => ({ kind, names: [...names] }));
}
