/** Shared by the manifest unit tests: one validator, a parse that returns Apps, an error's text. */
import { createManifestValidator, parseManifests } from '../../src/core/manifests/index.js';
import type { App } from '../../src/core/resolved-pod.js';

const validator = createManifestValidator();

/** Parses `text` as if read from `file` (relative binds resolve against `dir` when given). */
export function parseApps(text: string, options: { file?: string; dir?: string } = {}): App[] {
  return parseManifests(text, { file: options.file ?? 'app.yaml' }, { validator, ...(options.dir ? { dir: options.dir } : {}) }) as App[];
}

/** The message `fn` throws, or "no error". */
export function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}
