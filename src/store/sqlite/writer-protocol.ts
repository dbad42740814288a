import type { AppendBatch } from '../store.js';
import type { WriteResult } from './event-writer.js';

export interface CommitOptions {
  /** How long the writer waits for a group to fill (0: it writes whatever has arrived as soon as it can). */
  maxWaitMs: number;
  /** Most rows one COMMIT writes. */
  maxRows: number;
  /** Beyond this many jobs waiting for the disk, appends are refused at once (503) instead of queued. */
  maxPending: number;
}

/** Messages between the store (main thread) and its writer worker. */
export interface WriterInit {
  file: string;
  commit: CommitOptions;
  quarantineMax: number;
}

export interface WriterJob {
  id: number;
  batch: AppendBatch;
}

/**
 * A storage failure the writer simulates, for the fault-injection tests: after `skip` group
 * commits that go through, the next `count` fail with the error better-sqlite3 would throw for
 * `code` — at BEGIN (nothing written), or at COMMIT (after every row of the group was written,
 * so all of them roll back). Null clears it.
 */
export interface InjectedFault {
  code: 'SQLITE_FULL' | 'SQLITE_IOERR_WRITE' | 'SQLITE_IOERR_FSYNC' | 'SQLITE_BUSY';
  at: 'begin' | 'commit';
  skip: number;
  count: number;
}

export type ToWriter =
  | { type: 'append'; jobs: WriterJob[] }
  | { type: 'probe' }
  | { type: 'fault'; fault: InjectedFault | null }
  | { type: 'close' };

export type FromWriter =
  | { type: 'done'; results: { id: number; result: WriteResult[] }[]; rows: number; ms: number }
  | { type: 'failed'; ids: number[]; message: string; code: string | null }
  /** A probe commit's outcome: null when it went through, else the error code. */
  | { type: 'probed'; code: string | null }
  | { type: 'closed' };
