/**
 * Raw append rate of the events table, as the schema has it and as it would be with a
 * per-visitor index — the measurement behind the single (workspace_id, id) index in
 * src/store/sqlite/migrations.ts. Also the cost of the partial unique index on idempotency keys,
 * which every event that carries a key pays.
 *
 *   node --import tsx bench/store-append.ts [--rows 1000000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../src/store/index.js';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 500_000;
const TX = 1000;

function open(extraSql: string): { db: Database.Database; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-bench-test-'));
  const db = new Database(path.join(dir, 'b.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -65536');
  for (const m of MIGRATIONS) db.exec(m.sql);
  if (extraSql) db.exec(extraSql);
  return { db, dir };
}

function run(label: string, extraSql: string, withKey: boolean): number {
  const { db, dir } = open(extraSql);
  // The statement the store's writer runs (src/store/sqlite/event-writer.ts), trimmed to the columns that matter here.
  const ins = db.prepare(`INSERT INTO events (workspace_id, type, name, occurred_at, received_at, idempotency_key, visitor_id, source)
    VALUES (?, 'conversion', 'signup', ?, ?, ?, ?, 'native')
    ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`);
  const t0 = Date.now();
  const started = performance.now();
  for (let i = 0; i < ROWS; i += TX) {
    db.transaction(() => {
      for (let j = i; j < i + TX; j++) {
        const visitor = `v${(j * 2654435761) % 1_000_003}`;
        const k = withKey ? `order-${(j * 40503) % 99991}-${j}` : null;
        ins.run('ws1', t0 + j, t0 + j, k, visitor);
      }
    })();
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const rate = ROWS / seconds;
  console.log(`${label.padEnd(58)} ${Math.round(rate).toLocaleString('en-US').padStart(10)} rows/s`);
  return rate;
}

console.log(`${ROWS.toLocaleString('en-US')} rows in transactions of ${TX}, synchronous=FULL, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, node ${process.version}\n`);
const base = run('schema as shipped: (workspace_id, id) index, no key', '', false);
const keyed = run('schema as shipped, every event with an idempotency key', '', true);
const visitor = run('plus an index on (visitor_id, occurred_at), no key', 'CREATE INDEX ev_visitor ON events(visitor_id, occurred_at)', false);
console.log(`\nwith idempotency keys: ${(keyed / base).toFixed(2)} × the keyless rate; with a per-visitor index: ${(visitor / base).toFixed(2)} ×`);
