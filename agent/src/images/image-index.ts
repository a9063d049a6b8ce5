import { promises as fsp } from 'node:fs';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { writeFileAtomic } from '../../../src/store/durable-file.js';
import type { ImageRecord } from './types.js';

interface IndexFile {
  version: 1;
  images: ImageRecord[];
}

/**
 * The local image records, persisted as one JSON file (`<root>/images.json`) written
 * atomically (temp + fsync + rename) and only when its content changed. A name belongs to at
 * most one record: tagging an image moves the name away from the image that had it.
 */
export class ImageIndex {
  private records = new Map<string, ImageRecord>();
  private lastWritten: string | undefined;

  constructor(readonly file: string) {}

  async load(): Promise<void> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.records.clear();
        this.lastWritten = undefined;
        return;
      }
      throw err;
    }
    let parsed: IndexFile;
    try {
      parsed = JSON.parse(text) as IndexFile;
    } catch (err) {
      throw new GroveError(ErrorCode.Internal, `${this.file} is corrupt: ${(err as Error).message}`, { cause: err });
    }
    if (parsed.version !== 1 || !Array.isArray(parsed.images)) {
      throw new GroveError(ErrorCode.Internal, `${this.file}: unsupported format (version ${String(parsed.version)})`);
    }
    this.records = new Map(parsed.images.map((r) => [r.digest, r]));
    this.lastWritten = this.serialize();
  }

  /** Writes the file if anything changed since the last load/save. Returns whether it wrote. */
  async save(): Promise<boolean> {
    const text = this.serialize();
    if (text === this.lastWritten) return false;
    await writeFileAtomic(this.file, text);
    this.lastWritten = text;
    return true;
  }

  private serialize(): string {
    const images = [...this.records.values()].sort((a, b) => a.digest.localeCompare(b.digest));
    return `${JSON.stringify({ version: 1, images } satisfies IndexFile, null, 2)}\n`;
  }

  all(): ImageRecord[] {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  byDigest(digest: string): ImageRecord | undefined {
    const r = this.records.get(digest);
    return r ? structuredClone(r) : undefined;
  }

  byName(name: string): ImageRecord | undefined {
    for (const r of this.records.values()) if (r.names.includes(name)) return structuredClone(r);
    return undefined;
  }

  /**
   * Inserts or replaces the record for `record.digest`, keeping names it already had, adding
   * `record.names`, and removing those names from every other record. Returns the stored record.
   */
  put(record: ImageRecord): ImageRecord {
    const existing = this.records.get(record.digest);
    const names = [...new Set([...(existing?.names ?? []), ...record.names])];
    for (const other of this.records.values()) {
      if (other.digest === record.digest) continue;
      const kept = other.names.filter((n) => !record.names.includes(n));
      if (kept.length !== other.names.length) other.names = kept;
    }
    const stored: ImageRecord = { ...(existing ?? record), ...record, names, createdAt: existing?.createdAt ?? record.createdAt };
    this.records.set(record.digest, stored);
    return structuredClone(stored);
  }

  /** Removes one name; returns the record it belonged to (with its remaining names). */
  untag(name: string): ImageRecord | undefined {
    for (const r of this.records.values()) {
      if (r.names.includes(name)) {
        r.names = r.names.filter((n) => n !== name);
        return structuredClone(r);
      }
    }
    return undefined;
  }

  delete(digest: string): boolean {
    return this.records.delete(digest);
  }
}
