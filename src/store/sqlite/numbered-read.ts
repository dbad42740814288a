import { Interner } from '../../core/interner.js';
import { siblingModule, spawnWorker } from '../../core/spawn-worker.js';
import { decodeColumns, type EventColumns } from '../event-columns.js';
import type { ColumnsRead, NumberedColumnsRead } from '../store.js';

/** Segments the reading thread may hand over before the taker has visited them (the rest wait on disk, not in memory). */
export const IN_FLIGHT = 4;

export interface NumberedReadJob {
  file: string;
  workspaceId: string;
  until: number;
  /** One Int32: segments handed over and not yet visited. */
  window: SharedArrayBuffer;
}

export type NumberedReadMessage =
  | { type: 'segment'; segment: Uint8Array; numbers: Int32Array; total: number }
  | { type: 'done'; read: ColumnsRead; arena: Uint8Array; starts: Int32Array; table: Int32Array }
  | { type: 'failed'; message: string };

/**
 * readNumberedColumns on a thread of its own (numbered-read-worker.ts) with its own connection:
 * reading ten million events from SQLite, decoding their segments and numbering their ids is
 * about half of loading them, and it goes on there while this thread adds each segment to the
 * caller's index (one segment per turn of the event loop). Nothing is copied on the way: each
 * segment's memory moves here, then the interner's.
 */
export function readNumberedOnThread(
  file: string, workspaceId: string, until: number, visit: (chunk: EventColumns, numbers: Int32Array, total: number) => void,
): Promise<NumberedColumnsRead> {
  return new Promise((resolve, reject) => {
    const window = new SharedArrayBuffer(4);
    const inFlight = new Int32Array(window);
    const worker = spawnWorker(siblingModule(import.meta.url, 'numbered-read-worker'), { file, workspaceId, until, window } satisfies NumberedReadJob);
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(err);
    };
    worker.on('message', (m: NumberedReadMessage) => {
      if (settled) return;
      if (m.type === 'failed') return fail(new Error(`Reading the events of workspace "${workspaceId}" failed: ${m.message}`));
      if (m.type === 'done') {
        settled = true;
        try {
          resolve({ ...m.read, strings: Interner.fromParts(m.arena, m.starts, m.table) });
        } catch (err) {
          reject(err as Error);
        }
        return;
      }
      try {
        visit(decodeColumns(m.segment), m.numbers, m.total);
      } catch (err) {
        return fail(err as Error);
      }
      Atomics.sub(inFlight, 0, 1);
      Atomics.notify(inFlight, 0);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The thread reading the events of workspace "${workspaceId}" stopped (exit code ${code}) before it finished.`)));
  });
}
