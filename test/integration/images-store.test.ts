import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, GroveError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { ImageStore } from '../../agent/src/images/image-store.js';
import { hostPlatform } from '../../agent/src/images/platform.js';
import { isMountPoint, mountRootfs, unmountRootfs } from '../../agent/src/images/rootfs.js';
import {
  buildBusyboxImage,
  buildTwoPlatformIndex,
  platformString,
  tarBuffer,
  writeDockerSaveArchive,
  writeOciLayoutArchive,
  type BuiltImage,
} from '../support/image-builder.js';
import { describeWith } from '../support/prereq.js';

const logger = silentLogger();

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return err instanceof GroveError ? err.code : `not a GroveError: ${String(err)}`;
}

describeWith(['root'], 'image store: archives, snapshots, rootfs, removal', () => {
  let tmp: string;
  let image: BuiltImage;
  let n = 0;
  const mounted: string[] = [];
  const newStore = (): ImageStore => new ImageStore({ root: join(tmp, `store-${n++}`), logger });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'grove-store-it-'));
    image = await buildBusyboxImage({ layers: [[{ name: 'app/hello.txt', content: 'hello from layer 3\n' }, { name: 'etc/.wh.group', content: '' }]] });
  });

  afterEach(async () => {
    for (const dir of mounted.splice(0)) await unmountRootfs(dir).catch(() => undefined);
  });

  afterAll(async () => {
    for (const dir of mounted.splice(0)) await unmountRootfs(dir).catch(() => undefined);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe('archive import (no registry)', () => {
    it('imports a docker save archive and runs busybox from its snapshot', async () => {
      const file = join(tmp, 'saved.tar');
      await writeDockerSaveArchive(file, image, 'busybox:saved');
      const store = newStore();
      const [record] = await store.importArchive(file);
      expect(record!.names).toEqual(['docker.io/library/busybox:saved']);
      expect(record!.configDigest).toBe(image.config.digest);
      expect(record!.diffIds).toEqual(image.layers.map((l) => l.diffId));
      expect(record!.layers).toEqual(image.layers.map((l) => l.diffId)); // uncompressed layer.tar blobs
      expect(record!.platform).toEqual(hostPlatform());
      const manifest = JSON.parse((await store.content.get(record!.digest)).toString()) as { layers: { mediaType: string }[] };
      expect(manifest.layers[0]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
      const rootfs = await store.snapshot(record!);
      expect(execFileSync(join(rootfs, 'bin/busybox'), ['echo', 'ok']).toString()).toBe('ok\n');
      expect(readFileSync(join(rootfs, 'app/hello.txt'), 'utf8')).toBe('hello from layer 3\n');
      expect(existsSync(join(rootfs, 'etc/group'))).toBe(false); // whited out by layer 3
      expect(existsSync(join(rootfs, 'etc/passwd'))).toBe(true);
      expect((await store.get('busybox:saved'))?.digest).toBe(record!.digest);
      expect(readdirSync(store.content.ingestDir)).toEqual([]);
    });

    it('imports a gzip-compressed docker save archive', async () => {
      const plain = join(tmp, 'saved2.tar');
      await writeDockerSaveArchive(plain, image, 'registry.local:5000/app:1.0');
      const file = `${plain}.gz`;
      writeFileSync(file, gzipSync(readFileSync(plain)));
      const [record] = await newStore().importArchive(file);
      expect(record!.names).toEqual(['registry.local:5000/app:1.0']);
    });

    it('imports an OCI layout archive (single image and a two-platform index)', async () => {
      const single = join(tmp, 'oci.tar');
      await writeOciLayoutArchive(single, image, 'docker.io/library/busybox:oci');
      const store = newStore();
      const [record] = await store.importArchive(single);
      expect(record!.names).toEqual(['docker.io/library/busybox:oci']);
      expect(record!.digest).toBe(image.manifest.digest);
      expect(record!.layers).toEqual(image.layers.map((l) => l.digest));

      const index = await buildTwoPlatformIndex();
      const multi = join(tmp, 'oci-multi.tar');
      await writeOciLayoutArchive(multi, index, 'busybox:multi');
      const [m] = await store.importArchive(multi);
      expect(m!.names).toEqual(['docker.io/library/busybox:multi']);
      expect(m!.indexDigest).toBe(index.index.digest);
      expect(m!.platform).toEqual(hostPlatform());
      expect(readFileSync(join(await store.snapshot(m!), 'etc/grove-platform'), 'utf8').trim()).toBe(platformString(hostPlatform()));

      const flat = join(tmp, 'oci-flat.tar');
      await writeOciLayoutArchive(flat, index, 'busybox:flat', { flat: true });
      const imported = await store.importArchive(flat);
      expect(imported).toHaveLength(1);
      expect(imported[0]!.digest).toBe(m!.digest); // same image as busybox:multi: names merge
      expect(imported[0]!.names.sort()).toEqual(['docker.io/library/busybox:flat', 'docker.io/library/busybox:multi']);
      expect(imported[0]!.platform).toEqual(hostPlatform());
    });

    it('refuses a tampered blob, leaving nothing behind', async () => {
      const file = join(tmp, 'tampered.tar');
      const bad = { ...image, layers: [...image.layers] };
      const l = image.layers[1]!;
      const data = Buffer.from(l.data);
      data[data.length - 5] = data[data.length - 5]! ^ 0xff;
      bad.layers[1] = { ...l, data };
      await writeOciLayoutArchive(file, bad, 'busybox:bad');
      const store = newStore();
      expect(await codeOf(store.importArchive(file))).toBe(ErrorCode.DigestMismatch);
      expect(await store.content.list()).toEqual([]);
      expect(await store.list()).toEqual([]);
      expect(readdirSync(store.content.ingestDir)).toEqual([]);
    });

    it('refuses archives with ".." paths, unknown formats and bad config digests', async () => {
      const store = newStore();
      const dotdot = join(tmp, 'dotdot.tar');
      await writeFile(dotdot, await tarBuffer([{ name: '../evil', content: 'x' }]));
      expect(await codeOf(store.importArchive(dotdot))).toBe(ErrorCode.ArchiveInvalid);
      const other = join(tmp, 'other.tar');
      await writeFile(other, await tarBuffer([{ name: 'hello.txt', content: 'x' }]));
      expect(await codeOf(store.importArchive(other))).toBe(ErrorCode.ArchiveInvalid);
      const wrongName = join(tmp, 'wrong-config.tar');
      await writeFile(
        wrongName,
        await tarBuffer([
          { name: `${'0'.repeat(64)}.json`, content: image.config.data },
          { name: 'manifest.json', content: JSON.stringify([{ Config: `${'0'.repeat(64)}.json`, RepoTags: ['x:y'], Layers: [] }]) },
        ]),
      );
      expect(await codeOf(store.importArchive(wrongName))).toBe(ErrorCode.DigestMismatch);
      expect(await store.content.list()).toEqual([]);
    });
  });

  describe('snapshots', () => {
    it('are unpacked once, also under concurrent calls', async () => {
      const file = join(tmp, 'snap.tar');
      await writeOciLayoutArchive(file, image, 'snap:1');
      const store = newStore();
      const [record] = await store.importArchive(file);
      const started = performance.now();
      const [a, b] = await Promise.all([store.snapshot(record!), store.snapshot(record!)]);
      console.info(`[measure] snapshot unpack of the busybox fixture: ${(performance.now() - started).toFixed(0)} ms`);
      expect(a).toBe(b);
      const inode = statSync(a).ino;
      expect(await store.snapshot(record!)).toBe(a);
      expect(statSync(a).ino).toBe(inode);
      expect(store.snapshots.unpacked).toBe(1);
      expect(readdirSync(join(a, '..', '..')).filter((x) => x.includes('.tmp-'))).toEqual([]);
      expect(statSync(join(a, 'tmp')).mode & 0o7777).toBe(0o1777);
    });

    it('a failed unpack leaves no snapshot directory', async () => {
      const file = join(tmp, 'snap-bad.tar');
      await writeOciLayoutArchive(file, image, 'snap:bad');
      const store = newStore();
      const [record] = await store.importArchive(file);
      const broken = { ...record!, diffIds: [...record!.diffIds.slice(0, -1), `sha256:${'1'.repeat(64)}`] };
      expect(await codeOf(store.snapshot(broken))).toBe(ErrorCode.DigestMismatch);
      expect(readdirSync(join(store.root, 'snapshots'))).toEqual([]);
    });
  });

  describe('container rootfs', () => {
    let store: ImageStore;
    let lower: string;
    beforeAll(async () => {
      const file = join(tmp, 'rootfs.tar');
      await writeOciLayoutArchive(file, image, 'rootfs:1');
      store = newStore();
      const [record] = await store.importArchive(file);
      lower = await store.snapshot(record!);
    });

    describeWith(['overlay'], 'overlay', () => {
      it('mounts an overlay over the snapshot and unmounts idempotently', async () => {
        const containerDir = join(tmp, 'c-overlay');
        mounted.push(containerDir);
        const { rootfs, kind } = await mountRootfs({ lower, containerDir });
        expect(kind).toBe('overlay');
        expect(await isMountPoint(rootfs)).toBe(true);
        expect(await mountRootfs({ lower, containerDir })).toEqual({ rootfs, kind: 'overlay' });
        writeFileSync(join(rootfs, 'etc/written-by-container'), 'x');
        expect(existsSync(join(containerDir, 'upper/etc/written-by-container'))).toBe(true);
        expect(existsSync(join(lower, 'etc/written-by-container'))).toBe(false);
        expect(execFileSync(join(rootfs, 'bin/busybox'), ['cat', join(rootfs, 'app/hello.txt')]).toString()).toBe('hello from layer 3\n');
        await unmountRootfs(containerDir);
        expect(await isMountPoint(rootfs)).toBe(false);
        await unmountRootfs(containerDir);
        await unmountRootfs(join(tmp, 'never-existed'));
        // remount after "reboot": the container's writes are still there
        await mountRootfs({ lower, containerDir });
        expect(readFileSync(join(rootfs, 'etc/written-by-container'), 'utf8')).toBe('x');
        await unmountRootfs(containerDir);
      });
    });

    it('copies the snapshot when copy mode is forced', async () => {
      const containerDir = join(tmp, 'c-copy');
      const { rootfs, kind } = await mountRootfs({ lower, containerDir, mode: 'copy' });
      expect(kind).toBe('copy');
      expect(await isMountPoint(rootfs)).toBe(false);
      expect(statSync(join(rootfs, 'bin/busybox')).mode & 0o777).toBe(0o755);
      writeFileSync(join(rootfs, 'etc/written-by-container'), 'x');
      expect(existsSync(join(lower, 'etc/written-by-container'))).toBe(false);
      expect(await mountRootfs({ lower, containerDir })).toEqual({ rootfs, kind: 'copy' });
      await unmountRootfs(containerDir);
      expect(existsSync(join(rootfs, 'etc/written-by-container'))).toBe(true);
    });

    it('falls back to a copy when the overlay mount fails', async () => {
      const odd = join(tmp, 'lower,with,commas');
      await mkdir(odd);
      execFileSync('cp', ['-a', `${lower}/.`, odd]);
      const containerDir = join(tmp, 'c-fallback');
      mounted.push(containerDir);
      const { kind, rootfs } = await mountRootfs({ lower: odd, containerDir });
      expect(kind).toBe('copy');
      expect(existsSync(join(rootfs, 'bin/busybox'))).toBe(true);
      expect(await codeOf(mountRootfs({ lower: odd, containerDir: join(tmp, 'c-forced'), mode: 'overlay' }))).toBe(ErrorCode.RuntimeFailed);
    });
  });

  describe('remove and prune', () => {
    it('untags, refuses in-use images, removes records, snapshots and unreferenced blobs', async () => {
      const store = newStore();
      const other = await buildBusyboxImage({ marker: 'other image' });
      const f1 = join(tmp, 'rm1.tar');
      const f2 = join(tmp, 'rm2.tar');
      await writeOciLayoutArchive(f1, image, 'busybox:one');
      await writeOciLayoutArchive(f2, other, 'busybox:two');
      const [one] = await store.importArchive(f1);
      const [two] = await store.importArchive(f2);
      // a second name for image one
      await writeOciLayoutArchive(f1, image, 'busybox:alias');
      await store.importArchive(f1);
      expect((await store.get('busybox:one'))?.names.sort()).toEqual(['docker.io/library/busybox:alias', 'docker.io/library/busybox:one']);
      const snap = await store.snapshot(one!);

      expect(await store.remove('busybox:alias')).toEqual({ untagged: ['docker.io/library/busybox:alias'], freedBytes: 0 });
      expect(await codeOf(store.remove('busybox:one', (d) => d === one!.digest))).toBe(ErrorCode.ImageInUse);
      expect(await store.get('busybox:one')).toBeDefined();

      const shared = image.layers[0]!.digest; // busybox layer, also used by image two
      expect(two!.layers[0]).toBe(shared);
      const result = await store.remove('busybox:one');
      expect(result.deleted).toBe(one!.digest);
      expect(result.freedBytes).toBeGreaterThan(image.layers[2]!.size);
      expect(await store.get('busybox:one')).toBeUndefined();
      expect(existsSync(snap)).toBe(false);
      expect(await store.content.has(shared)).toBe(true);
      expect(await store.content.has(image.layers[2]!.digest)).toBe(false);
      expect(await store.content.has(image.manifest.digest)).toBe(false);
      expect(await codeOf(store.remove('busybox:one'))).toBe(ErrorCode.ImageNotFound);

      const pruned = await store.prune(new Set([two!.digest]));
      expect(pruned).toEqual({ removed: [], freedBytes: 0 });
      const all = await store.prune(new Set());
      expect(all.removed).toEqual([two!.digest]);
      expect(all.freedBytes).toBeGreaterThan(two!.size - 1);
      expect(await store.content.list()).toEqual([]);
      expect(await store.list()).toEqual([]);
    });

    it('resolves IDs: full digest, config-digest prefix, ambiguity', async () => {
      const store = newStore();
      const f = join(tmp, 'ids.tar');
      await writeOciLayoutArchive(f, image, 'ids:1');
      const [r] = await store.importArchive(f);
      expect((await store.get(r!.configDigest.slice(7, 11)))?.digest).toBe(r!.digest);
      expect((await store.get(r!.configDigest))?.digest).toBe(r!.digest);
      expect((await store.get(r!.digest.slice(7)))?.digest).toBe(r!.digest);
      expect((await store.get('docker.io/library/ids:1'))?.digest).toBe(r!.digest);
      expect(await store.get('ids:2')).toBeUndefined();
      expect(await codeOf(store.get('Not A Ref'))).toBe(ErrorCode.InvalidImageReference);
    });
  });
});

describeWith(['root', 'skopeo'], 'archives written by skopeo', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'grove-skopeo-it-'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('imports a docker-archive and an oci-archive produced by skopeo', async () => {
    const image = await buildBusyboxImage();
    const src = join(tmp, 'src.tar');
    await writeOciLayoutArchive(src, image, 'busybox:src');
    const dockerArchive = join(tmp, 'docker-archive.tar');
    const ociArchive = join(tmp, 'oci-archive.tar');
    execFileSync('skopeo', ['copy', '-q', `oci-archive:${src}:busybox:src`, `docker-archive:${dockerArchive}:busybox:skopeo`]);
    execFileSync('skopeo', ['copy', '-q', `oci-archive:${src}:busybox:src`, `oci-archive:${ociArchive}:docker.io/library/busybox:skopeo-oci`]);
    const store = new ImageStore({ root: join(tmp, 'store'), logger });
    const [d] = await store.importArchive(dockerArchive);
    expect(d!.names).toEqual(['docker.io/library/busybox:skopeo']);
    expect(d!.diffIds).toEqual(image.layers.map((l) => l.diffId));
    const [o] = await store.importArchive(ociArchive);
    expect(o!.names).toEqual(['docker.io/library/busybox:skopeo-oci']);
    const rootfs = await store.snapshot(o!);
    expect(execFileSync(join(rootfs, 'bin/sh'), ['-c', 'echo $((6*7))']).toString()).toBe('42\n');
  });
});
