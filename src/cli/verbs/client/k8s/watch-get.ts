/**
 * `grove get TYPE [NAME…] -w` (`--watch-only`, `--output-watch-events`), as kubectl: list and
 * print, then watch from the list's resourceVersion and print a row per change, the header once
 * and the columns as wide as the widest cell so far, until interrupted. A stream the server
 * ends (or an idle connection dropped) is resumed from the last version seen (bookmarks keep
 * it fresh); a version too old (410 Gone) lists again and prints what changed meanwhile; a
 * server out of reach is retried with a growing pause, said once per outage on stderr.
 */
import { ErrorCode, GroveError, errorMessage, isGroveError } from '../../../../core/errors.js';
import type { AnyObject } from '../../../../core/objects/changes.js';
import type { CliIO } from '../../../io.js';
import { writeLine } from '../../../io.js';
import type { GetOutput } from './get-output.js';
import { isGone, type ApiResource, type KubeClient, type ListScope, type WatchEvent } from './kube-client.js';
import type { Pause } from './node-drain.js';
import { customColumnsRow } from './custom-columns.js';
import { executeTemplate } from './jsonpath.js';
import { withSecretSizes } from './secret-values.js';

/** How a kind's rows look: its table's headers and one object's cells (tables.ts, events.ts). */
export interface RowFormat {
  headers: readonly string[];
  row(object: AnyObject, now: Date): string[];
  /** `-o name`'s line. */
  name(object: AnyObject): string;
}

export interface WatchRequest {
  resource: ApiResource;
  scope: ListScope;
  /** Only these names (empty: all). */
  names: readonly string[];
  format: RowFormat;
  /** Any further check an object must pass (events of the --for object). */
  accept?: (object: AnyObject) => boolean;
  output?: GetOutput | undefined;
  /** --watch-only: no initial listing. */
  watchOnly: boolean;
  /** --output-watch-events: an EVENT column (ADDED, MODIFIED, DELETED). */
  outputWatchEvents: boolean;
  /** Secrets in json/yaml/jsonpath: their data as stored instead of sizes (secret-values.ts). */
  showValues?: boolean | undefined;
}

/** Pads rows to the widest cell seen so far in each column, as kubectl's remembered tab widths do. */
export class RowWriter {
  private widths: number[] = [];
  private headerDone = false;

  constructor(
    private readonly io: CliIO,
    private readonly headers: readonly string[] | undefined,
  ) {}

  /** Writes `rows` as one block (widths from all of them), the header first the first time. */
  write(rows: readonly (readonly string[])[]): void {
    if (rows.length === 0) return;
    const block = !this.headerDone && this.headers ? [this.headers, ...rows] : rows;
    this.headerDone = true;
    for (const r of block) r.forEach((cell, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, cell.length)));
    for (const r of block) writeLine(this.io.stdout, r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(this.widths[i]! + 3))).join('').trimEnd());
  }
}

type Change = Pick<WatchEvent, 'type' | 'object'>;

function key(o: AnyObject): string {
  return `${(o.metadata as { namespace?: string }).namespace ?? ''}/${o.metadata.name}`;
}

function versionOf(o: AnyObject): string | undefined {
  return (o.metadata as { resourceVersion?: string }).resourceVersion;
}

/**
 * What changed between what was seen (key → resourceVersion) and a fresh list: ADDED for new
 * objects, MODIFIED for those at another version, DELETED for those gone. Pure.
 */
export function relistChanges(seen: ReadonlyMap<string, { version: string | undefined; object: AnyObject }>, items: readonly AnyObject[]): Change[] {
  const out: Change[] = [];
  const now = new Set<string>();
  for (const o of items) {
    const k = key(o);
    now.add(k);
    const before = seen.get(k);
    if (!before) out.push({ type: 'ADDED', object: o });
    else if (before.version !== versionOf(o)) out.push({ type: 'MODIFIED', object: o });
  }
  for (const [k, { object }] of seen) if (!now.has(k)) out.push({ type: 'DELETED', object });
  return out;
}

/** Prints changes in the chosen output; tables through one RowWriter so columns stay aligned. */
class ChangePrinter {
  private readonly rows: RowWriter;

  constructor(
    private readonly io: CliIO,
    private readonly request: WatchRequest,
    private readonly now: () => Date,
    /** The YAML library, loaded beforehand for -o yaml (printing happens inside the stream's callback). */
    private readonly yaml?: typeof import('yaml'),
  ) {
    const output = request.output;
    const headers = typeof output === 'object' && 'columns' in output ? output.columns.map((c) => c.header) : request.format.headers;
    this.rows = new RowWriter(io, [...(request.outputWatchEvents ? ['EVENT'] : []), ...headers]);
  }

  print(changes: readonly Change[]): void {
    const output = this.request.output;
    if (changes.length === 0) return;
    if (output === 'json' || output === 'yaml' || (typeof output === 'object' && 'jsonpath' in output)) {
      for (const c of changes) this.printData(c);
      return;
    }
    if (output === 'name') {
      for (const c of changes) writeLine(this.io.stdout, `${this.request.outputWatchEvents ? `${c.type} ` : ''}${this.request.format.name(c.object)}`);
      return;
    }
    const cells = (o: AnyObject) => (typeof output === 'object' && 'columns' in output ? customColumnsRow(output.columns, o) : this.request.format.row(o, this.now()));
    this.rows.write(changes.map((c) => [...(this.request.outputWatchEvents ? [c.type] : []), ...cells(c.object)]));
  }

  private printData(c: Change): void {
    const output = this.request.output;
    const object = this.request.showValues === true ? c.object : withSecretSizes(c.object);
    const data = this.request.outputWatchEvents ? { type: c.type, object } : object;
    if (typeof output === 'object' && 'jsonpath' in output) this.io.stdout.write(executeTemplate(output.jsonpath, data, output.source));
    else if (output === 'json') writeLine(this.io.stdout, JSON.stringify(data, null, 4));
    // YAML documents one after another, as kubectl prints them while watching.
    else this.io.stdout.write(`---\n${this.yaml!.stringify(data, { lineWidth: 0 })}`);
  }
}

/** Longest pause between attempts to reach a server that is down. */
const MAX_RETRY_MS = 30_000;

export async function runWatch(client: KubeClient, io: CliIO, request: WatchRequest, pause: Pause, signal: AbortSignal, now: () => Date = () => new Date()): Promise<void> {
  const printer = new ChangePrinter(io, request, now, request.output === 'yaml' ? await import('yaml') : undefined);
  const seen = new Map<string, { version: string | undefined; object: AnyObject }>();
  const wanted = (o: AnyObject) => (request.accept?.(o) ?? true) && (request.names.length === 0 || request.names.includes(o.metadata.name));

  const relist = async (print: boolean): Promise<string | undefined> => {
    const list = await client.listWithVersion(request.resource, request.scope);
    const items = list.items.filter(wanted);
    const changes = relistChanges(seen, items);
    seen.clear();
    for (const o of items) seen.set(key(o), { version: versionOf(o), object: o });
    if (print) printer.print(changes);
    return list.resourceVersion;
  };

  let version = await relist(!request.watchOnly);
  let retryMs = 1000;
  let outage = false;
  while (!signal.aborted) {
    const startedAt = pause.now();
    try {
      await client.watch(
        request.resource,
        request.scope,
        version,
        (event) => {
          if (event.type === 'ERROR') throw watchError(event.object);
          const v = versionOf(event.object);
          if (v !== undefined && v !== '') version = v;
          if (event.type === 'BOOKMARK' || !wanted(event.object)) return;
          const k = key(event.object);
          if (event.type === 'DELETED') seen.delete(k);
          else seen.set(k, { version: v, object: event.object });
          printer.print([{ type: event.type, object: event.object }]);
        },
        signal,
      );
      outage = false;
      retryMs = 1000;
    } catch (err) {
      if (signal.aborted) return;
      if (isGone(err)) {
        version = await relist(true);
        continue;
      }
      // A dropped stream (idle timeout, reset) is resumed at once; a server out of reach is retried; a refusal (403, 400) is final.
      if (!isGroveError(err)) {
        if (pause.now() - startedAt < 1000) await pause.sleep(1000);
        continue;
      }
      if (!isGroveError(err, ErrorCode.ServerUnavailable)) throw err;
      if (!outage) writeLine(io.stderr, `grove: watch interrupted (${errorMessage(err)}); retrying`);
      outage = true;
      await pause.sleep(retryMs);
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
      continue;
    }
    // The server ended the stream (its timeout): resume, but never spin on a server that ends every stream at once.
    if (pause.now() - startedAt < 1000) await pause.sleep(1000);
  }
}

/** The GroveError of an ERROR event: its Status' code (410 → relist) and message. */
function watchError(status: AnyObject): GroveError {
  const s = status as unknown as { code?: number; message?: string; reason?: string };
  const code = s.code === 410 ? ErrorCode.Conflict : ErrorCode.Internal;
  return new GroveError(code, `Error from server (${s.reason ?? 'Unknown'}): ${s.message ?? 'watch failed'}`, { details: { status: s.code ?? 500, ...(s.reason ? { reason: s.reason } : {}) } });
}
