/**
 * The log of each pod container's previous instance (`kubectl logs --previous`). A restart
 * removes the exited container, and with it its log; just before, the log files are moved (a
 * rename: no data is copied, flash sees a directory entry change) to
 * `<dir>/<container name>/`, replacing what the instance before left there. The directory of a
 * pod goes when the pod leaves the node (syncPods), as Kubernetes drops a deleted pod's logs.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../src/core/logger.js';
import { errorMessage } from '../../../src/core/errors.js';
import { listLogFiles, readLogLines } from '../shim/log-reader.js';
import { joinPartials, type RuntimeLogLine } from './node-runtime.js';

/** Container names are `<pod key>_<container>` (containerName); nothing else may become a path. */
const SAFE_NAME = /^[a-z0-9][a-z0-9._-]{0,511}$/;

export class PreviousLogs {
  private readonly log: Logger;

  constructor(
    private readonly dir: string,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'previous-logs' });
  }

  /**
   * Moves the log files of `stateDir` (an exited container's) to be `name`'s previous log. Never
   * throws: a restart must not fail because its old log could not be kept.
   */
  async keep(name: string, stateDir: string): Promise<void> {
    if (!SAFE_NAME.test(name)) return;
    const target = join(this.dir, name);
    try {
      const files = await listLogFiles(stateDir);
      await rm(target, { recursive: true, force: true });
      if (files.length === 0) return;
      await mkdir(target, { recursive: true, mode: 0o700 });
      for (const file of files) await rename(file, join(target, file.slice(stateDir.length + 1)));
    } catch (err) {
      this.log.warn({ container: name, err: errorMessage(err) }, 'could not keep the log of the previous instance');
    }
  }

  /** The previous instance's lines (the last `tail`), or undefined when none is kept. */
  async read(name: string, tail?: number): Promise<RuntimeLogLine[] | undefined> {
    if (!SAFE_NAME.test(name)) return undefined;
    const at = join(this.dir, name);
    if ((await listLogFiles(at)).length === 0) return undefined;
    const out: RuntimeLogLine[] = [];
    for await (const line of joinPartials(fromArray(await readLogLines(at, tail === undefined ? {} : { tail })))) out.push(line);
    return out;
  }

  /** Drops the previous logs of containers whose pod is not in `podKeys` (the pods still on the node). */
  async sync(podKeys: ReadonlySet<string>): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return; // nothing kept yet
    }
    for (const name of names) {
      const cut = name.lastIndexOf('_');
      if (cut > 0 && podKeys.has(name.slice(0, cut))) continue;
      await rm(join(this.dir, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
