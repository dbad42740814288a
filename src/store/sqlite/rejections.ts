import type Database from 'better-sqlite3';
import type { DialectName } from '../../core/index.js';
import type { RejectionStore } from '../store.js';
import type { Rejection } from '../types.js';

interface Row {
  id: number; workspace_id: string; received_at: number; dialect: string; route: string; idx: number | null;
  code: string; message: string; field: string | null; raw: string; replayed_at: number | null; replayed_event_id: number | null;
}

const fromRow = (r: Row): Rejection => ({
  id: r.id, workspaceId: r.workspace_id, receivedAt: r.received_at, dialect: r.dialect as DialectName,
  route: JSON.parse(r.route) as Rejection['route'], index: r.idx, code: r.code, message: r.message, field: r.field,
  raw: r.raw, replayedAt: r.replayed_at, replayedEventId: r.replayed_event_id,
});

export class SqliteRejectionStore implements RejectionStore {
  constructor(private readonly db: Database.Database) {}

  async list(workspaceId: string, q: { before?: number; limit: number; pending?: boolean }): Promise<Rejection[]> {
    const where = ['workspace_id = ?'];
    const args: (string | number)[] = [workspaceId];
    if (q.before !== undefined) { where.push('id < ?'); args.push(q.before); }
    if (q.pending === true) where.push('replayed_at IS NULL');
    args.push(q.limit);
    return (this.db.prepare(`SELECT * FROM rejections WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...args) as Row[]).map(fromRow);
  }

  async get(workspaceId: string, ids: number[]): Promise<Rejection[]> {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM rejections WHERE workspace_id = ? AND id IN (${ids.map(() => '?').join(',')}) ORDER BY id`).all(workspaceId, ...ids) as Row[];
    return rows.map(fromRow);
  }

  async markReplayed(workspaceId: string, id: number, at: number, eventId: number | null): Promise<void> {
    this.db.prepare('UPDATE rejections SET replayed_at = ?, replayed_event_id = ? WHERE workspace_id = ? AND id = ?').run(at, eventId, workspaceId, id);
  }

  async countByCode(workspaceId: string): Promise<Record<string, number>> {
    const rows = this.db.prepare('SELECT code, count(*) AS n FROM rejections WHERE workspace_id = ? GROUP BY code ORDER BY code').all(workspaceId) as { code: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.code, r.n]));
  }
}
