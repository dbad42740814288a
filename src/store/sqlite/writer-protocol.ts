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

export type ToWriter = { type: 'append'; jobs: WriterJob[] } | { type: 'close' };

export type FromWriter =
  | { type: 'done'; results: { id: number; result: WriteResult[] }[]; rows: number; ms: number }
  | { type: 'failed'; ids: number[]; message: string; code: string | null }
  | { type: 'closed' };
