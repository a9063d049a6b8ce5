/**
 * `portforward` sessions on the node: one TCP connection to a port of the pod, made from the
 * agent itself — to the pod's address on the node bridge (its sandbox), or to 127.0.0.1 for a
 * pod on the host's network — as a StreamEndpoint for stream-session.ts.
 */
import { connect, type Socket } from 'node:net';
import { ErrorCode, GroveError, errorMessage } from '../../../src/core/errors.js';
import type { PortForwardRpcRequest } from '../../../src/core/wire-types.js';
import { Labels, namespaceOfContainer, type NodeRuntime } from './node-runtime.js';
import { inNamespace } from './plan/pod-fields.js';
import type { StreamEndpoint } from './stream-session.js';

const CONNECT_TIMEOUT_MS = 10_000;

/** Where the pod listens, as the agent reaches it. */
export async function podAddress(runtime: NodeRuntime, params: { pod: string; namespace: string }): Promise<string> {
  const running = (await runtime.list()).some((c) => c.state === 'running' && c.labels[Labels.pod] === params.pod && namespaceOfContainer(c) === params.namespace);
  if (!running) throw new GroveError(ErrorCode.NotFound, `pod ${params.pod} has no running container on this node`);
  const key = inNamespace(params.namespace, params.pod);
  const sandbox = (await runtime.sandboxes?.list())?.find((s) => s.pod === key);
  if (!sandbox || sandbox.hostNetwork) return '127.0.0.1';
  if (!sandbox.ip) throw new GroveError(ErrorCode.NotFound, `pod ${params.pod} has no address on this node`);
  return sandbox.ip;
}

function connectTo(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new GroveError(ErrorCode.NotFound, why));
    };
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('timeout', () => fail(`failed to connect to ${host}:${port}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s`));
    socket.once('error', (err) => fail(`failed to connect to ${host}:${port}: ${errorMessage(err)}`));
  });
}

export async function openPortForward(runtime: NodeRuntime, params: PortForwardRpcRequest['params']): Promise<StreamEndpoint> {
  const host = await podAddress(runtime, params);
  const socket = await connectTo(host, params.port);
  socket.on('error', () => undefined);
  const finished = new Promise<undefined>((resolve) => socket.once('close', () => resolve(undefined)));
  return {
    out: socket,
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        if (socket.destroyed) return reject(new Error('connection closed'));
        socket.write(data, (err) => (err ? reject(err) : resolve()));
      }),
    endInput: () => socket.end(),
    close: () => socket.destroy(),
    finished,
  };
}
