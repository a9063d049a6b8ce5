/**
 * `exec` sessions on the node: finds the pod's container and starts the command in it with
 * its stdio streaming (NodeRuntime.execStream: `runc exec`, under a terminal of its own with
 * `tty`), as a StreamEndpoint for stream-session.ts.
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import type { ExecRpcRequest } from '../../../src/core/wire-types.js';
import { Labels, namespaceOfContainer, type ManagedContainer, type NodeRuntime } from './node-runtime.js';
import { pickCurrent } from './plan/containers.js';
import type { StreamEndpoint } from './stream-session.js';

/**
 * The running container a session is for: the named one, or the pod's only one. Kubernetes
 * words: kubectl shows these messages as they are.
 */
export function sessionContainer(all: readonly ManagedContainer[], params: { pod: string; namespace: string; container?: string }): ManagedContainer {
  const byName = new Map<string, ManagedContainer[]>();
  for (const c of all) {
    if (c.labels[Labels.pod] !== params.pod || namespaceOfContainer(c) !== params.namespace) continue;
    const name = c.labels[Labels.container];
    byName.set(name, [...(byName.get(name) ?? []), c]);
  }
  if (byName.size === 0) throw new GroveError(ErrorCode.NotFound, `pod ${params.pod} has no containers on this node`);
  let name = params.container;
  if (name === undefined) {
    if (byName.size > 1) throw new GroveError(ErrorCode.InvalidArgument, `a container name must be specified for pod ${params.pod}, choose one of: [${[...byName.keys()].sort().join(' ')}]`);
    name = [...byName.keys()][0]!;
  }
  const current = pickCurrent(byName.get(name) ?? []);
  if (!current) throw new GroveError(ErrorCode.NotFound, `container ${name} is not valid for pod ${params.pod}`);
  if (current.state !== 'running') throw new GroveError(ErrorCode.ContainerNotRunning, `container ${name} of pod ${params.pod} is not running`);
  return current;
}

export async function openExec(runtime: NodeRuntime, params: ExecRpcRequest['params']): Promise<StreamEndpoint> {
  if (!runtime.execStream) throw new GroveError(ErrorCode.InvalidArgument, 'this node runtime cannot exec into containers');
  const container = sessionContainer(await runtime.list(), params);
  const proc = await runtime.execStream(container.id, params.command, { stdin: params.stdin, tty: params.tty, ...(params.size ? { size: params.size } : {}) });
  const stdin = proc.stdin;
  return {
    out: proc.stdout,
    ...(proc.stderr ? { err: proc.stderr } : {}),
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        if (!stdin || stdin.destroyed) return reject(new Error('stdin is closed'));
        stdin.write(data, (err) => (err ? reject(err) : resolve()));
      }),
    endInput: () => stdin?.end(),
    resize: (width, height) => proc.resize(width, height),
    close: () => proc.kill(),
    finished: proc.exited,
  };
}
