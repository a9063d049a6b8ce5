/** Bounds of an offline image import (archive-import.ts), apart so that the image store names them without loading the importer. */
export interface ImportLimits {
  /** Sum of file sizes in the archive (default 16 GiB). */
  maxBytes: number;
  /** Entries in the archive (default 100,000). */
  maxEntries: number;
  /** manifest.json / index.json / manifests (default 4 MiB). */
  maxManifestBytes: number;
  /** Image configs (default 8 MiB). */
  maxConfigBytes: number;
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxBytes: 16 * 1024 ** 3,
  maxEntries: 100_000,
  maxManifestBytes: 4 * 1024 * 1024,
  maxConfigBytes: 8 * 1024 * 1024,
};
