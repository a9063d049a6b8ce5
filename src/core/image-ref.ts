import { ErrorCode, GroveError } from './errors.js';
import { quoteValue } from './quote.js';

/** A parsed, normalised image reference, resolved the way Docker resolves short names. */
export interface ImageRef {
  /** Registry host[:port] as written, with docker.io for Docker Hub. */
  registry: string;
  /** Repository path inside the registry, e.g. library/busybox. */
  repository: string;
  /** Tag, "latest" when neither tag nor digest was given. */
  tag?: string;
  /** Manifest digest ("sha256:…") when pinned. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const MAX_REFERENCE_LENGTH = 512;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?$/;

function invalid(input: string, why: string): GroveError {
  return new GroveError(ErrorCode.InvalidImageReference, `invalid image reference ${quoteValue(input)}: ${why}`, {
    details: { reference: input },
  });
}

function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

export function parseImageRef(input: string): ImageRef {
  if (input.length === 0) throw invalid(input, 'empty');
  if (input.length > MAX_REFERENCE_LENGTH) throw invalid(input, 'too long');
  if (/\s/.test(input)) throw invalid(input, 'contains whitespace');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(input, 'digest must be sha256:<64 hex digits>');
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(input, `tag ${quoteValue(tag)} is not valid`);
  }

  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && looksLikeRegistry(parts[0]!)) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) throw invalid(input, `registry ${quoteValue(registry)} is not a valid host`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const part of parts) {
    if (!COMPONENT.test(part)) throw invalid(input, `repository component ${quoteValue(part)} must be lowercase letters, digits and separators`);
  }
  const repository = parts.join('/');
  if (repository.length > 255) throw invalid(input, 'repository name too long');

  if (!tag && !digest) tag = 'latest';
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The canonical string form: registry/repository[:tag][@digest]. */
export function formatImageRef(ref: ImageRef): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** The short form users typed, for display: drops docker.io/library/ the way docker does. */
export function displayImageRef(ref: ImageRef): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DOCKER_HUB) {
    name = ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  if (ref.tag) name += `:${ref.tag}`;
  if (ref.digest) name += `@${ref.digest}`;
  return name;
}
