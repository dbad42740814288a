import path from 'node:path';
import type Database from 'better-sqlite3';
import { FileSnapshotShelf } from '../snapshot-shelf.js';
import type { Store } from '../store.js';
import { openConnection } from './connection.js';
import { SqliteAttributionStore } from './attribution.js';
import { SqliteEventStore } from './events.js';
import { SqliteGoalStore } from './goals.js';
import { SqliteKeyStore } from './keys.js';
import { SqliteMetaStore } from './meta.js';
import { migrate } from './migrations.js';
import { SqliteOptimizationStore } from './optimizations.js';
import { SqliteRejectionStore } from './rejections.js';
import { SqliteWorkspaceStore } from './workspaces.js';
import { WriterClient } from './writer-client.js';
import type { CommitOptions } from './writer-protocol.js';

export interface SqliteOptions {
  /** The database file; created with its folder when missing. */
  file: string;
  commit: CommitOptions;
  quarantineMaxPerWorkspace: number;
  now: number;
  onCommit?: (rows: number, ms: number) => void;
  /**
   * How long this thread's connection waits for a lock held elsewhere (5 s by default). Its waits
   * block the thread: a server's event loop passes a short one and answers 503 sooner.
   */
  busyTimeoutMs?: number;
  /** Workspaces with at least this many events are read for attribution on a thread of their own (THREADED_READ_FROM by default). */
  threadedReadFrom?: number;
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly workspaces: SqliteWorkspaceStore;
  readonly keys: SqliteKeyStore;
  readonly goals: SqliteGoalStore;
  readonly optimizations: SqliteOptimizationStore;
  readonly events: SqliteEventStore;
  readonly rejections: SqliteRejectionStore;
  readonly attribution: SqliteAttributionStore;
  readonly meta: SqliteMetaStore;
  #closed = false;

  /** The database file, for threads that open their own connection to it (attribution runs). */
  readonly file: string;

  constructor(readonly db: Database.Database, options: SqliteOptions) {
    this.file = options.file;
    this.workspaces = new SqliteWorkspaceStore(db);
    this.keys = new SqliteKeyStore(db);
    this.goals = new SqliteGoalStore(db);
    this.optimizations = new SqliteOptimizationStore(db);
    this.events = new SqliteEventStore(db, new WriterClient({ file: options.file, commit: options.commit, quarantineMax: options.quarantineMaxPerWorkspace }, options.onCommit));
    this.rejections = new SqliteRejectionStore(db);
    this.meta = new SqliteMetaStore(db);
    const memory = options.file === ':memory:' || options.file.startsWith('file::memory:');
    this.attribution = new SqliteAttributionStore(db, memory ? null : new FileSnapshotShelf(path.join(path.dirname(options.file), 'attribution-snapshots'), this.meta),
      memory ? null : options.file, options.threadedReadFrom);
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.attribution.snapshots?.settle();
    await this.attribution.settle();
    await this.events.writer.close();
    this.db.close();
  }
}

/**
 * Opens (creating if need be) the embedded store: this thread's connection serves reads and the
 * admin's rare writes; a writer worker with its own connection group-commits the events.
 */
export function openSqliteStore(options: SqliteOptions): SqliteStore {
  const db = openConnection(options.file, options.busyTimeoutMs);
  migrate(db, options.now);
  return new SqliteStore(db, options);
}
