import type Database from 'better-sqlite3';
import type { MetaStore } from '../store.js';

export class SqliteMetaStore implements MetaStore {
  constructor(private readonly db: Database.Database) {}

  async get(key: string): Promise<string | null> {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined) ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
