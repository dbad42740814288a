import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens a connection with the settings every closeloop connection shares: WAL so readers never
 * wait for the writer, synchronous=FULL so a COMMIT that returned survives power loss, not just
 * a process crash.
 */
export function openConnection(file: string, busyTimeoutMs = 5000): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536');
  return db;
}
