/**
 * A pod's volumes on the node, prepared when one of its containers starts and bound into it:
 *
 * (<pod> is the pod's key on the node, podKey: its name, or <namespace>_<name> outside default)
 *
 *   emptyDir                <data>/pods/<pod>/volumes/<name>/   shared by the pod's containers,
 *                           kept across their restarts; tmpfs for medium Memory
 *   configMap / secret /    <data>/pods/<pod>/volumes/<name>/   atomic-writer layout, read-only,
 *   downwardAPI / projected refreshed in place when the plan says so (refresh-config) and
 *                           when the pod's labels or annotations change (refreshDownward);
 *                           any Secret in it: on tmpfs
 *   persistentVolumeClaim   <data>/volumes/<claim>/             a named volume (named-volumes.ts)
 *   hostPath                the host path itself, after the roots and type checks
 *
 * With the pod's securityContext.fsGroup, emptyDir, PVC, ConfigMap and Secret volumes are given
 * that group (fs-group.ts): the first time the agent prepares them for the pod, and again after
 * each rewrite of a ConfigMap's or Secret's files.
 *
 * A pod's directory goes when the pod has neither a target nor a container left (`sync`).
 * What one preparation created is undone when it fails, so nothing is left half-made.
 */
import { mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../../src/core/errors.js';
import type { Logger } from '../../../../src/core/logger.js';
import type { Volume, VolumeMount } from '../../../../src/core/resolved-pod.js';
import { ErrorCode, GroveError } from '../../../../src/core/errors.js';
import type { WirePodTarget } from '../../../../src/core/objects/wire.js';
import type { Container } from '../../../../src/core/objects/pod-container.js';
import type { BindMount } from '../../runtime/host-access.js';
import { fsGroupOf, podKey, volumesOf } from '../plan/pod-fields.js';
import { applyFsGroup, type FsGroupChoice } from './fs-group.js';
import { sameRef } from '../../../../src/core/config-refs.js';
import type { ConfigRef, ConfigSource } from '../config-source.js';
import { writeAtomic } from './atomic-writer.js';
import { checkHostPathRoots, prepareHostPath } from './host-path.js';
import { namedVolumeDir } from './named-volumes.js';
import { secretTmpfsBytes, volumeFiles, volumeProjectionOf, type VolumeProjection } from './projections.js';
import type { DownwardContext, NodeCapacity } from './downward.js';
import { systemTmpfs, type TmpfsMounter } from '../../runtime/tmpfs.js';

/** Memory emptyDirs without a sizeLimit: tmpfs must have one, and a pod must not fill RAM. */
export const DEFAULT_MEMORY_EMPTYDIR_BYTES = 64 * 1024 * 1024;

export interface PodVolumesOptions {
  /** The agent's data dir: pods/ and volumes/ are made under it. */
  dataDir: string;
  logger: Logger;
  config?: ConfigSource;
  /** The node's allowed hostPath roots; absent = any absolute path. */
  hostPathRoots?: readonly string[];
  tmpfs?: TmpfsMounter;
  /** The node's capacity: what resourceFieldRef reads for a limit a container does not set (default: none known, 0). */
  node?: NodeCapacity;
}

interface Projection {
  pod: string;
  volume: string;
  dir: string;
  projection: VolumeProjection;
  /** The pod as last written (downward files read its fields). */
  target: WirePodTarget;
  version: string;
  /** The pod's fsGroup, given to each new version of the files. */
  fsGroup?: FsGroupChoice;
}

/** Undo steps of one preparation, run newest first when it fails. */
type Undo = (() => Promise<unknown>)[];

export class PodVolumes {
  private readonly log: Logger;
  private readonly tmpfs: TmpfsMounter;
  /** "pod/volume" → its projection (ConfigMap, Secret, downwardAPI, projected), for refreshes. */
  private readonly projections = new Map<string, Projection>();
  /** "pod/volume" whose fsGroup was applied since the agent started. */
  private readonly grouped = new Set<string>();
  /** Serialises writes to the volume directories (starts, refreshes, removals). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PodVolumesOptions) {
    this.log = options.logger.child({ component: 'agent-volumes' });
    this.tmpfs = options.tmpfs ?? systemTmpfs;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  podDir(pod: string): string {
    return join(this.options.dataDir, 'pods', pod);
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Prepares the volumes `container` mounts and returns its bind mounts. */
  mountsFor(pod: WirePodTarget, container: Container): Promise<BindMount[]> {
    const mounts = container.volumeMounts ?? [];
    if (mounts.length === 0) return Promise.resolve([]);
    return this.serial(async () => {
      const undo: Undo = [];
      try {
        const out: BindMount[] = [];
        for (const m of mounts) {
          const volume = volumesOf(pod).find((v) => v.name === m.name);
          if (!volume) throw new GroveError(ErrorCode.InvalidArgument, `volume mount "${m.name}": the pod has no volume of that name`);
          const prepared = await this.prepare(pod, volume, undo, fsGroupOf(pod));
          out.push(await bindFor(volume, prepared, m));
        }
        return out;
      } catch (err) {
        for (const step of undo.reverse()) await step().catch(() => undefined);
        throw err;
      }
    });
  }

  /** The host directory (or file) behind one volume, made if needed, given the pod's fsGroup. */
  private async prepare(target: WirePodTarget, volume: Volume, undo: Undo, fsGroup: FsGroupChoice | undefined): Promise<{ path: string; readOnly: boolean }> {
    const prepared = await this.make(target, volume, undo, fsGroup);
    const key = `${podKey(target)}/${volume.name}`;
    // Not hostPath (the kubelet leaves those alone either); projections apply it as they write.
    if (fsGroup && !('hostPath' in volume) && !this.grouped.has(key)) {
      await applyFsGroup(prepared.path, fsGroup, prepared.readOnly);
      this.grouped.add(key);
    }
    return prepared;
  }

  private async make(target: WirePodTarget, volume: Volume, undo: Undo, fsGroup: FsGroupChoice | undefined): Promise<{ path: string; readOnly: boolean }> {
    const pod = podKey(target);
    if ('hostPath' in volume) {
      await checkHostPathRoots(volume.name, volume.hostPath.path, this.options.hostPathRoots);
      await prepareHostPath(volume.name, volume.hostPath.path, volume.hostPath.type);
      return { path: volume.hostPath.path, readOnly: false };
    }
    if ('persistentVolumeClaim' in volume) {
      const dir = namedVolumeDir(this.options.dataDir, volume.persistentVolumeClaim.claimName);
      await this.makeDir(dir, 0o755, undo);
      return { path: dir, readOnly: volume.persistentVolumeClaim.readOnly === true };
    }
    const dir = join(this.podDir(pod), 'volumes', volume.name);
    if ('emptyDir' in volume) {
      // 0777 as in Kubernetes: containers running as any user share it.
      const made = await this.makeDir(dir, 0o777, undo);
      if (volume.emptyDir.medium === 'Memory' && (made || !(await this.tmpfs.isMounted(dir)))) {
        await this.tmpfs.mount(dir, volume.emptyDir.sizeLimitBytes ?? DEFAULT_MEMORY_EMPTYDIR_BYTES, 0o777);
        undo.push(() => this.tmpfs.unmount(dir));
      }
      return { path: dir, readOnly: false };
    }
    const projection = volumeProjectionOf(volume, target.namespace)!;
    const key = `${pod}/${volume.name}`;
    const known = this.projections.get(key);
    const current = volumeFiles(projection, this.options.config, this.downwardContext(target));
    if (known && known.version === current.version && (await exists(join(dir, '..data')))) return { path: dir, readOnly: true };
    const made = await this.makeDir(dir, 0o755, undo);
    if (projection.secret) {
      if (made || !(await this.tmpfs.isMounted(dir))) {
        await this.tmpfs.mount(dir, secretTmpfsBytes(current.files), 0o755);
        undo.push(() => this.tmpfs.unmount(dir));
      } else await this.tmpfs.resize(dir, secretTmpfsBytes(current.files));
    }
    await writeAtomic(dir, current.files);
    if (fsGroup) await applyFsGroup(dir, fsGroup, true);
    this.projections.set(key, { pod, volume: volume.name, dir, projection, target, version: current.version, ...(fsGroup ? { fsGroup } : {}) });
    if (!known) undo.push(async () => this.projections.delete(key));
    return { path: dir, readOnly: true };
  }

  /** mkdir with an undo step when it made the directory; true when it did. */
  private async makeDir(dir: string, mode: number, undo: Undo): Promise<boolean> {
    if (await exists(dir)) return false;
    const first = await mkdir(dir, { recursive: true, mode });
    // The whole chain it made goes on failure, not only the leaf.
    if (first) undo.push(() => rm(first, { recursive: true, force: true }));
    return true;
  }

  /** Rewrites the projections of changed objects (in place: running containers see it). */
  refresh(changed: readonly ConfigRef[]): Promise<void> {
    return this.serial(async () => {
      for (const p of this.projections.values()) {
        if (!changed.some((c) => p.projection.config.some((s) => sameRef(c, s)))) continue;
        await this.rewrite(p, p.target);
      }
    });
  }

  /**
   * Rewrites the downward files of `targets`' pods whose labels or annotations (or anything
   * else they read) changed; nothing is written when nothing changed (each round asks).
   */
  refreshDownward(targets: readonly WirePodTarget[]): Promise<void> {
    const byKey = new Map(targets.map((t) => [podKey(t), t]));
    const stale = [...this.projections.values()].filter((p) => p.projection.downward.length > 0 && byKey.has(p.pod) && byKey.get(p.pod) !== p.target);
    if (stale.length === 0) return Promise.resolve();
    return this.serial(async () => {
      for (const p of stale) await this.rewrite(p, byKey.get(p.pod)!);
    });
  }

  /** Writes a projection's files again when their version moved; a failure keeps the last good files, as in Kubernetes. */
  private async rewrite(p: Projection, target: WirePodTarget): Promise<void> {
    try {
      const current = volumeFiles(p.projection, this.options.config, this.downwardContext(target));
      p.target = target;
      if (current.version === p.version) return;
      // A grown Secret must still fit its tmpfs next to the old version during the swap.
      if (p.projection.secret) await this.tmpfs.resize(p.dir, secretTmpfsBytes(current.files));
      await writeAtomic(p.dir, current.files);
      if (p.fsGroup) await applyFsGroup(p.dir, p.fsGroup, true);
      p.version = current.version;
      this.log.info({ pod: p.pod, volume: p.volume, sources: current.version }, 'volume files updated');
    } catch (err) {
      this.log.warn({ pod: p.pod, volume: p.volume, err: errorMessage(err) }, 'volume files not updated');
    }
  }

  private downwardContext(pod: WirePodTarget): DownwardContext {
    return { pod, node: this.options.node ?? { cpus: 0, memoryBytes: 0 } };
  }

  /**
   * Keeps the directories of `keep` (pods with a target or a container) and removes the rest,
   * unmounting their tmpfs first. Also re-learns projections of kept pods after a restart.
   */
  sync(keep: ReadonlySet<string>, targets: readonly WirePodTarget[] = []): Promise<void> {
    return this.serial(async () => {
      const root = join(this.options.dataDir, 'pods');
      const pods = await readdir(root).catch(() => [] as string[]);
      for (const pod of pods) {
        if (keep.has(pod)) continue;
        await this.removePod(pod);
      }
      for (const pod of targets) this.relearn(pod);
    });
  }

  /**
   * Removes one pod's volume directories now (tmpfs unmounted first): for a pod sandbox's
   * teardown, once the pod's last container is gone. `sync` does the same for every stale pod.
   */
  collectPod(pod: string): Promise<void> {
    return this.serial(() => this.removePod(pod));
  }

  private relearn(pod: WirePodTarget): void {
    const at = podKey(pod);
    const fsGroup = fsGroupOf(pod);
    for (const volume of volumesOf(pod)) {
      const projection = volumeProjectionOf(volume, pod.namespace);
      const key = `${at}/${volume.name}`;
      if (!projection || this.projections.has(key)) continue;
      // Unknown version: the next change (or start) rewrites it.
      this.projections.set(key, { pod: at, volume: volume.name, dir: join(this.podDir(at), 'volumes', volume.name), projection, target: pod, version: '', ...(fsGroup ? { fsGroup } : {}) });
    }
  }

  private async removePod(pod: string): Promise<void> {
    const volumesDir = join(this.podDir(pod), 'volumes');
    for (const name of await readdir(volumesDir).catch(() => [] as string[])) {
      const dir = join(volumesDir, name);
      if (await this.tmpfs.isMounted(dir)) {
        try {
          await this.tmpfs.unmount(dir);
        } catch (err) {
          // Never rm -rf through a mount we could not take down: try again next time.
          this.log.warn({ pod, volume: name, err: errorMessage(err) }, 'volume still mounted, kept');
          return;
        }
      }
    }
    for (const key of [...this.projections.keys()]) if (key.startsWith(`${pod}/`)) this.projections.delete(key);
    for (const key of [...this.grouped]) if (key.startsWith(`${pod}/`)) this.grouped.delete(key);
    await rm(this.podDir(pod), { recursive: true, force: true });
    this.log.debug({ pod }, 'pod volumes removed');
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** The bind for one mount: subPath made inside the volume and kept inside it (no symlink escapes). */
async function bindFor(volume: Volume, prepared: { path: string; readOnly: boolean }, m: VolumeMount): Promise<BindMount> {
  const readOnly = prepared.readOnly || m.readOnly === true;
  let source = prepared.path;
  if (m.subPath) {
    source = join(prepared.path, m.subPath);
    const writable = 'emptyDir' in volume || 'persistentVolumeClaim' in volume || 'hostPath' in volume;
    if (writable && !(await exists(source))) await mkdir(source, { recursive: true, mode: 0o755 });
    const [real, base] = await Promise.all([realpath(source).catch(() => undefined), realpath(prepared.path)]);
    if (real === undefined) throw new GroveError(ErrorCode.InvalidArgument, `volume "${volume.name}": subPath "${m.subPath}" does not exist`);
    // A container can plant a symlink in its volume; following it out would expose the host.
    if (real !== base && !real.startsWith(`${base}/`)) {
      throw new GroveError(ErrorCode.InvalidArgument, `volume "${volume.name}": subPath "${m.subPath}" leads outside the volume`);
    }
    source = real;
  }
  return { source, destination: m.mountPath, ...(readOnly ? { readOnly: true } : {}) };
}
