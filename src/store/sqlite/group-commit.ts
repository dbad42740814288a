import type Database from 'better-sqlite3';
import { ServiceError } from '../../core/index.js';

interface Pending<J, R> {
  job: J;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions {
  /** How long the first job of a group waits for company (0: the next turn of the event loop). */
  maxWaitMs: number;
  /** A group is written as soon as it holds this many rows. */
  maxRows: number;
  /** Beyond this many waiting jobs, submit() refuses at once instead of queueing. */
  maxPending: number;
}

export interface GroupCommitStats {
  commits: number;
  rows: number;
  lastCommitMs: number;
}

/**
 * Many concurrent requests share one transaction: jobs queue up while the event loop serves
 * other requests, then one BEGIN … COMMIT writes them all. With synchronous=FULL the COMMIT
 * returns only once the WAL is fsync'd, so a job's promise resolves only when its rows are
 * durable — and a failed commit rejects every job in the group, none of which was stored.
 */
export class GroupCommit<J, R> {
  #queue: Pending<J, R>[] = [];
  #rows = 0;
  #timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  #closed = false;
  readonly stats: GroupCommitStats = { commits: 0, rows: 0, lastCommitMs: 0 };

  constructor(
    private readonly db: Database.Database,
    private readonly work: (job: J) => R,
    private readonly sizeOf: (job: J) => number,
    private readonly options: GroupCommitOptions,
    private readonly onCommit: (rows: number, ms: number) => void = () => {},
  ) {}

  get pending(): number {
    return this.#queue.length;
  }

  submit(job: J): Promise<R> {
    if (this.#closed) return Promise.reject(new ServiceError('store_unavailable', 'The store is shutting down; retry against another node or in a moment.'));
    if (this.#queue.length >= this.options.maxPending) {
      return Promise.reject(new ServiceError('store_unavailable', 'Too many writes are waiting for the disk; retry in a moment.'));
    }
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#rows += this.sizeOf(job);
      if (this.#rows >= this.options.maxRows) this.#flushSoon(true);
      else this.#flushSoon(false);
    });
  }

  #flushSoon(now: boolean): void {
    if (this.#timer !== null) {
      if (!now) return;
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
    }
    this.#timer = now || this.options.maxWaitMs === 0
      ? setImmediate(() => this.flush())
      : setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  /** Writes every queued job now, in one transaction. */
  flush(): void {
    this.#timer = null;
    const group = this.#queue;
    if (group.length === 0) return;
    this.#queue = [];
    const rows = this.#rows;
    this.#rows = 0;
    const started = performance.now();
    let results: R[];
    try {
      results = this.db.transaction(() => group.map((p) => this.work(p.job))).immediate();
    } catch (err) {
      const failure = new ServiceError('store_unavailable', 'The store could not write this request durably; nothing was stored. Retry.', { cause: err });
      for (const p of group) p.reject(failure);
      return;
    }
    const ms = performance.now() - started;
    this.stats.commits += 1;
    this.stats.rows += rows;
    this.stats.lastCommitMs = ms;
    this.onCommit(rows, ms);
    for (let i = 0; i < group.length; i++) group[i]!.resolve(results[i]!);
  }

  /** Refuses new jobs and writes the queued ones. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
    }
    this.flush();
  }
}
