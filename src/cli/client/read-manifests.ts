import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { manifestsToObjects, type ManifestOptions, type ObjectSource } from '../../core/manifests/manifest-objects.js';
import { problemsError } from '../../core/manifests/problems.js';
import type { AnyObject } from '../../core/objects/changes.js';

const MAX_MANIFEST_BYTES = 1024 * 1024;
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface ManifestText {
  file: string;
  text: string;
}

async function readLimited(file: string, read: () => Promise<Buffer>): Promise<ManifestText> {
  const data = await read();
  if (data.length > MAX_MANIFEST_BYTES) throw new GroveError(ErrorCode.ManifestInvalid, `${file}: larger than 1 MiB`);
  return { file, text: data.toString('utf8') };
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `-f` arguments: files, directories (their .yaml/.yml/.json files, not recursive) or `-`. */
export async function readManifestSources(paths: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<ManifestText[]> {
  const texts: ManifestText[] = [];
  for (const path of paths) {
    if (path === '-') {
      texts.push(await readLimited('<stdin>', () => readStdin(stdin)));
      continue;
    }
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      throw new GroveError(ErrorCode.InvalidArgument, `${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, { cause: err });
    });
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => MANIFEST_EXTENSIONS.has(extname(n))).sort();
      if (names.length === 0) throw new GroveError(ErrorCode.InvalidArgument, `${path}: no .yaml, .yml or .json files`);
      for (const name of names) texts.push(await readLimited(join(path, name), () => readFile(join(path, name))));
    } else {
      texts.push(await readLimited(path, () => readFile(path)));
    }
  }
  return texts;
}

/**
 * Reads every source and turns them into objects, each with the file and document it came from;
 * any problem in any file stops everything (nothing sent), and every problem is reported: one
 * ManifestInvalid error, one line each.
 */
export async function loadSourcedObjects(paths: string[], stdin?: NodeJS.ReadableStream, options: ManifestOptions = {}): Promise<SourcedObjects> {
  return (await sourcedObjectsTranslator(paths, stdin))(options);
}

/** What a read of manifest files gives: the objects, where each came from, and the warnings to print (compose interpolation). */
export interface SourcedObjects {
  objects: AnyObject[];
  sources: ObjectSource[];
  warnings: string[];
}

/**
 * loadSourcedObjects for a caller that translates the same sources again with other options
 * (apply's compose project namespaces): read once, as stdin can be read only once.
 */
export async function sourcedObjectsTranslator(paths: string[], stdin?: NodeJS.ReadableStream): Promise<(options: ManifestOptions) => SourcedObjects> {
  const files = (await readManifestSources(paths, stdin)).map(({ file, text }) => ({ path: file, text, ...(file === '<stdin>' ? {} : { dir: dirname(resolve(file)) }) }));
  return (options) => {
    const { objects, sources, problems, warnings } = manifestsToObjects(files, options);
    if (problems.length > 0) throw problemsError(problems);
    if (objects.length === 0) throw new GroveError(ErrorCode.ManifestInvalid, `${paths.join(', ')}: no resources found`);
    return { objects, sources, warnings };
  };
}

/** loadSourcedObjects without the sources. */
export async function loadObjects(paths: string[], stdin?: NodeJS.ReadableStream, options: ManifestOptions = {}): Promise<AnyObject[]> {
  return (await loadSourcedObjects(paths, stdin, options)).objects;
}
