import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openConnection } from './connection.js';
import { EventWriter } from './event-writer.js';
import type { FromWriter, InjectedFault, ToWriter, WriterInit, WriterJob } from './writer-protocol.js';

/**
 * The writer thread: owns the write connection and runs the group commit, so the SQL and the
 * fsync of every COMMIT happen beside the main thread, which keeps parsing requests meanwhile.
 *
 * Group commit: jobs that arrive while a commit is being written queue up and form the next
 * group; one BEGIN … COMMIT writes a whole group (up to maxRows rows). With synchronous=FULL the
 * COMMIT returns only once the WAL is on disk, and only then is the group reported done — so a
 * request is answered only when its rows are durable, and a failed commit fails every job in
 * the group, none of which was stored.
 */
const init = workerData as WriterInit;
const port = parentPort!;
const db = openConnection(init.file);
const writer = new EventWriter(db, init.quarantineMax);
let queue: WriterJob[] = [];
let timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
let fault: InjectedFault | null = null;

/** SQLite's own messages for the faults the tests inject (sqlite3ErrStr). */
const FAULT_MESSAGES: Record<InjectedFault['code'], string> = {
  SQLITE_FULL: 'database or disk is full',
  SQLITE_IOERR_WRITE: 'disk I/O error',
  SQLITE_IOERR_FSYNC: 'disk I/O error',
  SQLITE_BUSY: 'database is locked',
};

/** Throws the injected fault if one is due at this point of a group commit. */
function injectedFault(at: InjectedFault['at']): void {
  if (fault === null || fault.at !== at) return;
  if (fault.skip > 0) {
    fault.skip--;
    return;
  }
  const { code } = fault;
  if (--fault.count === 0) fault = null;
  throw new Database.SqliteError(FAULT_MESSAGES[code], code);
}

const rowsOf = (job: WriterJob): number => job.batch.events.length + job.batch.rejections.length;
const codeOf = (err: unknown): string | null => (typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : null);

// The probe's own row: nothing reads it; writing it tells whether a commit can go through now.
const probeWrite = db.prepare(`INSERT INTO meta (key, value) VALUES ('writer_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
let probes = 0;
/** Room for the WAL to grow to its checkpoint size (1000 pages of 4 KiB) and some: less is a full disk. */
const PROBE_MIN_FREE_BYTES = 8 * 1_048_576;

/** Free bytes on the database's file system (root may use the blocks reserved for it). */
function freeBytes(): number {
  const s = fs.statfsSync(path.dirname(init.file));
  return (process.getuid?.() === 0 ? s.bfree : s.bavail) * s.bsize;
}

/**
 * After failed commits, /readyz asks whether one would go through now: a one-row commit answers —
 * and the file system, since on a full disk a row still fits in the WAL space that the failed
 * commits left behind.
 */
function probe(): void {
  try {
    if (init.file !== ':memory:' && freeBytes() < PROBE_MIN_FREE_BYTES) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
    injectedFault('begin');
    db.transaction(() => {
      probeWrite.run(String(++probes));
      injectedFault('commit');
    }).immediate();
    port.postMessage({ type: 'probed', code: null } satisfies FromWriter);
  } catch (err) {
    port.postMessage({ type: 'probed', code: codeOf(err) ?? 'SQLITE_ERROR' } satisfies FromWriter);
  }
}

function commit(group: WriterJob[]): void {
  const started = performance.now();
  try {
    injectedFault('begin');
    const results = db.transaction(() => {
      const done = group.map((job) => ({ id: job.id, result: writer.write(job.batch) }));
      writer.finishGroup();
      injectedFault('commit');
      return done;
    }).immediate();
    const rows = group.reduce((n, job) => n + rowsOf(job), 0);
    port.postMessage({ type: 'done', results, rows, ms: performance.now() - started } satisfies FromWriter);
  } catch (err) {
    writer.discard();
    port.postMessage({
      type: 'failed', ids: group.map((job) => job.id),
      message: err instanceof Error ? err.message : String(err),
      code: codeOf(err),
    } satisfies FromWriter);
  }
}

function flush(): void {
  timer = null;
  const all = queue;
  queue = [];
  let group: WriterJob[] = [];
  let rows = 0;
  for (const job of all) {
    group.push(job);
    rows += rowsOf(job);
    if (rows >= init.commit.maxRows) {
      commit(group);
      group = [];
      rows = 0;
    }
  }
  if (group.length > 0) commit(group);
}

port.on('message', (msg: ToWriter) => {
  if (msg.type === 'close') {
    if (timer !== null) {
      clearTimeout(timer as NodeJS.Timeout);
      clearImmediate(timer as NodeJS.Immediate);
      flush();
    }
    db.close();
    port.postMessage({ type: 'closed' } satisfies FromWriter);
    return;
  }
  if (msg.type === 'probe') {
    probe();
    return;
  }
  if (msg.type === 'fault') {
    fault = msg.fault === null || msg.fault.count <= 0 ? null : { ...msg.fault };
    return;
  }
  for (const job of msg.jobs) queue.push(job);
  timer ??= init.commit.maxWaitMs === 0 ? setImmediate(flush) : setTimeout(flush, init.commit.maxWaitMs);
});
