import { randomUUID } from 'node:crypto';
import { processIdentity, type Clock } from '../core/index.js';
import type { Store } from '../store/index.js';

/** How long a run may hold its workspace's lease before another process may take over (a run that died). */
const LEASE_MS = 30 * 60_000;

/** `task` done holding the workspace's run lease (one run or indexing at a time, across processes); null when another holds it. */
export async function withRunLease<T>(store: Store, clock: Clock, workspaceId: string, task: () => Promise<T>): Promise<T | null> {
  const holder = `${processIdentity()}:${randomUUID()}`;
  if (!(await store.attribution.acquireRunLease(workspaceId, holder, clock.now(), clock.now() + LEASE_MS))) return null;
  try {
    return await task();
  } finally {
    await store.attribution.releaseRunLease(workspaceId, holder);
  }
}
