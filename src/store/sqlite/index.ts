import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.js';
import type { GroupCommitOptions } from './group-commit.js';
import { SqliteEventStore } from './events.js';
import { SqliteGoalStore } from './goals.js';
import { SqliteKeyStore } from './keys.js';
import { SqliteMetaStore } from './meta.js';
import { migrate } from './migrations.js';
import { SqliteOptimizationStore } from './optimizations.js';
import { SqliteRejectionStore } from './rejections.js';
import { SqliteWorkspaceStore } from './workspaces.js';

export interface SqliteOptions {
  /** A file path, or ":memory:". */
  file: string;
  commit: GroupCommitOptions;
  quarantineMaxPerWorkspace: number;
  now: number;
  onCommit?: (rows: number, ms: number) => void;
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly workspaces: SqliteWorkspaceStore;
  readonly keys: SqliteKeyStore;
  readonly goals: SqliteGoalStore;
  readonly optimizations: SqliteOptimizationStore;
  readonly events: SqliteEventStore;
  readonly rejections: SqliteRejectionStore;
  readonly meta: SqliteMetaStore;
  #closed = false;

  constructor(readonly db: Database.Database, options: SqliteOptions) {
    this.workspaces = new SqliteWorkspaceStore(db);
    this.keys = new SqliteKeyStore(db);
    this.goals = new SqliteGoalStore(db);
    this.optimizations = new SqliteOptimizationStore(db);
    this.events = new SqliteEventStore(db, options.commit, options.quarantineMaxPerWorkspace, options.onCommit);
    this.rejections = new SqliteRejectionStore(db);
    this.meta = new SqliteMetaStore(db);
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
    this.events.committer.close();
    this.db.close();
  }
}

/**
 * Opens (creating if need be) the embedded store: WAL so readers never wait for the writer,
 * synchronous=FULL so a COMMIT that returned survives power loss, not just a process crash.
 */
export function openSqliteStore(options: SqliteOptions): SqliteStore {
  if (options.file !== ':memory:') fs.mkdirSync(path.dirname(options.file), { recursive: true });
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536');
  migrate(db, options.now);
  return new SqliteStore(db, options);
}
