import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyKind } from '../store/index.js';

const PREFIX: Record<KeyKind, string> = { server: 'cl_sk_', browser: 'cl_pk_' };
const KEY_SHAPE = /^cl_(sk|pk)_[A-Za-z0-9]{32,64}$/;

export interface NewSecret {
  /** Shown once, never stored. */
  key: string;
  /** Safe to show in listings. */
  prefix: string;
  hash: string;
}

/** base62 so a key survives copy-paste, shells and URLs without quoting. */
function base62(bytes: Buffer): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (const b of bytes) {
    // 248 = 4 × 62: drop the top bytes so every character is equally likely.
    if (b < 248) out += alphabet[b % 62];
  }
  return out;
}

/** A new random secret with `prefix` (cl_sk_ / cl_pk_ / cl_admin_), 40 base62 characters (≈238 bits). */
export function newSecret(prefix: string, random: (n: number) => Buffer = randomBytes): NewSecret {
  let body = '';
  while (body.length < 40) body += base62(random(48));
  const key = prefix + body.slice(0, 40);
  return { key, prefix: key.slice(0, prefix.length + 4), hash: hashSecret(key) };
}

export function newApiKey(kind: KeyKind, random?: (n: number) => Buffer): NewSecret {
  return newSecret(PREFIX[kind], random);
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function looksLikeApiKey(candidate: string): boolean {
  return KEY_SHAPE.test(candidate);
}

export function kindOfKey(candidate: string): KeyKind | null {
  if (candidate.startsWith(PREFIX.server)) return 'server';
  if (candidate.startsWith(PREFIX.browser)) return 'browser';
  return null;
}
