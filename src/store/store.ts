import type { CanonicalEvent, StoredEvent } from '../core/index.js';
import type { WorkspaceSettingsInput } from '../config/index.js';
import type { EventColumns } from './event-columns.js';
import type { Interner } from '../core/interner.js';
import type { RunWrites } from './run-writes.js';
import type { SnapshotShelf } from './snapshot-shelf.js';
import type {
  ApiKeyRecord, AppendOutcome, Attributed, AttributionRun, DataQualityFigures, Fingerprints, OutcomeChange, StoredOutcome, EventQuery, Goal, NewRejection, Optimization,
  OptimizationStatus, Rejection, Workspace,
} from './types.js';

export interface WorkspaceStore {
  create(ws: Workspace): Promise<Workspace>;
  get(id: string): Promise<Workspace | null>;
  list(): Promise<Workspace[]>;
  updateSettings(id: string, settings: WorkspaceSettingsInput, name?: string): Promise<Workspace | null>;
}

export interface KeyStore {
  create(key: ApiKeyRecord): Promise<ApiKeyRecord>;
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  /** In the order they were created. */
  list(workspaceId: string): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; null when no such key in that workspace. */
  revoke(workspaceId: string, id: string, at: number): Promise<ApiKeyRecord | null>;
}

export interface GoalStore {
  create(workspaceId: string, apiName: string, name: string, at: number): Promise<Goal>;
  /** Closes the current name's interval at `at` and opens `apiName`'s. */
  rename(workspaceId: string, id: number, apiName: string, at: number): Promise<Goal | null>;
  get(workspaceId: string, id: number): Promise<Goal | null>;
  list(workspaceId: string): Promise<Goal[]>;
}

export interface OptimizationStore {
  create(o: Optimization): Promise<Optimization>;
  get(workspaceId: string, key: string): Promise<Optimization | null>;
  list(workspaceId: string): Promise<Optimization[]>;
  setStatus(workspaceId: string, key: string, status: OptimizationStatus, at: number): Promise<Optimization | null>;
}

/** The write side of ingestion: everything in one call becomes durable together, or not at all. */
export interface AppendBatch {
  /** One workspace's events (a request never mixes tenants). */
  events: CanonicalEvent[];
  rejections: NewRejection[];
}

export interface EventStore {
  /**
   * Appends events and rejections durably. Resolves only after the commit that holds them is on
   * disk; rejects (ServiceError store_unavailable) when it could not be made durable.
   * An event whose idempotency key the workspace already has is not stored: it comes back
   * `existing`, with the first event. Keys are unique per workspace for as long as events are kept.
   * A stored event is the caller's own object, given its `id`.
   */
  append(batch: AppendBatch): Promise<AppendOutcome[]>;
  get(workspaceId: string, id: number): Promise<StoredEvent | null>;
  findByIdempotencyKey(workspaceId: string, key: string): Promise<StoredEvent | null>;
  /** Newest first. */
  list(workspaceId: string, query: EventQuery): Promise<StoredEvent[]>;
  /** Events accepted in the UTC calendar month that holds `at`. */
  monthlyCount(workspaceId: string, at: number): Promise<number>;
}

export interface RejectionStore {
  /** Newest first. */
  list(workspaceId: string, query: { before?: number; limit: number; pending?: boolean }): Promise<Rejection[]>;
  get(workspaceId: string, ids: number[]): Promise<Rejection[]>;
  markReplayed(workspaceId: string, id: number, at: number, eventId: number | null): Promise<void>;
  /** Quarantined events per reason code, replayed ones included. */
  countByCode(workspaceId: string): Promise<Record<string, number>>;
}

/**
 * For readColumns: the reader wants only events that carry one of these ids as their visitor,
 * session or user id. Chunks that hold none of them may be left unread (and out of `skipped`);
 * the chunks read still hold other events, which the reader filters as before.
 */
export interface IdsWanted {
  ids: Iterable<string>;
}

/** What readColumns read. */
export interface ColumnsRead {
  /** The last event id of the chunks it read (or `after`): a later read of what came since goes on from here. */
  last: number;
  /** Events up to `last` left out because they were received after `until`. */
  skipped: number;
}

/** What readNumberedColumns read, and the interner that numbered the ids. */
export interface NumberedColumnsRead extends ColumnsRead {
  strings: Interner;
}

export interface AttributionStore {
  /**
   * Visits a workspace's events received up to `until`, in id order, in columnar chunks
   * (attribution reads millions of events; an object per event is too slow), each event once,
   * letting other work run between chunks. `total` is about how many events all chunks hold, so
   * readers can size their arrays once. With `after`, only events with greater ids are visited.
   */
  readColumns(workspaceId: string, until: number, visit: (chunk: EventColumns, total: number) => void, after?: number, ids?: IdsWanted): Promise<ColumnsRead>;
  /**
   * readColumns of every event (no `after`), with each chunk's ids numbered (numberIds) by one
   * interner across chunks, which it answers: what loading a workspace into the engine's index
   * needs, done where it costs the caller least (a large workspace is read and numbered on a
   * thread of its own while the caller adds each chunk).
   */
  readNumberedColumns(workspaceId: string, until: number, visit: (chunk: EventColumns, numbers: Int32Array, total: number) => void): Promise<NumberedColumnsRead>;
  /**
   * Where runs keep a snapshot of a workspace's loaded events (attribution/snapshot.ts), so that
   * the next run reads only the events since; null when this store keeps none.
   */
  readonly snapshots: SnapshotShelf | null;
  /**
   * About how many of the workspace's events have an id above `after` (a chunk that holds `after`
   * counts whole): whether enough has arrived since a snapshot to index it again. Reads no event.
   */
  eventsAfter(workspaceId: string, after: number): Promise<number>;
  /** Merges the small chunks that ingestion leaves behind into large ones; returns how many were merged away. */
  compactColumns(workspaceId: string): Promise<number>;
  outcomes(workspaceId: string): Promise<Map<number, StoredOutcome>>;
  /** The stored outcomes of these conversions (those that have one). */
  outcomesOf(workspaceId: string, eventIds: readonly number[]): Promise<Map<number, StoredOutcome>>;
  /** Per conversion with a stored outcome, the fingerprint it was written with: how a run finds what changed. */
  fingerprints(workspaceId: string): Promise<Fingerprints>;
  outcome(workspaceId: string, eventId: number): Promise<StoredOutcome | null>;
  /** The strings the workspace's outcomes name by number (optimization keys, variation names, reasons; outcome-bytes.ts), in number order. */
  words(workspaceId: string): Promise<string[]>;
  /**
   * Records a run: its summary, the outcomes it changed, those it withdrew (events that are no
   * longer conversions) and what changed (RunWrites), all or nothing — a run that dies before
   * this leaves the previous outcomes whole.
   */
  commitRun(run: Omit<AttributionRun, 'id'>, writes: RunWrites, quality: DataQualityFigures): Promise<AttributionRun>;
  /** The data quality figures the workspace's latest run computed, with that run; null before its first run. */
  dataQuality(workspaceId: string): Promise<{ run: AttributionRun; figures: DataQualityFigures } | null>;
  runs(workspaceId: string, limit: number): Promise<AttributionRun[]>;
  /**
   * A number that changes whenever a run writes or withdraws any of the workspace's outcomes (and
   * only then): what is computed from the outcomes (results) holds while it stays the same.
   */
  outcomesVersion(workspaceId: string): Promise<number>;
  /**
   * Takes the workspace's run lease until `expires` unless another holder has an unexpired one:
   * one run at a time per workspace across every process sharing the store.
   */
  acquireRunLease(workspaceId: string, holder: string, now: number, expires: number): Promise<boolean>;
  releaseRunLease(workspaceId: string, holder: string): Promise<void>;
  /** The conversions the stored outcomes attribute to `optimization` under `goalId` (what results count). */
  attributedTo(workspaceId: string, optimization: string, goalId: number): Promise<Attributed>;
  /**
   * A run (null: none in this workspace), and what it changed, visited a chunk at a time in no
   * particular order: a first run restates every conversion, a million of them.
   */
  run(workspaceId: string, id: number, visit: (changes: readonly OutcomeChange[]) => void): Promise<AttributionRun | null>;
}

export interface MetaStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
}

/** Everything closeloop keeps. One interface, one driver per engine, one contract suite. */
export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  readonly workspaces: WorkspaceStore;
  readonly keys: KeyStore;
  readonly goals: GoalStore;
  readonly optimizations: OptimizationStore;
  readonly events: EventStore;
  readonly rejections: RejectionStore;
  readonly attribution: AttributionStore;
  readonly meta: MetaStore;
  /** True when the store answers; used by /readyz. */
  ping(): Promise<boolean>;
  /** Writes everything already accepted, then closes. */
  close(): Promise<void>;
}
