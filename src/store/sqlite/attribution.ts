import type Database from 'better-sqlite3';
import { processAlive } from '../../core/index.js';
import { Interner } from '../../core/interner.js';
import { numberIds, type EventColumns } from '../event-columns.js';
import { idProbes } from '../id-filter.js';
import type { AttributionStore, ColumnsRead, IdsWanted, NumberedColumnsRead } from '../store.js';
import type { SnapshotShelf } from '../snapshot-shelf.js';
import { ByteWriter } from '../../core/bytes.js';
import type { Attributed, AttributionRun, DataQualityFigures, Fingerprints, OutcomeChange, StoredOutcome } from '../types.js';
import { isBinary, readChanges, WORDS } from '../outcome-bytes.js';
import { changeFromItem, jsonChunk, type ChangeItem } from '../outcome-codec.js';
import type { RunWrites } from '../run-writes.js';
import { OutcomeChunks } from './outcome-chunks.js';
import { readNumberedOnThread } from './numbered-read.js';
import { EventSegments } from './segments.js';

interface RunRow {
  id: number; workspace_id: string; mode: string; until: number; started_at: number; finished_at: number; conversions_processed: number;
  attributed: number; not_attributed: number; changed: number; newly_attributed: number; unattributed: number;
}

const runFromRow = (r: RunRow): AttributionRun => ({
  id: r.id, workspaceId: r.workspace_id, mode: r.mode as AttributionRun['mode'], until: r.until, startedAt: r.started_at, finishedAt: r.finished_at,
  conversionsProcessed: r.conversions_processed, attributed: r.attributed, notAttributed: r.not_attributed, changed: r.changed,
  newlyAttributed: r.newly_attributed, unattributed: r.unattributed,
});

/**
 * A lease's holder is `pid:start:uuid` (processIdentity(), then the run's own id), or `pid:uuid` as
 * older builds wrote it. SQLite is one machine's file, so a holder whose process is gone (killed
 * mid-run, or gone with a container whose next incarnation has the same pid) holds nothing,
 * whatever its lease says.
 */
function holderAlive(holder: string): boolean {
  const parts = holder.split(':');
  return processAlive(parts.length >= 3 ? `${parts[0]}:${parts[1]}` : parts[0]!);
}

const CHANGE_CHUNK = 10_000;

/** The page cache a run's commit writes through (KiB). */
const RUN_CACHE_KB = 4096;

/**
 * Workspaces with at least this many events are read for a run on a thread of their own
 * (readNumberedColumns): starting a thread costs tens of milliseconds, reading a million events
 * about a second.
 */
export const THREADED_READ_FROM = 100_000;

export class SqliteAttributionStore implements AttributionStore {
  readonly #segments: EventSegments;
  readonly #outcomes: OutcomeChunks;
  /** The checkpoint due after a run's commit (commitRun), and the connection's own wal_autocheckpoint, put back then. */
  #checkpoint: Promise<void> | null = null;
  #autocheckpoint = 1000;

  /**
   * `file`: the database's file, for a thread of its own to read a large workspace's events
   * through a connection of its own (null: in memory, no other connection sees it);
   * `threadedReadFrom`: how many events make a workspace large enough for that.
   */
  constructor(private readonly db: Database.Database, readonly snapshots: SnapshotShelf | null = null,
    private readonly file: string | null = null, private readonly threadedReadFrom = THREADED_READ_FROM) {
    this.#segments = new EventSegments(db);
    this.#outcomes = new OutcomeChunks(db);
  }

  async readColumns(workspaceId: string, until: number, visit: (chunk: EventColumns, total: number) => void, after = 0, wanted?: IdsWanted): Promise<ColumnsRead> {
    return await this.#segments.read(workspaceId, until, visit, after, wanted === undefined ? undefined : idProbes(wanted.ids));
  }

  async readNumberedColumns(workspaceId: string, until: number, visit: (chunk: EventColumns, numbers: Int32Array, total: number) => void): Promise<NumberedColumnsRead> {
    const events = this.db.prepare('SELECT coalesce(sum(n), 0) FROM event_segments WHERE workspace_id = ?').pluck().get(workspaceId) as number;
    if (this.file !== null && events >= this.threadedReadFrom) return await readNumberedOnThread(this.file, workspaceId, until, visit);
    const strings = new Interner();
    const read = await this.#segments.read(workspaceId, until, (chunk, total) => {
      if (strings.size === 0) strings.reserve(Math.ceil(total / 4));
      visit(chunk, numberIds(chunk, strings), total);
    });
    return { ...read, strings };
  }

  async eventsAfter(workspaceId: string, after: number): Promise<number> {
    return this.#segments.countAfter(workspaceId, after);
  }

  async compactColumns(workspaceId: string): Promise<number> {
    return this.#segments.compact(workspaceId);
  }

  async outcomes(workspaceId: string): Promise<Map<number, StoredOutcome>> {
    return this.#outcomes.all(workspaceId);
  }

  async outcomesOf(workspaceId: string, eventIds: readonly number[]): Promise<Map<number, StoredOutcome>> {
    return this.#outcomes.getMany(workspaceId, eventIds);
  }

  async fingerprints(workspaceId: string): Promise<Fingerprints> {
    return this.#outcomes.fingerprints(workspaceId);
  }

  async outcome(workspaceId: string, eventId: number): Promise<StoredOutcome | null> {
    return this.#outcomes.get(workspaceId, eventId);
  }

  /**
   * Commits a run in one transaction. A first run writes ~55 MB; SQLite would then copy them from
   * the WAL into the database before the COMMIT returns (its automatic checkpoint: 0.1–0.8 s, and
   * as much again in system time, on this VM). The run is durable once its WAL frames are synced,
   * so that copy is done just after the run has answered instead (checkpointSoon), on the same
   * thread: the run worker's, while the service goes on.
   */
  async commitRun(run: Omit<AttributionRun, 'id'>, writes: RunWrites, quality: DataQualityFigures): Promise<AttributionRun> {
    // Until the checkpoint: the writes that follow on this connection (the run's lease released) would make it.
    if (this.#checkpoint === null) this.#autocheckpoint = this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
    this.db.pragma('wal_autocheckpoint = 0');
    // The pages a run writes are written once and not read again: a page cache of a few MB holds
    // them on their way to the WAL as well as the connection's 64 MB would, without making 60 MB
    // more memory for them (first touches of fresh memory cost 3-7 us a page on this VM: 0.1 s).
    const cache = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = ${-RUN_CACHE_KB}`);
    try {
      return this.#commitRun(run, writes, quality);
    } finally {
      this.db.pragma(`cache_size = ${cache}`);
      this.#checkpointSoon();
    }
  }

  /** Checkpoints after what is running now has answered (a setImmediate: after the promises it resolved); settle() waits for it. */
  #checkpointSoon(): void {
    this.#checkpoint ??= new Promise<void>((resolve) => setImmediate(() => {
      this.#checkpoint = null;
      try {
        if (this.db.open) {
          this.db.pragma(`wal_autocheckpoint = ${this.#autocheckpoint}`);
          this.db.pragma('wal_checkpoint(PASSIVE)');
        }
      } catch {
        // Failed (the disk full, say): the next commit of any connection checkpoints, as SQLite does by itself.
      }
      resolve();
    }));
  }

  /** Waits for the checkpoint after a run, if one is due (before the connection closes). */
  async settle(): Promise<void> {
    await this.#checkpoint;
  }

  /**
   * Stores the words the run added (outcome-bytes.ts), numbered on from those it started from:
   * refuses a run that started from fewer than are stored now (another run added some meanwhile,
   * which the run lease rules out), rather than let two strings share a number.
   */
  #addWords(workspaceId: string, writes: RunWrites): void {
    if (writes.words === null) return;
    const stored = this.db.prepare('SELECT count(*) FROM attribution_strings WHERE workspace_id = ?').pluck().get(workspaceId) as number;
    if (stored !== writes.words.stored.length) {
      throw new Error(`The attribution run of workspace "${workspaceId}" started from ${writes.words.stored.length} words of its outcomes, and ${stored} are stored now: not committed; run it again.`);
    }
    const insert = this.db.prepare('INSERT INTO attribution_strings (workspace_id, id, value) VALUES (?, ?, ?)');
    writes.words.added().forEach((w, k) => insert.run(workspaceId, stored + k, w));
  }

  /** The workspace's words, for a run to number its strings on from (outcome-bytes.ts, WorkspaceWords). */
  async words(workspaceId: string): Promise<string[]> {
    return this.#outcomes.words(workspaceId);
  }

  #commitRun(run: Omit<AttributionRun, 'id'>, writes: RunWrites, quality: DataQualityFigures): AttributionRun {
    const id = this.db.transaction(() => {
      const { lastInsertRowid } = this.db.prepare(`INSERT INTO attribution_runs (workspace_id, mode, until, started_at, finished_at, conversions_processed,
        attributed, not_attributed, changed, newly_attributed, unattributed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        run.workspaceId, run.mode, run.until, run.startedAt, run.finishedAt, run.conversionsProcessed, run.attributed, run.notAttributed,
        run.changed, run.newlyAttributed, run.unattributed);
      const runId = Number(lastInsertRowid);
      this.#addWords(run.workspaceId, writes);
      this.#outcomes.write(run.workspaceId, runId, writes);
      // The restatement in chunks of CHANGE_CHUNK (a first run restates every conversion: a row per change would cost more than judging them).
      const insert = this.db.prepare('INSERT INTO attribution_change_chunks (run_id, seq, data) VALUES (?, ?, ?)');
      const out = new ByteWriter(1 << 20);
      for (let at = 0, seq = 0; at < writes.changes; at += CHANGE_CHUNK, seq++) {
        const end = Math.min(writes.changes, at + CHANGE_CHUNK);
        out.reset().u8(WORDS).varint(end - at);
        for (let k = at; k < end; k++) writes.writeChange(out, k);
        insert.run(runId, seq, out.bytes());
      }
      this.db.prepare(`INSERT INTO attribution_quality (workspace_id, run_id, data) VALUES (?, ?, ?)
        ON CONFLICT (workspace_id) DO UPDATE SET run_id = excluded.run_id, data = excluded.data`).run(run.workspaceId, runId, JSON.stringify(quality));
      if (writes.length > 0 || writes.withdrawn().length > 0) {
        this.db.prepare(`INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`)
          .run(`outcomes_version:${run.workspaceId}`);
      }
      return runId;
    }).immediate();
    return { ...run, id };
  }

  async dataQuality(workspaceId: string): Promise<{ run: AttributionRun; figures: DataQualityFigures } | null> {
    const row = this.db.prepare(`SELECT r.*, q.data AS quality FROM attribution_quality q JOIN attribution_runs r ON r.id = q.run_id
      WHERE q.workspace_id = ?`).get(workspaceId) as (RunRow & { quality: string }) | undefined;
    return row === undefined ? null : { run: runFromRow(row), figures: JSON.parse(row.quality) as DataQualityFigures };
  }

  async attributedTo(workspaceId: string, optimization: string, goalId: number): Promise<Attributed> {
    return await this.#outcomes.attributedTo(workspaceId, optimization, goalId);
  }

  async acquireRunLease(workspaceId: string, holder: string, now: number, expires: number): Promise<boolean> {
    const key = `attribution_lease:${workspaceId}`;
    return this.db.transaction(() => {
      const current = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
      if (current !== undefined) {
        const lease = JSON.parse(current) as { holder: string; expires: number };
        if (lease.holder !== holder && lease.expires > now && holderAlive(lease.holder)) return false;
      }
      this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify({ holder, expires }));
      return true;
    }).immediate();
  }

  async releaseRunLease(workspaceId: string, holder: string): Promise<void> {
    const key = `attribution_lease:${workspaceId}`;
    this.db.prepare(`DELETE FROM meta WHERE key = ? AND json_extract(value, '$.holder') = ?`).run(key, holder);
  }

  async outcomesVersion(workspaceId: string): Promise<number> {
    const value = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(`outcomes_version:${workspaceId}`) as string | undefined;
    return value === undefined ? 0 : Number(value);
  }

  async runs(workspaceId: string, limit: number): Promise<AttributionRun[]> {
    return (this.db.prepare('SELECT * FROM attribution_runs WHERE workspace_id = ? ORDER BY id DESC LIMIT ?').all(workspaceId, limit) as RunRow[]).map(runFromRow);
  }

  async run(workspaceId: string, id: number, visit: (changes: readonly OutcomeChange[]) => void): Promise<AttributionRun | null> {
    const r = this.db.prepare('SELECT * FROM attribution_runs WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as RunRow | undefined;
    if (r === undefined) return null;
    // A run's restatement is written once and never changed: its chunks can be read one at a time,
    // each in a read transaction of its own with the outcomes it names (outcome-bytes.ts,
    // AS_WRITTEN), so a run committing meanwhile is seen whole or not at all.
    const get = this.db.prepare('SELECT data FROM attribution_change_chunks WHERE run_id = ? AND seq = ?').pluck();
    const seqs = this.db.prepare('SELECT seq FROM attribution_change_chunks WHERE run_id = ? ORDER BY seq').pluck().all(id) as number[];
    const read = this.db.transaction((seq: number): OutcomeChange[] => {
      // Bytes (outcome-bytes.ts), or JSON from a store written before.
      const data = get.get(id, seq) as string | Uint8Array;
      return isBinary(data) ? readChanges(data, this.#outcomes.words(workspaceId), (eventIds) => this.#outcomes.asWritten(workspaceId, id, eventIds)) : jsonChunk<ChangeItem>(data).map(changeFromItem);
    });
    for (const [i, seq] of seqs.entries()) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      visit(read.deferred(seq));
    }
    return runFromRow(r);
  }
}
