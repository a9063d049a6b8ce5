/** Shapes shared by the image store, the runtime and `grove ctr`. */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The subset of the OCI image config that decides how a container runs. */
export interface ImageRunConfig {
  env: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  user: string;
  labels: Record<string, string>;
  stopSignal?: string;
}

export interface ImageRecord {
  /** Canonical references pointing at this image, e.g. docker.io/library/busybox:latest. */
  names: string[];
  /** Digest of the platform-specific image manifest: the image's identity. */
  digest: string;
  /** Digest of the index / manifest list it was selected from, if any. */
  indexDigest?: string;
  /** Digest of the image config blob (docker's "image ID"). */
  configDigest: string;
  platform: Platform;
  config: ImageRunConfig;
  /** Compressed layer blob digests, base layer first. */
  layers: string[];
  /** Uncompressed layer digests from the config's rootfs.diff_ids. */
  diffIds: string[];
  /** Sum of layer and config blob sizes in bytes. */
  size: number;
  /** When it arrived here (pull or import), RFC 3339. */
  createdAt: string;
}

export type PullProgress =
  | { type: 'resolved'; reference: string; digest: string; layers: number; totalBytes: number }
  | { type: 'blob'; digest: string; receivedBytes: number; totalBytes: number; resumedFrom?: number }
  | { type: 'blob-done'; digest: string; cached: boolean }
  | { type: 'done'; digest: string };
