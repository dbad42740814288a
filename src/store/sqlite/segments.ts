import type Database from 'better-sqlite3';
import { concatColumns, decodeColumns, encodeColumns, filterColumns, toColumns, type EventColumns } from '../event-columns.js';
import { idFilter, mayHold, type IdProbe } from '../id-filter.js';
import type { ColumnsRead } from '../store.js';
import type { ScannedEvent } from '../types.js';

/** Segments smaller than this are merged by compaction; merged ones grow up to it. */
export const SEGMENT_TARGET = 65_536;

interface SegmentRow { id: number; first_id: number; last_id: number; n: number; max_received: number }

/** Segments of at least this many events get an id filter (id-filter.ts): smaller ones are soon merged, and read whole meanwhile. */
const FILTERED = SEGMENT_TARGET / 2;

/**
 * The event segments: every stored event is also written, in the same transaction, into a
 * columnar segment of its workspace (one per workspace per group commit), so that attribution
 * reads a workspace in chunks of tens of thousands of events instead of row by row. The events
 * table stays the record; segments are its read-optimised copy and are never edited, only merged.
 */
export class EventSegments {
  readonly #insert: Database.Statement;
  readonly #blob: Database.Statement;
  readonly #remove: Database.Statement;
  readonly #insertFilter: Database.Statement | null;
  readonly #removeFilter: Database.Statement | null;
  /** Per workspace, events appended in small segments since the last merge (a hint; compact() reads the table). */
  readonly #smallSince = new Map<string, number>();

  /** `filters`: false only for a database without id filters yet (the migration that wrote the first segments). */
  constructor(private readonly db: Database.Database, filters = true) {
    this.#insert = db.prepare('INSERT INTO event_segments (workspace_id, first_id, last_id, n, max_received, data) VALUES (?, ?, ?, ?, ?, ?)');
    this.#blob = db.prepare('SELECT data FROM event_segments WHERE id = ?').pluck();
    this.#remove = db.prepare('DELETE FROM event_segments WHERE id = ?');
    this.#insertFilter = filters ? db.prepare('INSERT INTO event_segment_ids (segment_id, filter) VALUES (?, ?)') : null;
    this.#removeFilter = filters ? db.prepare('DELETE FROM event_segment_ids WHERE segment_id = ?') : null;
  }

  /**
   * How many events the workspace's segments that end above `after` hold (no blob read): a segment
   * that a compaction merged across `after` counts whole, so new events are never missed.
   */
  countAfter(workspaceId: string, after: number): number {
    return this.db.prepare('SELECT coalesce(sum(n), 0) FROM event_segments WHERE workspace_id = ? AND last_id > ?').pluck().get(workspaceId, after) as number;
  }

  /** Appends one segment (inside the caller's transaction). */
  append(workspaceId: string, columns: EventColumns): void {
    if (columns.n === 0) return;
    let maxReceived = -Infinity;
    for (let i = 0; i < columns.n; i++) if (columns.receivedAt[i]! > maxReceived) maxReceived = columns.receivedAt[i]!;
    const { lastInsertRowid } = this.#insert.run(workspaceId, columns.id[0], columns.id[columns.n - 1], columns.n, maxReceived, encodeColumns(columns));
    if (columns.n >= FILTERED) this.#insertFilter?.run(lastInsertRowid, idFilter(columns));
  }

  /**
   * Visits a workspace's events received up to `until`, in id order, chunk by chunk, letting the
   * event loop run between chunks: reading ten million events takes seconds, and the service
   * must go on answering meanwhile. There is no transaction held open across chunks (the loop
   * must stay free for other statements on this connection): when a compaction merges away a
   * segment not read yet, the list is read again from the last event visited, so nothing is
   * missed or visited twice. Events stored while it reads may or may not be visited. `total` is
   * how many events the chunks listed at the start hold, for sizing. Only events with ids above
   * `after` are visited; the answer says where a later read may go on from. With `ids`, segments
   * whose id filter says they hold none of them are not read (nor counted in `skipped`).
   */
  async read(workspaceId: string, until: number, visit: (c: EventColumns, total: number) => void, after = 0, ids?: readonly IdProbe[]): Promise<ColumnsRead> {
    const list = this.db.prepare(`SELECT s.id, s.first_id, s.last_id, s.n, s.max_received, ${ids === undefined ? 'NULL' : 'f.filter'} AS filter
      FROM event_segments s ${ids === undefined ? '' : 'LEFT JOIN event_segment_ids f ON f.segment_id = s.id'}
      WHERE s.workspace_id = ? AND s.last_id > ? ORDER BY s.first_id`);
    let total = -1;
    let skipped = 0;
    for (;;) {
      const segments = list.all(workspaceId, after) as (SegmentRow & { filter: Uint8Array | null })[];
      if (total < 0) total = segments.reduce((n, s) => n + s.n, 0);
      let merged = false;
      for (const s of segments) {
        if (ids !== undefined && s.filter !== null && !mayHold(s.filter, ids)) {
          after = s.last_id;
          continue;
        }
        const blob = this.#blob.get(s.id) as Buffer | undefined;
        if (blob === undefined) {
          merged = true;
          break;
        }
        const columns = decodeColumns(blob);
        if (whole(s, until, after)) visit(columns, total);
        else {
          const part = within(columns, until, after);
          skipped += part.skipped;
          visit(part.kept, total);
        }
        after = s.last_id;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!merged) return { last: after, skipped };
    }
  }

  /**
   * read(), all at once and synchronously, as encoded segments (a thread that reads for another
   * hands them over as they are): the caller holds a read transaction, so the list cannot change.
   */
  scan(workspaceId: string, until: number, after: number, visit: (segment: Uint8Array, total: number) => void): ColumnsRead {
    const segments = this.db.prepare('SELECT id, first_id, last_id, n, max_received FROM event_segments WHERE workspace_id = ? AND last_id > ? ORDER BY first_id')
      .all(workspaceId, after) as SegmentRow[];
    const total = segments.reduce((n, s) => n + s.n, 0);
    let skipped = 0;
    for (const s of segments) {
      const blob = this.#blob.get(s.id) as Buffer;
      if (whole(s, until, after)) visit(blob, total);
      else {
        const part = within(decodeColumns(blob), until, after);
        skipped += part.skipped;
        visit(encodeColumns(part.kept), total);
      }
      after = s.last_id;
    }
    return { last: after, skipped };
  }

  /**
   * Merges runs of small consecutive segments into segments of up to SEGMENT_TARGET events, one
   * short write transaction per merged segment so ingestion is never held up for long. Returns
   * how many segments it merged away.
   */
  compact(workspaceId: string): number {
    this.#catchUp(workspaceId);
    let merged = 0;
    for (const run of this.#runs(workspaceId)) merged += this.db.transaction(() => this.#merge(workspaceId, run)).immediate();
    this.#fillFilters(workspaceId);
    return merged;
  }

  /**
   * Gives the large segments written before id filters existed theirs (decoding each: about 10 ms
   * a segment, so once per workspace, in the first run after the upgrade rather than at startup).
   */
  #fillFilters(workspaceId: string): void {
    if (this.#insertFilter === null) return;
    const missing = this.db.prepare(`SELECT s.id FROM event_segments s LEFT JOIN event_segment_ids f ON f.segment_id = s.id
      WHERE s.workspace_id = ? AND s.n >= ${FILTERED} AND f.segment_id IS NULL ORDER BY s.first_id`).pluck().all(workspaceId) as number[];
    // OR IGNORE: another connection may have given it one since the list was read.
    const insert = this.db.prepare('INSERT OR IGNORE INTO event_segment_ids (segment_id, filter) VALUES (?, ?)');
    for (const id of missing) {
      this.db.transaction(() => {
        const data = this.#blob.get(id) as Buffer | undefined;
        if (data !== undefined) insert.run(id, idFilter(decodeColumns(data)));
      }).immediate();
    }
  }

  /**
   * Told by the writer how many events a group appended to a workspace's segments (inside the
   * group's transaction): once the small segments appended since the last merge add up to a full
   * one, merges one run of small segments there and then, so that segments stay large as they
   * arrive and a run seldom has much left to merge. A merge that fails is undone alone, never
   * the group's writes: the run's compaction does it later.
   */
  mergeIfDue(workspaceId: string, appended: number): void {
    const pending = (this.#smallSince.get(workspaceId) ?? 0) + appended;
    this.#smallSince.set(workspaceId, pending);
    if (pending < SEGMENT_TARGET) return;
    const run = this.#runs(workspaceId)[0];
    if (run === undefined) {
      this.#smallSince.set(workspaceId, 0);
      return;
    }
    try {
      this.db.transaction(() => this.#merge(workspaceId, run))();
      // What is left small stays counted: a run holds a little less than SEGMENT_TARGET, so
      // forgetting the rest would let small segments pile up (a quarter of a million of 12M).
      this.#smallSince.set(workspaceId, Math.max(0, pending - run.reduce((n, s) => n + s.n, 0)));
    } catch {
      // Rolled back to before the merge (a savepoint); the group's own writes stand or fail on their own.
      this.#smallSince.set(workspaceId, 0);
    }
  }

  /** Runs of consecutive small segments worth merging, oldest first. */
  #runs(workspaceId: string): SegmentRow[][] {
    const list = this.db.prepare('SELECT id, first_id, last_id, n, max_received FROM event_segments WHERE workspace_id = ? ORDER BY first_id');
    const runs: SegmentRow[][] = [];
    let run: SegmentRow[] = [];
    let size = 0;
    for (const s of list.all(workspaceId) as SegmentRow[]) {
      if (s.n >= SEGMENT_TARGET / 2 || size + s.n > SEGMENT_TARGET) {
        if (run.length > 1) runs.push(run);
        run = [];
        size = 0;
        if (s.n >= SEGMENT_TARGET / 2) continue;
      }
      run.push(s);
      size += s.n;
    }
    if (run.length > 1) runs.push(run);
    return runs;
  }

  /** Replaces a run of segments by one (inside the caller's transaction); answers how many it merged. */
  #merge(workspaceId: string, run: readonly SegmentRow[]): number {
    // Re-read inside the write transaction: only segments still there are merged.
    const chunks: EventColumns[] = [];
    for (const s of run) {
      const data = this.#blob.get(s.id) as Buffer | undefined;
      if (data === undefined) return 0;
      chunks.push(decodeColumns(data));
    }
    for (const s of run) {
      this.#remove.run(s.id);
      this.#removeFilter?.run(s.id);
    }
    this.append(workspaceId, concatColumns(chunks));
    return run.length;
  }

  /**
   * Events written to the table by other means than the writer (an import in SQL) have no segment
   * yet: those after the last segment are given theirs, so attribution still sees them.
   */
  #catchUp(workspaceId: string): void {
    this.db.transaction(() => {
      const lastEvent = this.db.prepare('SELECT max(id) FROM events WHERE workspace_id = ?').pluck().get(workspaceId) as number | null;
      const lastSegment = this.db.prepare('SELECT max(last_id) FROM event_segments WHERE workspace_id = ?').pluck().get(workspaceId) as number | null;
      if (lastEvent !== null && lastEvent > (lastSegment ?? 0)) this.writeFrom(workspaceId, lastSegment ?? 0);
    }).immediate();
  }

  /** Writes the segments of a workspace's events with ids above `after`, from the events table. */
  writeFrom(workspaceId: string, after: number): void {
    const page = this.db.prepare(`SELECT id, type, name, occurred_at AS occurredAt, received_at AS receivedAt, idempotency_key AS idempotencyKey,
      visitor_id AS visitorId, session_id AS sessionId, user_domain AS userDomain, user_id AS userId, optimization, variation, value, source
      FROM events WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ${SEGMENT_TARGET}`);
    for (;;) {
      const rows = page.all(workspaceId, after) as ScannedEvent[];
      if (rows.length === 0) return;
      this.append(workspaceId, toColumns(rows));
      after = rows[rows.length - 1]!.id;
    }
  }
}

/** Whether every event of segment s has an id above `after` and was received up to `until`. */
const whole = (s: SegmentRow, until: number, after: number): boolean => s.max_received <= until && s.first_id > after;

/** The events of a segment with ids above `after` received up to `until`, and how many of them were received later. */
function within(columns: EventColumns, until: number, after: number): { kept: EventColumns; skipped: number } {
  let skipped = 0;
  for (let i = 0; i < columns.n; i++) if (columns.id[i]! > after && columns.receivedAt[i]! > until) skipped++;
  return { kept: filterColumns(columns, (i) => columns.id[i]! > after && columns.receivedAt[i]! <= until), skipped };
}

/** Writes the segments of every event already stored (the migration that introduced them). */
export function backfillSegments(db: Database.Database): void {
  const segments = new EventSegments(db, false);
  for (const ws of db.prepare('SELECT DISTINCT workspace_id FROM events').pluck().all() as string[]) segments.writeFrom(ws, 0);
}
