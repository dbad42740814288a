import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import { workspaceRules } from './load.js';
import { withRunLease } from './lease.js';
import { loadForRun, snapshotCoverage } from './snapshot.js';

/**
 * Indexing: the activity index a run starts from (its snapshot, snapshot.ts), kept up to date in
 * the background as events arrive, as a database keeps its indexes, instead of built by the next
 * run. A run then reads only the events stored since the snapshot: the first run after a large
 * import, or the nightly run after a busy day, does what the nightly run does after a quiet one
 * (12M events: a first run of 8.4 s reading every event, 2.8 s from the index, which took 6.4 s to
 * build between runs; `npm run bench:attribution -- --full`).
 */

/** What indexing a workspace did. */
export interface IndexSummary {
  /** Whether it wrote a snapshot: false when another run or indexing held the workspace, or nothing was due. */
  indexed: boolean;
  /** How many events the snapshot written holds (0: none written). */
  events: number;
  durationMs: number;
}

/** Carries out indexing; in-process by default, or in a worker thread (worker-executor.ts). */
export type IndexExecutor = (workspaceId: string, startedAt: number) => Promise<IndexSummary>;

/** When a workspace is indexed again: once this many events arrived since its snapshot, and this share of those it holds. */
export interface IndexPolicy {
  minEvents: number;
  share: number;
}

/**
 * 100,000 events and a tenth of the snapshot: a workspace of 12M events is indexed again after
 * 1.2M new ones (a snapshot of 12M events is ~520 MB to write); one of a few thousand events, never
 * (a run reads them in milliseconds).
 */
export const INDEX_POLICY: IndexPolicy = { minEvents: 100_000, share: 0.1 };

/**
 * Whether indexing the workspace is due under `policy`: enough events stored since its snapshot,
 * or since none (or since one taken under other goal names, which no run can start from). Reads
 * the snapshot's header and the store's chunk counts, no event.
 */
export async function indexDue(store: Store, workspaceId: string, policy: IndexPolicy = INDEX_POLICY): Promise<boolean> {
  if (store.attribution.snapshots === null) return false;
  const covered = await snapshotCoverage(store, workspaceId);
  const usable = covered !== null && covered.goals === (await workspaceRules(store, workspaceId)).goalsKey;
  const since = await store.attribution.eventsAfter(workspaceId, usable ? covered.through : 0);
  return since >= policy.minEvents && since >= (usable ? covered.events : 0) * policy.share;
}

/**
 * Indexes a workspace now: holding its run lease (so no run or other indexing runs meanwhile), it
 * merges its ingested chunks, loads its snapshot and every event stored since, as a run would
 * (loadForRun; but every one, whenever received, where a run takes those received up to its
 * `until`), and writes the new snapshot; it judges nothing and writes no outcome.
 */
export async function indexOnce(store: Store, clock: Clock, workspaceId: string): Promise<IndexSummary> {
  const t0 = performance.now();
  const done = await withRunLease(store, clock, workspaceId, async () => {
    await store.attribution.compactColumns(workspaceId);
    const loaded = await loadForRun(store, workspaceId, clock.now(), async () => null, { everything: true });
    if (loaded.save === null) return 0;
    await loaded.save();
    return loaded.events;
  });
  return { indexed: done !== null && done > 0, events: done ?? 0, durationMs: Math.round(performance.now() - t0) };
}
