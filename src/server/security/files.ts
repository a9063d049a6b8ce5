/**
 * File helpers for the security material (CA, server credentials, Mosquitto files); writes go
 * through the shared durable writer so a power cut never leaves half a key behind.
 */
import { mkdir, readFile } from 'node:fs/promises';

export { writeFileAtomic } from '../../store/durable-file.js';

export async function ensureDir(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}

/** The file's text, or undefined when it does not exist (other errors propagate). */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
