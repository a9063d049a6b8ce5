/**
 * The `logs` RPC: a pod's container logs, answered on rpc/res in numbered chunks (≤ 500 lines,
 * and small enough for the wire's size limit); the last chunk has done = true. `previous` reads
 * the instance before the current one (kept across its restart, previous-logs.ts); `sinceTime` /
 * `sinceSeconds` keep the newer lines, by this node's clock. With follow, new lines stream until
 * the containers exit or the agent stops, and: with `untilCancelled`, until the server cancels
 * (an empty chunk after each quiet KEEPALIVE_MS tells it the follow is alive; a chunk that cannot
 * be sent ends it); without (servers before issue 14), for at most 60 s.
 */
import { WIRE_SCHEMA, type LogsRpcRequest, type RpcResponse } from '../../../src/core/wire-types.js';
import { errorMessage } from '../../../src/core/errors.js';
import { WIRE_LIMITS } from '../../../src/core/wire.js';
import type { Clock } from '../../../src/core/clock.js';
import { Labels, namespaceOfContainer, podContainerKeyOf, type ManagedContainer, type NodeRuntime, type RuntimeLogLine } from './node-runtime.js';
import { pickCurrent } from './plan/containers.js';

export const MAX_CHUNK_LINES = 500;
/** Well under the wire's 256 KiB rpc limit, leaving room for CBOR framing. */
export const MAX_CHUNK_CHARS = 128 * 1024;
/** Without a tail, at most this many of the newest lines are sent. */
export const MAX_LOG_LINES = 10_000;
export const MAX_FOLLOW_MS = 60_000;
/** A follow that has sent nothing for this long sends an empty chunk (the server's silence limit is longer). */
export const KEEPALIVE_MS = 20_000;

type WireLine = NonNullable<RpcResponse['lines']>[number];

export interface LogsRpcDeps {
  runtime: NodeRuntime;
  clock: Clock;
  /** Sends one response chunk; awaited, so chunks leave in order. */
  send: (response: RpcResponse) => Promise<void>;
  /** Aborted when the agent stops: a follow ends with a final done chunk. */
  signal: AbortSignal;
  followMs?: number;
  keepaliveMs?: number;
}

/**
 * A Job's later runs (`<pod>-2`) and a CronJob's runs (`<pod>-<unix time>[-n]`) answer for the
 * pod too (agent/src/agent/jobs), so `grove logs` of a CronJob shows its newest run.
 */
function isRunOf(runPod: string, pod: string): boolean {
  return runPod.startsWith(`${pod}-`) && /^\d+(?:-\d+)?$/.test(runPod.slice(pod.length + 1));
}

/** Containers answering for the request: the current instance per container name. */
function selectContainers(all: ManagedContainer[], params: LogsRpcRequest['params']): ManagedContainer[] {
  const byName = new Map<string, ManagedContainer[]>();
  for (const c of all) {
    // Absent namespace = any (pod names were unique before namespaces).
    if (params.namespace !== undefined && namespaceOfContainer(c) !== params.namespace) continue;
    if (c.labels[Labels.pod] !== params.pod && !isRunOf(c.labels[Labels.pod], params.pod)) continue;
    const name = c.labels[Labels.container];
    if (params.container !== undefined && name !== params.container) continue;
    byName.set(name, [...(byName.get(name) ?? []), c]);
  }
  return [...byName.keys()].sort().map((n) => pickCurrent(byName.get(n) ?? []) as ManagedContainer);
}

function toWire(line: RuntimeLogLine, container: string): WireLine {
  const max = WIRE_LIMITS.longString;
  return { time: line.time, stream: line.stream, text: line.text.length > max ? line.text.slice(0, max) : line.text, container };
}

/** Splits lines into chunks by count and size. */
export function chunkLines(lines: WireLine[]): WireLine[][] {
  const chunks: WireLine[][] = [];
  let chunk: WireLine[] = [];
  let chars = 0;
  for (const line of lines) {
    const size = line.text.length + 64;
    if (chunk.length > 0 && (chunk.length >= MAX_CHUNK_LINES || chars + size > MAX_CHUNK_CHARS)) {
      chunks.push(chunk);
      chunk = [];
      chars = 0;
    }
    chunk.push(line);
    chars += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The first time a line may have to keep the `since` filter (ms), or undefined for all lines. */
export function sinceCutoff(params: LogsRpcRequest['params'], nowMs: number): number | undefined {
  if (params.sinceTime !== undefined) {
    const at = Date.parse(params.sinceTime);
    return Number.isFinite(at) ? at : undefined;
  }
  return params.sinceSeconds !== undefined ? nowMs - params.sinceSeconds * 1000 : undefined;
}

/** Whether a line was written at or after `cutoff` (lines whose time cannot be read are kept). */
export function isSince(time: string, cutoff: number | undefined): boolean {
  if (cutoff === undefined) return true;
  const at = Date.parse(time);
  return !Number.isFinite(at) || at >= cutoff;
}

export async function serveLogs(req: LogsRpcRequest, deps: LogsRpcDeps): Promise<void> {
  let seq = 0;
  const reply = (extra: Partial<RpcResponse>, done: boolean): Promise<void> =>
    deps.send({ schema: WIRE_SCHEMA, id: req.id, seq: seq++, done, ...extra });
  try {
    const containers = selectContainers(await deps.runtime.list(), req.params);
    if (containers.length === 0) {
      const { pod, container } = req.params;
      const message = container ? `pod ${pod} has no container ${container} on this node` : `pod ${pod} has no containers on this node`;
      await reply({ error: { code: 'NOT_FOUND', message } }, true);
      return;
    }
    const tail = Math.min(req.params.tail ?? MAX_LOG_LINES, MAX_LOG_LINES);
    const cutoff = sinceCutoff(req.params, deps.clock.now());
    if (req.params.previous) {
      const lines = await previousLines(containers, tail, deps);
      if (typeof lines === 'string') return await reply({ error: { code: 'NOT_FOUND', message: lines } }, true);
      return await replyLines(lines.filter((l) => isSince(l.time, cutoff)), reply);
    }
    if (!req.params.follow) {
      const lines: WireLine[] = [];
      for (const c of containers) {
        for await (const line of deps.runtime.logs(c.id, { tail })) if (isSince(line.time, cutoff)) lines.push(toWire(line, c.labels[Labels.container]));
      }
      // Several containers interleave by time; sort is stable, so one container keeps its order.
      if (containers.length > 1) lines.sort((a, b) => a.time.localeCompare(b.time));
      return await replyLines(lines.slice(Math.max(0, lines.length - tail)), reply);
    }
    await follow(containers, tail, cutoff, req.params.untilCancelled === true, deps, (lines, done) => reply({ lines }, done));
  } catch (err) {
    await reply({ error: { code: 'INTERNAL', message: errorMessage(err).slice(0, WIRE_LIMITS.message) } }, true).catch(() => undefined);
  }
}

/** Sends lines in chunks, the last one done (one empty done chunk when there are none). */
async function replyLines(lines: WireLine[], reply: (extra: Partial<RpcResponse>, done: boolean) => Promise<void>): Promise<void> {
  const chunks = chunkLines(lines);
  if (chunks.length === 0) return reply({ lines: [] }, true);
  for (let i = 0; i < chunks.length; i++) await reply({ lines: chunks[i] as WireLine[] }, i === chunks.length - 1);
}

/** The previous instances' lines of the containers, or the message saying none is kept. */
async function previousLines(containers: ManagedContainer[], tail: number, deps: LogsRpcDeps): Promise<WireLine[] | string> {
  const out: WireLine[] = [];
  for (const c of containers) {
    const name = c.labels[Labels.container];
    const lines = await deps.runtime.previousLogs?.(podContainerKeyOf(c), { tail });
    if (lines === undefined) return `previous terminated container "${name}" in pod "${c.labels[Labels.pod]}" not found`;
    out.push(...lines.map((l) => toWire(l, name)));
  }
  if (containers.length > 1) out.sort((a, b) => a.time.localeCompare(b.time));
  return out.slice(Math.max(0, out.length - tail));
}

async function follow(
  containers: ManagedContainer[],
  tail: number,
  cutoff: number | undefined,
  untilCancelled: boolean,
  deps: LogsRpcDeps,
  send: (lines: WireLine[], done: boolean) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  deps.signal.addEventListener('abort', onAbort);
  const deadline = untilCancelled ? undefined : deps.clock.setTimeout(() => stop.abort(), Math.min(deps.followMs ?? MAX_FOLLOW_MS, MAX_FOLLOW_MS));
  let buffer: WireLine[] = [];
  let sending = Promise.resolve();
  let sendFailed: unknown;
  let flushQueued = false;
  let lastSentMs = deps.clock.now();
  const queue = (lines: WireLine[]): void => {
    lastSentMs = deps.clock.now();
    sending = sending
      .then(() => (sendFailed === undefined ? send(lines, false) : undefined))
      .catch((err: unknown) => {
        // Nobody hears this follow any more (broker gone): end it rather than read on.
        sendFailed = err;
        stop.abort();
      });
  };
  // Lines that arrive together go out together: flush on the next turn of the event loop.
  const flush = (): Promise<void> => {
    flushQueued = false;
    const lines = buffer;
    buffer = [];
    for (const chunk of chunkLines(lines)) queue(chunk);
    return sending;
  };
  const keepaliveMs = deps.keepaliveMs ?? KEEPALIVE_MS;
  let keepalive: ReturnType<Clock['setTimeout']> | undefined;
  const armKeepalive = (): void => {
    keepalive = deps.clock.setTimeout(() => {
      if (stop.signal.aborted) return;
      if (deps.clock.now() - lastSentMs >= keepaliveMs) queue([]);
      armKeepalive();
    }, Math.max(1, keepaliveMs - (deps.clock.now() - lastSentMs)));
  };
  if (untilCancelled) armKeepalive();
  try {
    await Promise.all(
      containers.map(async (c) => {
        for await (const line of deps.runtime.logs(c.id, { tail, follow: true, signal: stop.signal })) {
          if (!isSince(line.time, cutoff)) continue;
          buffer.push(toWire(line, c.labels[Labels.container]));
          if (buffer.length >= MAX_CHUNK_LINES) void flush();
          else if (!flushQueued) {
            flushQueued = true;
            setImmediate(() => void flush());
          }
        }
      }),
    );
  } finally {
    if (deadline) deps.clock.clearTimeout(deadline);
    if (keepalive) deps.clock.clearTimeout(keepalive);
    deps.signal.removeEventListener('abort', onAbort);
    stop.abort();
  }
  await flush();
  await sending;
  if (sendFailed !== undefined) throw sendFailed;
  await send([], true);
}
