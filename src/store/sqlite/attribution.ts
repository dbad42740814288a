import type Database from 'better-sqlite3';
import type { DialectName, EventType } from '../../core/index.js';
import type { AttributionStore } from '../store.js';
import type { AttributionRun, OutcomeChange, ScannedEvent, StoredOutcome } from '../types.js';

interface OutcomeRow { event_id: number; outcome: string; reason: string | null; goal_id: number | null; attributions: string; detail: string; run_id: number }
interface RunRow {
  id: number; workspace_id: string; mode: string; until: number; started_at: number; finished_at: number; conversions_processed: number;
  attributed: number; not_attributed: number; changed: number; newly_attributed: number; unattributed: number;
}
interface ScanRow {
  id: number; type: string; name: string | null; occurred_at: number; received_at: number; idempotency_key: string | null;
  visitor_id: string | null; session_id: string | null; user_domain: string | null; user_id: string | null;
  optimization: string | null; variation: string | null; value: number | null; source: string;
}

const outcomeFromRow = (r: OutcomeRow): StoredOutcome => ({
  eventId: r.event_id, outcome: r.outcome as StoredOutcome['outcome'], reason: r.reason, goalId: r.goal_id,
  attributions: JSON.parse(r.attributions) as StoredOutcome['attributions'], detail: JSON.parse(r.detail) as StoredOutcome['detail'], runId: r.run_id,
});

const runFromRow = (r: RunRow): AttributionRun => ({
  id: r.id, workspaceId: r.workspace_id, mode: r.mode as AttributionRun['mode'], until: r.until, startedAt: r.started_at, finishedAt: r.finished_at,
  conversionsProcessed: r.conversions_processed, attributed: r.attributed, notAttributed: r.not_attributed, changed: r.changed,
  newlyAttributed: r.newly_attributed, unattributed: r.unattributed,
});

export class SqliteAttributionStore implements AttributionStore {
  constructor(private readonly db: Database.Database) {}

  *scan(workspaceId: string, until: number): Iterable<ScannedEvent> {
    const rows = this.db.prepare(`SELECT id, type, name, occurred_at, received_at, idempotency_key, visitor_id, session_id, user_domain, user_id,
      optimization, variation, value, source FROM events WHERE workspace_id = ? AND received_at <= ? ORDER BY id`).iterate(workspaceId, until) as Iterable<ScanRow>;
    for (const r of rows) {
      yield {
        id: r.id, type: r.type as EventType, name: r.name, occurredAt: r.occurred_at, receivedAt: r.received_at, idempotencyKey: r.idempotency_key,
        visitorId: r.visitor_id, sessionId: r.session_id, userDomain: r.user_domain, userId: r.user_id, optimization: r.optimization,
        variation: r.variation, value: r.value, source: r.source as DialectName,
      };
    }
  }

  async outcomes(workspaceId: string): Promise<Map<number, StoredOutcome>> {
    const rows = this.db.prepare('SELECT * FROM attribution_outcomes WHERE workspace_id = ?').all(workspaceId) as OutcomeRow[];
    return new Map(rows.map((r) => [r.event_id, outcomeFromRow(r)]));
  }

  async outcome(workspaceId: string, eventId: number): Promise<StoredOutcome | null> {
    const r = this.db.prepare('SELECT * FROM attribution_outcomes WHERE workspace_id = ? AND event_id = ?').get(workspaceId, eventId) as OutcomeRow | undefined;
    return r === undefined ? null : outcomeFromRow(r);
  }

  async commitRun(run: Omit<AttributionRun, 'id'>, outcomes: Omit<StoredOutcome, 'runId'>[], withdrawn: number[], changes: OutcomeChange[]): Promise<AttributionRun> {
    const id = this.db.transaction(() => {
      const runId = Number(this.db.prepare(`INSERT INTO attribution_runs (workspace_id, mode, until, started_at, finished_at, conversions_processed,
        attributed, not_attributed, changed, newly_attributed, unattributed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        run.workspaceId, run.mode, run.until, run.startedAt, run.finishedAt, run.conversionsProcessed, run.attributed, run.notAttributed,
        run.changed, run.newlyAttributed, run.unattributed).lastInsertRowid);
      const put = this.db.prepare(`INSERT INTO attribution_outcomes (workspace_id, event_id, outcome, reason, goal_id, attributions, detail, run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, event_id) DO UPDATE SET outcome = excluded.outcome, reason = excluded.reason,
        goal_id = excluded.goal_id, attributions = excluded.attributions, detail = excluded.detail, run_id = excluded.run_id`);
      for (const o of outcomes) put.run(run.workspaceId, o.eventId, o.outcome, o.reason, o.goalId, JSON.stringify(o.attributions), JSON.stringify(o.detail), runId);
      const withdraw = this.db.prepare('DELETE FROM attribution_outcomes WHERE workspace_id = ? AND event_id = ?');
      for (const eventId of withdrawn) withdraw.run(run.workspaceId, eventId);
      const change = this.db.prepare('INSERT INTO attribution_changes (run_id, event_id, before, after) VALUES (?, ?, ?, ?)');
      for (const c of changes) change.run(runId, c.eventId, c.before === null ? null : JSON.stringify(c.before), c.after === null ? null : JSON.stringify(c.after));
      return runId;
    }).immediate();
    return { ...run, id };
  }

  async runs(workspaceId: string, limit: number): Promise<AttributionRun[]> {
    return (this.db.prepare('SELECT * FROM attribution_runs WHERE workspace_id = ? ORDER BY id DESC LIMIT ?').all(workspaceId, limit) as RunRow[]).map(runFromRow);
  }

  async run(workspaceId: string, id: number): Promise<{ run: AttributionRun; changes: OutcomeChange[] } | null> {
    const r = this.db.prepare('SELECT * FROM attribution_runs WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as RunRow | undefined;
    if (r === undefined) return null;
    const changes = (this.db.prepare('SELECT event_id, before, after FROM attribution_changes WHERE run_id = ? ORDER BY event_id').all(id) as { event_id: number; before: string | null; after: string | null }[])
      .map((c) => ({ eventId: c.event_id, before: c.before === null ? null : JSON.parse(c.before) as OutcomeChange['before'], after: c.after === null ? null : JSON.parse(c.after) as OutcomeChange['after'] }));
    return { run: runFromRow(r), changes };
  }
}
