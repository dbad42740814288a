import type Database from 'better-sqlite3';
import type { AppendBatch } from '../store.js';
import { toColumns } from '../event-columns.js';
import type { NewRejection, ScannedEvent } from '../types.js';
import { jsonOrNull, type EventRow } from './rows.js';
import { EventSegments } from './segments.js';

/** "2026-11" for the UTC month holding `ms`. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** Per event: the id it was stored under, or the row of the first event that holds its key. */
export type WriteResult = number | EventRow;

/**
 * The statements that append events and rejections. Runs inside a group commit's transaction on
 * the writer worker: write() for each job, then finishGroup() once before COMMIT.
 */
export class EventWriter {
  readonly #insertEvent: Database.Statement;
  readonly #byKey: Database.Statement;
  readonly #addUsage: Database.Statement;
  readonly #insertRejection: Database.Statement;
  readonly #pruneRejections: Database.Statement;
  readonly #rejectionsSincePrune = new Map<string, number>();
  readonly #usage = new Map<string, number>();
  readonly #segments: EventSegments;
  /** The group's stored events per workspace, written as one segment each by finishGroup(). */
  readonly #stored = new Map<string, ScannedEvent[]>();

  constructor(db: Database.Database, private readonly quarantineMax: number) {
    this.#segments = new EventSegments(db);
    // A repeated idempotency key is detected by the insert itself, against the partial unique
    // index: a new event costs one statement, a repeat one more to fetch the first.
    this.#insertEvent = db.prepare(`INSERT INTO events (workspace_id, type, name, occurred_at, received_at, idempotency_key,
      visitor_id, session_id, user_domain, user_id, optimization, variation, value, currency, properties, user_data, context, source)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`);
    this.#byKey = db.prepare('SELECT * FROM events WHERE workspace_id = ? AND idempotency_key = ?');
    this.#addUsage = db.prepare(`INSERT INTO usage (workspace_id, month, events) VALUES (?, ?, ?)
      ON CONFLICT (workspace_id, month) DO UPDATE SET events = events + excluded.events`);
    this.#insertRejection = db.prepare(`INSERT INTO rejections (workspace_id, received_at, dialect, route, idx, code, message, field, raw)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#pruneRejections = db.prepare(`DELETE FROM rejections WHERE workspace_id = ? AND id <=
      (SELECT id FROM rejections WHERE workspace_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`);
  }

  write(batch: AppendBatch): WriteResult[] {
    const results: WriteResult[] = [];
    let stored = 0;
    for (const e of batch.events) {
      const info = this.#insertEvent.run(e.workspaceId, e.type, e.name, e.occurredAt, e.receivedAt, e.idempotencyKey,
        e.visitorId, e.sessionId, e.userDomain, e.userId, e.optimization, e.variation, e.value, e.currency,
        jsonOrNull(e.properties), jsonOrNull(e.userData), jsonOrNull(e.context), e.source);
      if (info.changes === 1) {
        const id = Number(info.lastInsertRowid);
        results.push(id);
        stored++;
        let list = this.#stored.get(e.workspaceId);
        if (list === undefined) this.#stored.set(e.workspaceId, (list = []));
        list.push({
          id, type: e.type, name: e.name, occurredAt: e.occurredAt, receivedAt: e.receivedAt, idempotencyKey: e.idempotencyKey, visitorId: e.visitorId,
          sessionId: e.sessionId, userDomain: e.userDomain, userId: e.userId, optimization: e.optimization, variation: e.variation, value: e.value, source: e.source,
        });
      } else {
        results.push(this.#byKey.get(e.workspaceId, e.idempotencyKey) as EventRow);
      }
    }
    if (stored > 0) {
      const first = batch.events[0]!;
      const key = `${first.workspaceId}\u0000${monthOf(first.receivedAt)}`;
      this.#usage.set(key, (this.#usage.get(key) ?? 0) + stored);
    }
    for (const r of batch.rejections) this.#quarantine(r);
    return results;
  }

  /**
   * Before COMMIT: the group's event segments (one per workspace) and its accepted events per
   * workspace and month — one statement each per workspace per commit, not per request.
   */
  finishGroup(): void {
    for (const [workspaceId, events] of this.#stored) {
      this.#segments.append(workspaceId, toColumns(events));
      this.#segments.mergeIfDue(workspaceId, events.length);
    }
    this.#stored.clear();
    for (const [key, n] of this.#usage) {
      const [workspaceId, month] = key.split('\u0000') as [string, string];
      this.#addUsage.run(workspaceId, month, n);
    }
    this.#usage.clear();
  }

  /** Forgets what a rolled-back group counted. */
  discard(): void {
    this.#usage.clear();
    this.#stored.clear();
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
}
