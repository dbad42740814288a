import { hashSecret, newSecret } from '../auth/index.js';
import type { Store } from '../store/index.js';

const META_KEY = 'admin_token_sha256';

/**
 * Makes sure an admin token exists and returns its hash. CLOSELOOP_ADMIN_TOKEN wins when set;
 * otherwise a token is generated on first start and returned once, in `generated`, to be printed.
 */
export async function ensureAdminToken(store: Store, configured: string | null): Promise<{ hash: string; generated: string | null }> {
  if (configured !== null) {
    const hash = hashSecret(configured);
    await store.meta.set(META_KEY, hash);
    return { hash, generated: null };
  }
  const existing = await store.meta.get(META_KEY);
  if (existing !== null) return { hash: existing, generated: null };
  const token = newSecret('cl_admin_');
  await store.meta.set(META_KEY, token.hash);
  return { hash: token.hash, generated: token.key };
}
