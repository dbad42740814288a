import type Database from 'better-sqlite3';
import type { StoredEvent } from '../../core/index.js';
import type { AppendBatch, EventStore } from '../store.js';
import type { AppendOutcome, EventQuery, NewRejection } from '../types.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { eventFromRow, jsonOrNull, type EventRow } from './rows.js';

/** "2026-11" for the UTC month holding `ms`. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export class SqliteEventStore implements EventStore {
  readonly committer: GroupCommit<AppendBatch, AppendOutcome[]>;
  readonly #insertEvent: Database.Statement;
  readonly #findKey: Database.Statement;
  readonly #insertKey: Database.Statement;
  readonly #getById: Database.Statement;
  readonly #addUsage: Database.Statement;
  readonly #getUsage: Database.Statement;
  readonly #insertRejection: Database.Statement;
  readonly #pruneRejections: Database.Statement;
  readonly #rejectionsSincePrune = new Map<string, number>();

  constructor(private readonly db: Database.Database, commit: GroupCommitOptions, private readonly quarantineMax: number, onCommit?: (rows: number, ms: number) => void) {
    this.#insertEvent = db.prepare(`INSERT INTO events (workspace_id, type, name, occurred_at, received_at, idempotency_key,
      visitor_id, session_id, user_domain, user_id, optimization, variation, value, currency, properties, user_data, context, source)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#findKey = db.prepare('SELECT fingerprint, event_id FROM idempotency WHERE workspace_id = ? AND key = ?');
    this.#insertKey = db.prepare('INSERT INTO idempotency (workspace_id, key, fingerprint, event_id) VALUES (?, ?, ?, ?)');
    this.#getById = db.prepare('SELECT * FROM events WHERE id = ?');
    this.#addUsage = db.prepare(`INSERT INTO usage (workspace_id, month, events) VALUES (?, ?, ?)
      ON CONFLICT (workspace_id, month) DO UPDATE SET events = events + excluded.events`);
    this.#getUsage = db.prepare('SELECT events FROM usage WHERE workspace_id = ? AND month = ?').pluck();
    this.#insertRejection = db.prepare(`INSERT INTO rejections (workspace_id, received_at, dialect, route, idx, code, message, field, raw)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#pruneRejections = db.prepare(`DELETE FROM rejections WHERE workspace_id = ? AND id <=
      (SELECT id FROM rejections WHERE workspace_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);
    this.committer = new GroupCommit(db, (batch) => this.#write(batch), (b) => b.items.length + b.rejections.length, commit, onCommit);
  }

  append(batch: AppendBatch): Promise<AppendOutcome[]> {
    return this.committer.submit(batch);
  }

  /** Runs inside the group's transaction. */
  #write(batch: AppendBatch): AppendOutcome[] {
    const outcomes: AppendOutcome[] = [];
    let stored = 0;
    for (const { event: e, fingerprint } of batch.items) {
      if (e.idempotencyKey !== null) {
        const seen = this.#findKey.get(e.workspaceId, e.idempotencyKey) as { fingerprint: string; event_id: number } | undefined;
        if (seen !== undefined) {
          const first = eventFromRow(this.#getById.get(seen.event_id) as EventRow);
          outcomes.push({ status: seen.fingerprint === fingerprint ? 'duplicate' : 'conflict', event: first });
          continue;
        }
      }
      const info = this.#insertEvent.run(e.workspaceId, e.type, e.name, e.occurredAt, e.receivedAt, e.idempotencyKey,
        e.visitorId, e.sessionId, e.userDomain, e.userId, e.optimization, e.variation, e.value, e.currency,
        jsonOrNull(e.properties), jsonOrNull(e.userData), jsonOrNull(e.context), e.source);
      const id = Number(info.lastInsertRowid);
      if (e.idempotencyKey !== null) this.#insertKey.run(e.workspaceId, e.idempotencyKey, fingerprint ?? '', id);
      outcomes.push({ status: 'stored', event: { ...e, id } });
      stored++;
    }
    if (stored > 0) {
      // One workspace per request: the pipeline never mixes tenants in a batch.
      const first = batch.items[0]!.event;
      this.#addUsage.run(first.workspaceId, monthOf(first.receivedAt), stored);
    }
    for (const r of batch.rejections) this.#quarantine(r);
    return outcomes;
  }

  #quarantine(r: NewRejection): void {
    this.#insertRejection.run(r.workspaceId, r.receivedAt, r.dialect, JSON.stringify(r.route), r.index, r.code, r.message, r.field, r.raw);
    const n = (this.#rejectionsSincePrune.get(r.workspaceId) ?? 0) + 1;
    if (n >= 1000) {
      this.#pruneRejections.run(r.workspaceId, r.workspaceId, this.quarantineMax);
      this.#rejectionsSincePrune.set(r.workspaceId, 0);
    } else {
      this.#rejectionsSincePrune.set(r.workspaceId, n);
    }
  }

  async get(workspaceId: string, id: number): Promise<StoredEvent | null> {
    const row = this.db.prepare('SELECT * FROM events WHERE id = ? AND workspace_id = ?').get(id, workspaceId) as EventRow | undefined;
    return row === undefined ? null : eventFromRow(row);
  }

  async findByIdempotencyKey(workspaceId: string, key: string): Promise<StoredEvent | null> {
    const seen = this.#findKey.get(workspaceId, key) as { event_id: number } | undefined;
    return seen === undefined ? null : this.get(workspaceId, seen.event_id);
  }

  async list(workspaceId: string, q: EventQuery): Promise<StoredEvent[]> {
    const where = ['workspace_id = ?'];
    const args: (string | number)[] = [workspaceId];
    if (q.before !== undefined) { where.push('id < ?'); args.push(q.before); }
    if (q.type !== undefined) { where.push('type = ?'); args.push(q.type); }
    if (q.name !== undefined) { where.push('name = ?'); args.push(q.name); }
    args.push(q.limit);
    const rows = this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...args) as EventRow[];
    return rows.map(eventFromRow);
  }

  async monthlyCount(workspaceId: string, at: number): Promise<number> {
    return (this.#getUsage.get(workspaceId, monthOf(at)) as number | undefined) ?? 0;
  }
}
