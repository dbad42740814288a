import type Database from 'better-sqlite3';
import type { WorkspaceSettingsInput } from '../../config/index.js';
import type { WorkspaceStore } from '../store.js';
import type { Workspace } from '../types.js';

interface Row { id: string; name: string; settings: string; created_at: number }

const fromRow = (r: Row): Workspace => ({ id: r.id, name: r.name, settings: JSON.parse(r.settings) as WorkspaceSettingsInput, createdAt: r.created_at });

export class SqliteWorkspaceStore implements WorkspaceStore {
  constructor(private readonly db: Database.Database) {}

  async create(ws: Workspace): Promise<Workspace> {
    this.db.prepare('INSERT INTO workspaces (id, name, settings, created_at) VALUES (?, ?, ?, ?)').run(ws.id, ws.name, JSON.stringify(ws.settings), ws.createdAt);
    return ws;
  }

  async get(id: string): Promise<Workspace | null> {
    const r = this.db.prepare('SELECT * FROM workspaces WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? null : fromRow(r);
  }

  async list(): Promise<Workspace[]> {
    return (this.db.prepare('SELECT * FROM workspaces ORDER BY id').all() as Row[]).map(fromRow);
  }

  async updateSettings(id: string, settings: WorkspaceSettingsInput, name?: string): Promise<Workspace | null> {
    const info = this.db.prepare('UPDATE workspaces SET settings = ?, name = coalesce(?, name) WHERE id = ?').run(JSON.stringify(settings), name ?? null, id);
    return info.changes === 0 ? null : this.get(id);
  }
}
