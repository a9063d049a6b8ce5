import { createHash } from 'node:crypto';
import { ErrorCode, GroveError } from '../../../src/core/errors.js';

/** Only sha256 digests are accepted anywhere in the image store. */
export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

export function sha256Digest(data: Buffer | Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of a sha256 digest; throws on anything else so it can name files safely. */
export function digestHex(digest: string): string {
  if (!DIGEST_RE.test(digest)) {
    throw new GroveError(ErrorCode.InvalidArgument, `invalid digest "${digest.slice(0, 80)}": expected sha256:<64 hex digits>`);
  }
  return digest.slice('sha256:'.length);
}

/** Throws DigestMismatch unless `actual` equals `expected`. */
export function assertDigest(expected: string, actual: string, what: string): void {
  if (expected !== actual) {
    throw new GroveError(ErrorCode.DigestMismatch, `${what}: digest mismatch, expected ${expected}, got ${actual}`, {
      details: { expected, actual },
    });
  }
}

/**
 * The OCI chain ID of a layer stack: chain(L1) = diffId1,
 * chain(Ln) = sha256(chain(Ln-1) + " " + diffIdn).
 */
export function chainId(diffIds: readonly string[]): string {
  if (diffIds.length === 0) throw new GroveError(ErrorCode.InvalidArgument, 'chain ID of an empty layer list');
  let chain = diffIds[0]!;
  for (const diffId of diffIds.slice(1)) chain = sha256Digest(`${chain} ${diffId}`);
  return chain;
}
