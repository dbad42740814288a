import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { Store } from './store.js';
import { openSqliteStore } from './sqlite/index.js';

export type * from './store.js';
export type * from './types.js';
export { openSqliteStore, SqliteStore } from './sqlite/index.js';
export { MIGRATIONS } from './sqlite/migrations.js';
export { eventAt, REF, stringAt, STRING_FIELDS, toColumns, typeCode, type EventColumns, type StringField } from './event-columns.js';
export { WorkspaceWords, type DecidingDetail, type NameBytes, type OutcomeSummary } from './outcome-bytes.js';
export { RunWrites, type OutcomeValues, type RunWritesParts } from './run-writes.js';
export { FileSnapshotShelf, type SnapshotFile, type SnapshotShelf } from './snapshot-shelf.js';

/** The SQLite file inside the data directory. */
export function sqliteFile(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'closeloop.db');
}

/** Opens the store the configuration names. */
export async function openStore(config: Config, clock: Clock, onCommit?: (rows: number, ms: number) => void, busyTimeoutMs?: number): Promise<Store> {
  if (config.databaseUrl !== null) {
    throw new Error('DATABASE_URL is set, but the PostgreSQL store is not part of this build yet; unset it to use the embedded SQLite store.');
  }
  return openSqliteStore({
    file: sqliteFile(config),
    commit: { maxWaitMs: config.commitMaxWaitMs, maxRows: config.commitMaxRows, maxPending: config.maxPendingCommits },
    quarantineMaxPerWorkspace: config.quarantineMaxPerWorkspace,
    now: clock.now(),
    ...(onCommit ? { onCommit } : {}),
    ...(busyTimeoutMs !== undefined ? { busyTimeoutMs } : {}),
  });
}
