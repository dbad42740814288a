import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';
import { EventWriter } from './event-writer.js';
import type { FromWriter, ToWriter, WriterInit, WriterJob } from './writer-protocol.js';

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

const rowsOf = (job: WriterJob): number => job.batch.events.length + job.batch.rejections.length;

function commit(group: WriterJob[]): void {
  const started = performance.now();
  try {
    const results = db.transaction(() => {
      const done = group.map((job) => ({ id: job.id, result: writer.write(job.batch) }));
      writer.finishGroup();
      return done;
    }).immediate();
    const rows = group.reduce((n, job) => n + rowsOf(job), 0);
    port.postMessage({ type: 'done', results, rows, ms: performance.now() - started } satisfies FromWriter);
  } catch (err) {
    writer.discard();
    port.postMessage({
      type: 'failed', ids: group.map((job) => job.id),
      message: err instanceof Error ? err.message : String(err),
      code: typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : null,
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
  for (const job of msg.jobs) queue.push(job);
  timer ??= init.commit.maxWaitMs === 0 ? setImmediate(flush) : setTimeout(flush, init.commit.maxWaitMs);
});
