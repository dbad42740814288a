import type Database from 'better-sqlite3';
import type { KeyStore } from '../store.js';
import type { ApiKeyRecord, KeyKind } from '../types.js';

interface Row {
  id: string; workspace_id: string; name: string; kind: string; prefix: string; hash: string;
  rate_limit_per_minute: number | null; created_at: number; revoked_at: number | null;
}

const fromRow = (r: Row): ApiKeyRecord => ({
  id: r.id, workspaceId: r.workspace_id, name: r.name, kind: r.kind as KeyKind, prefix: r.prefix, hash: r.hash,
  rateLimitPerMinute: r.rate_limit_per_minute, createdAt: r.created_at, revokedAt: r.revoked_at,
});

export class SqliteKeyStore implements KeyStore {
  readonly #byHash: Database.Statement;
  constructor(private readonly db: Database.Database) {
    this.#byHash = db.prepare('SELECT * FROM api_keys WHERE hash = ?');
  }

  async create(k: ApiKeyRecord): Promise<ApiKeyRecord> {
    this.db.prepare(`INSERT INTO api_keys (id, workspace_id, name, kind, prefix, hash, rate_limit_per_minute, created_at, revoked_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(k.id, k.workspaceId, k.name, k.kind, k.prefix, k.hash, k.rateLimitPerMinute, k.createdAt, k.revokedAt);
    return k;
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | null> {
    const r = this.#byHash.get(hash) as Row | undefined;
    return r === undefined ? null : fromRow(r);
  }

  async list(workspaceId: string): Promise<ApiKeyRecord[]> {
    return (this.db.prepare('SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY created_at, rowid').all(workspaceId) as Row[]).map(fromRow);
  }

  async revoke(workspaceId: string, id: string, at: number): Promise<ApiKeyRecord | null> {
    this.db.prepare('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE workspace_id = ? AND id = ?').run(at, workspaceId, id);
    const r = this.db.prepare('SELECT * FROM api_keys WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
    return r === undefined ? null : fromRow(r);
  }
}
