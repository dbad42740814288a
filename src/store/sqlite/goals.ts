import type Database from 'better-sqlite3';
import type { GoalStore } from '../store.js';
import type { Goal, GoalName } from '../types.js';

interface GoalRow { id: number; workspace_id: string; name: string; created_at: number }
interface NameRow { goal_id: number; api_name: string; valid_from: number; valid_to: number | null }

export class SqliteGoalStore implements GoalStore {
  constructor(private readonly db: Database.Database) {}

  #history(goalIds: number[]): Map<number, GoalName[]> {
    const out = new Map<number, GoalName[]>();
    if (goalIds.length === 0) return out;
    const rows = this.db.prepare(`SELECT * FROM goal_names WHERE goal_id IN (${goalIds.map(() => '?').join(',')}) ORDER BY goal_id, valid_from`).all(...goalIds) as NameRow[];
    for (const r of rows) {
      const list = out.get(r.goal_id) ?? [];
      list.push({ apiName: r.api_name, validFrom: r.valid_from, validTo: r.valid_to });
      out.set(r.goal_id, list);
    }
    return out;
  }

  #withHistory(rows: GoalRow[]): Goal[] {
    const history = this.#history(rows.map((r) => r.id));
    return rows.map((r) => ({ id: r.id, workspaceId: r.workspace_id, name: r.name, createdAt: r.created_at, history: history.get(r.id) ?? [] }));
  }

  async create(workspaceId: string, apiName: string, name: string, at: number): Promise<Goal> {
    const id = this.db.transaction(() => {
      const goalId = Number(this.db.prepare('INSERT INTO goals (workspace_id, name, created_at) VALUES (?, ?, ?)').run(workspaceId, name, at).lastInsertRowid);
      this.db.prepare('INSERT INTO goal_names (goal_id, workspace_id, api_name, valid_from, valid_to) VALUES (?, ?, ?, ?, NULL)').run(goalId, workspaceId, apiName, at);
      return goalId;
    }).immediate();
    return (await this.get(workspaceId, id))!;
  }

  async rename(workspaceId: string, id: number, apiName: string, at: number): Promise<Goal | null> {
    const found = this.db.transaction(() => {
      const exists = this.db.prepare('SELECT 1 FROM goals WHERE workspace_id = ? AND id = ?').get(workspaceId, id);
      if (exists === undefined) return false;
      this.db.prepare('UPDATE goal_names SET valid_to = ? WHERE goal_id = ? AND valid_to IS NULL').run(at, id);
      this.db.prepare('INSERT INTO goal_names (goal_id, workspace_id, api_name, valid_from, valid_to) VALUES (?, ?, ?, ?, NULL)').run(id, workspaceId, apiName, at);
      return true;
    }).immediate();
    return found ? this.get(workspaceId, id) : null;
  }

  async get(workspaceId: string, id: number): Promise<Goal | null> {
    const rows = this.db.prepare('SELECT * FROM goals WHERE workspace_id = ? AND id = ?').all(workspaceId, id) as GoalRow[];
    return this.#withHistory(rows)[0] ?? null;
  }

  async list(workspaceId: string): Promise<Goal[]> {
    return this.#withHistory(this.db.prepare('SELECT * FROM goals WHERE workspace_id = ? ORDER BY id').all(workspaceId) as GoalRow[]);
  }
}
