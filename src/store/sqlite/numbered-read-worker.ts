import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Interner } from '../../core/interner.js';
import { decodeColumns, numberIds } from '../event-columns.js';
import { EventSegments } from './segments.js';
import { IN_FLIGHT, type NumberedReadJob, type NumberedReadMessage } from './numbered-read.js';

/**
 * Reads a workspace's event segments on a thread of its own and numbers their ids (numbered-read.ts):
 * one read transaction, so the segments cannot change under it; each segment is handed over as it
 * is stored (its memory moves, it is not copied) with its numbers, at most IN_FLIGHT ahead of the
 * thread that takes them, then the interner that numbered them.
 */
const job = workerData as NumberedReadJob;
const port = parentPort!;
const inFlight = new Int32Array(job.window);
const db = new Database(job.file, { readonly: true, fileMustExist: true });
try {
  const strings = new Interner();
  const read = db.transaction(() => new EventSegments(db).scan(job.workspaceId, job.until, 0, (segment, total) => {
    if (strings.size === 0) strings.reserve(Math.ceil(total / 4));
    const numbers = numberIds(decodeColumns(segment), strings);
    for (let n = Atomics.load(inFlight, 0); n >= IN_FLIGHT; n = Atomics.load(inFlight, 0)) Atomics.wait(inFlight, 0, n);
    Atomics.add(inFlight, 0, 1);
    // A driver's Buffer may share its memory with others: only memory of its own is handed over.
    const own = segment.byteOffset === 0 && segment.byteLength === segment.buffer.byteLength ? segment : new Uint8Array(segment);
    port.postMessage({ type: 'segment', segment: own, numbers, total } satisfies NumberedReadMessage, [own.buffer as ArrayBuffer, numbers.buffer as ArrayBuffer]);
  }))();
  const [arena, starts, table] = strings.parts();
  port.postMessage({ type: 'done', read, arena, starts, table } satisfies NumberedReadMessage, [arena.buffer as ArrayBuffer, starts.buffer as ArrayBuffer, table.buffer as ArrayBuffer]);
} catch (err) {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies NumberedReadMessage);
} finally {
  db.close();
}
