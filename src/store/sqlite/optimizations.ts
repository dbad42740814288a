import type Database from 'better-sqlite3';
import type { OptimizationStore } from '../store.js';
import type { Optimization, OptimizationStatus, Variation } from '../types.js';

interface Row {
  workspace_id: string; key: string; name: string; variations: string; goals: string; primary_goal: string;
  control: string; status: string; created_at: number; updated_at: number;
}

const fromRow = (r: Row): Optimization => ({
  workspaceId: r.workspace_id, key: r.key, name: r.name, variations: JSON.parse(r.variations) as Variation[],
  goalIds: JSON.parse(r.goals) as number[], primaryGoalId: Number(r.primary_goal), control: r.control,
  status: r.status as OptimizationStatus, createdAt: r.created_at, updatedAt: r.updated_at,
});

export class SqliteOptimizationStore implements OptimizationStore {
  constructor(private readonly db: Database.Database) {}

  async create(o: Optimization): Promise<Optimization> {
    this.db.prepare(`INSERT INTO optimizations (workspace_id, key, name, variations, goals, primary_goal, control, status, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(o.workspaceId, o.key, o.name, JSON.stringify(o.variations), JSON.stringify(o.goalIds),
      o.primaryGoalId, o.control, o.status, o.createdAt, o.updatedAt);
    return o;
  }

  async get(workspaceId: string, key: string): Promise<Optimization | null> {
    const r = this.db.prepare('SELECT * FROM optimizations WHERE workspace_id = ? AND key = ?').get(workspaceId, key) as Row | undefined;
    return r === undefined ? null : fromRow(r);
  }

  async list(workspaceId: string): Promise<Optimization[]> {
    return (this.db.prepare('SELECT * FROM optimizations WHERE workspace_id = ? ORDER BY created_at, key').all(workspaceId) as Row[]).map(fromRow);
  }

  async setStatus(workspaceId: string, key: string, status: OptimizationStatus, at: number): Promise<Optimization | null> {
    this.db.prepare('UPDATE optimizations SET status = ?, updated_at = ? WHERE workspace_id = ? AND key = ?').run(status, at, workspaceId, key);
    return this.get(workspaceId, key);
  }
}
