import type { Worker } from 'node:worker_threads';
import { ServiceError, siblingModule, spawnWorker } from '../../core/index.js';
import type { AppendBatch } from '../store.js';
import type { WriteResult } from './event-writer.js';
import type { FromWriter, InjectedFault, ToWriter, WriterInit, WriterJob } from './writer-protocol.js';

interface Pending {
  resolve: (r: WriteResult[]) => void;
  reject: (e: unknown) => void;
}


const unavailable = (message: string, cause?: unknown) =>
  new ServiceError('store_unavailable', message, cause === undefined ? undefined : { cause });

/**
 * The main thread's side of the writer worker. Appends made during one turn of the event loop
 * go over in one message; each promise settles when the worker reports its group committed
 * (or failed). If the worker dies, what it held is failed (those requests get 503, nothing was
 * acknowledged) and the next append starts a new one.
 */
export class WriterClient {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #outbox: WriterJob[] = [];
  #scheduled = false;
  #nextId = 1;
  #closed = false;
  /** Why the last commit failed (an SQLite code), null once one goes through. */
  #failure: string | null = null;
  /** The probe commit in flight, settled when the worker answers (or stops). */
  #probe: { done: Promise<void>; settle: () => void } | null = null;

  /** The worker starts with the first append: commands that only read or administer never pay for it. */
  constructor(private readonly init: WriterInit, private readonly onCommit: (rows: number, ms: number) => void = () => {}) {}

  get pending(): number {
    return this.#pending.size;
  }

  submit(batch: AppendBatch): Promise<WriteResult[]> {
    if (this.#closed) return Promise.reject(unavailable('The store is shutting down; retry in a moment.'));
    if (this.#pending.size >= this.init.commit.maxPending) {
      return Promise.reject(unavailable('Too many writes are waiting for the disk; retry in a moment.'));
    }
    const id = this.#nextId++;
    return new Promise<WriteResult[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push({ id, batch });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#send());
      }
    });
  }

  /**
   * Whether a commit can go through now, for /readyz: true while commits succeed; after one
   * failed (disk full, I/O error, locked), a one-row probe commit decides — one at a time, and
   * false if it has not answered within `timeoutMs` (the writer is stuck waiting for a lock).
   * The probe lets readiness come back with no traffic, which an unready service does not get.
   */
  writable(timeoutMs = 1000): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#failure === null) return Promise.resolve(true);
    if (this.#probe === null) {
      let settle = () => {};
      const done = new Promise<void>((resolve) => { settle = resolve; });
      this.#probe = { done, settle };
      this.#start().postMessage({ type: 'probe' } satisfies ToWriter);
    }
    const { done } = this.#probe;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      void done.then(() => {
        clearTimeout(timer);
        resolve(this.#failure === null);
      });
    });
  }

  /**
   * For the fault-injection tests: makes the worker fail group commits as a full disk, an I/O
   * error or a locked database would (null clears it). It applies from the next group the worker
   * starts; appends already made but not yet sent to the worker are sent after it.
   */
  injectFault(fault: InjectedFault | null): void {
    this.#start().postMessage({ type: 'fault', fault } satisfies ToWriter);
  }

  #send(): void {
    this.#scheduled = false;
    if (this.#outbox.length === 0) return;
    const jobs = this.#outbox;
    this.#outbox = [];
    this.#start().postMessage({ type: 'append', jobs } satisfies ToWriter);
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = spawnWorker(siblingModule(import.meta.url, 'writer-worker'), this.init);
    worker.on('message', (msg: FromWriter) => this.#receive(msg));
    worker.on('error', (err) => this.#failAll(unavailable('The store\'s writer failed; nothing in flight was stored. Retry.', err), 'writer_failed'));
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      this.#failAll(unavailable('The store\'s writer stopped; nothing in flight was stored. Retry.'), 'writer_stopped');
    });
    this.#worker = worker;
    return worker;
  }

  #receive(msg: FromWriter): void {
    if (msg.type === 'done') {
      for (const { id, result } of msg.results) {
        const p = this.#pending.get(id);
        this.#pending.delete(id);
        p?.resolve(result);
      }
      this.#failure = null;
      this.onCommit(msg.rows, msg.ms);
    } else if (msg.type === 'probed') {
      this.#failure = msg.code;
      this.#settleProbe();
    } else if (msg.type === 'failed') {
      this.#failure = msg.code ?? 'SQLITE_ERROR';
      const err = unavailable('The store could not write this request durably; nothing was stored. Retry.', Object.assign(new Error(msg.message), { code: msg.code }));
      for (const id of msg.ids) {
        const p = this.#pending.get(id);
        this.#pending.delete(id);
        p?.reject(err);
      }
    }
  }

  #failAll(err: ServiceError, failure: string): void {
    if (!this.#closed) this.#failure = failure;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#settleProbe();
  }

  #settleProbe(): void {
    this.#probe?.settle();
    this.#probe = null;
  }

  /** Sends what is queued, lets the worker commit it, then stops the worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#send();
    const worker = this.#worker;
    if (worker === null) return;
    await new Promise<void>((resolve) => {
      worker.on('message', (msg: FromWriter) => { if (msg.type === 'closed') resolve(); });
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies ToWriter);
    });
    await worker.terminate();
  }
}
