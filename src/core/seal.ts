/**
 * AES-256-GCM sealing shared by the server (Secrets at rest, per-node keys) and the agent
 * (config bundles). The authenticated data (`aad`) names what a ciphertext is for — a store key,
 * a node and revision — so a ciphertext moved to another record or node fails to open instead
 * of being read as the other one. A fresh random 96-bit IV per seal; never reused with a key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ErrorCode, GroveError } from './errors.js';

export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

/** A sealed value as kept in a store or file: base64 fields, plus which key sealed it. */
export interface Sealed {
  /** Format version of the sealed record. */
  sealed: 1;
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Short public name of a key (sha256 prefix): tells which key sealed a value without revealing it. */
export function keyId(key: Uint8Array): string {
  return createHash('sha256').update('grove-key-id\0').update(key).digest('hex').slice(0, 16);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new GroveError(ErrorCode.ConfigInvalid, `an encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
}

export function encrypt(key: Uint8Array, plaintext: Uint8Array, aad: string): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Throws PermissionDenied when the key is wrong, the data was altered or `aad` differs. */
export function decrypt(key: Uint8Array, parts: { iv: Uint8Array; tag: Uint8Array; ciphertext: Uint8Array }, aad: string): Buffer {
  checkKey(key);
  if (parts.iv.length !== IV_BYTES || parts.tag.length !== TAG_BYTES) {
    throw new GroveError(ErrorCode.PermissionDenied, 'sealed value has a malformed iv or tag');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
  } catch (err) {
    // Never the plaintext or key in the message: only that authentication failed.
    throw new GroveError(ErrorCode.PermissionDenied, 'sealed value failed authentication (wrong key, altered data or moved record)', { cause: err });
  }
}

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): Sealed {
  const { iv, tag, ciphertext } = encrypt(key, plaintext, aad);
  return { sealed: 1, keyId: keyId(key), iv: iv.toString('base64'), tag: tag.toString('base64'), ciphertext: ciphertext.toString('base64') };
}

export function isSealed(v: unknown): v is Sealed {
  const o = v as Partial<Sealed> | null;
  return typeof o === 'object' && o !== null && o.sealed === 1 && typeof o.keyId === 'string' && typeof o.iv === 'string' && typeof o.tag === 'string' && typeof o.ciphertext === 'string';
}

export function unseal(key: Uint8Array, s: Sealed, aad: string): Buffer {
  if (s.keyId !== keyId(key)) {
    throw new GroveError(ErrorCode.PermissionDenied, `sealed with key ${s.keyId}, but the key in use is ${keyId(key)}`, { details: { keyId: s.keyId } });
  }
  return decrypt(key, { iv: Buffer.from(s.iv, 'base64'), tag: Buffer.from(s.tag, 'base64'), ciphertext: Buffer.from(s.ciphertext, 'base64') }, aad);
}
