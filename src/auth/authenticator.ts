import type { Clock } from '../core/index.js';
import type { ApiKeyRecord, KeyKind, KeyStore } from '../store/index.js';
import { hashSecret, sameDigest } from './keys.js';

const DUMMY_HASH = hashSecret('cl_sk_not-a-key');

/**
 * Finds the key behind a presented secret. The secret is hashed and looked up by its hash, and
 * the stored digest compared in constant time; unknown, malformed and revoked keys take the same
 * path, so the answer time says nothing about which one it was.
 *
 * Known keys are cached for `ttlMs` so a hot key costs no store read; revoking through this
 * process evicts at once, through another process (the CLI) within the TTL.
 */
export class Authenticator {
  readonly #cache = new Map<string, { record: ApiKeyRecord; until: number }>();

  constructor(private readonly keys: KeyStore, private readonly clock: Clock, private readonly ttlMs = 5000) {}

  async authenticate(secret: string | null, kind: KeyKind): Promise<ApiKeyRecord | null> {
    // Not trusting the type: a repeated query parameter arrives as an array.
    const usable = typeof secret === 'string' && secret.length <= 200;
    const presented = usable ? secret : 'cl_sk_not-a-key';
    const now = this.clock.now();
    let record: ApiKeyRecord | null;
    let hash: string;
    // The cache is keyed by the secret itself (it lives only in this process's memory), so a
    // known key costs no hashing; anything else is hashed and looked up.
    const cached = this.#cache.get(presented);
    if (cached !== undefined && cached.until > now) {
      record = cached.record;
      hash = record.hash;
    } else {
      hash = hashSecret(presented);
      record = await this.keys.findByHash(hash);
      if (record !== null) {
        if (this.#cache.size > 10_000) this.#cache.clear();
        this.#cache.set(presented, { record, until: now + this.ttlMs });
      }
    }
    const matches = sameDigest(record?.hash ?? DUMMY_HASH, hash);
    if (record === null || !matches || !usable || record.revokedAt !== null || record.kind !== kind) return null;
    return record;
  }

  /** Forget a key at once (after revocation or a limit change). */
  evict(hash: string): void {
    for (const [secret, entry] of this.#cache) if (entry.record.hash === hash) this.#cache.delete(secret);
  }
}
