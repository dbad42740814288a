import type Database from 'better-sqlite3';
import { itemJsonOf, upgradeChange } from '../outcome-codec.js';
import type { OutcomeChange, StoredOutcome } from '../types.js';
import { backfillSegments } from './segments.js';

/**
 * Versioned schema. Never edit a shipped migration: add the next one.
 *
 * The events table has a single secondary index, (workspace_id, id): ids grow, so each insert
 * lands at the end of its workspace's range and the index stays cheap, while a random one such
 * as (visitor_id, occurred_at) cuts the append rate to about 0.2 × (`npm run bench:store`:
 * ~409k rows/s as shipped, ~82k with that index). Attribution reads a workspace's events in id
 * order through it and builds its own per-visitor structures in memory. The partial unique index
 * on idempotency keys is the one random-order index we pay for, and only for events that carry a
 * key, because "never stored twice" needs it; the insert itself detects a repeat
 * (ON CONFLICT DO NOTHING), so a new event costs one statement.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string; backfill?: (db: Database.Database) => void }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE workspaces (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, settings TEXT NOT NULL, created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL REFERENCES workspaces(id), name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('server', 'browser')), prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
        rate_limit_per_minute INTEGER, created_at INTEGER NOT NULL, revoked_at INTEGER
      );
      CREATE INDEX api_keys_workspace ON api_keys(workspace_id);
      CREATE TABLE goals (
        id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL REFERENCES workspaces(id), name TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE goal_names (
        goal_id INTEGER NOT NULL REFERENCES goals(id), workspace_id TEXT NOT NULL, api_name TEXT NOT NULL,
        valid_from INTEGER NOT NULL, valid_to INTEGER, PRIMARY KEY (goal_id, valid_from)
      );
      CREATE INDEX goal_names_name ON goal_names(workspace_id, api_name);
      CREATE TABLE optimizations (
        workspace_id TEXT NOT NULL REFERENCES workspaces(id), key TEXT NOT NULL, name TEXT NOT NULL,
        variations TEXT NOT NULL, goals TEXT NOT NULL, primary_goal INTEGER NOT NULL, control TEXT NOT NULL,
        status TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE events (
        id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, type TEXT NOT NULL, name TEXT,
        occurred_at INTEGER NOT NULL, received_at INTEGER NOT NULL, idempotency_key TEXT,
        visitor_id TEXT, session_id TEXT, user_domain TEXT, user_id TEXT, optimization TEXT, variation TEXT,
        value REAL, currency TEXT, properties TEXT, user_data TEXT, context TEXT, source TEXT NOT NULL
      );
      CREATE INDEX events_workspace ON events(workspace_id, id);
      CREATE UNIQUE INDEX events_idempotency ON events(workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE TABLE usage (
        workspace_id TEXT NOT NULL, month TEXT NOT NULL, events INTEGER NOT NULL, PRIMARY KEY (workspace_id, month)
      ) WITHOUT ROWID;
      CREATE TABLE rejections (
        id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, received_at INTEGER NOT NULL, dialect TEXT NOT NULL,
        route TEXT NOT NULL, idx INTEGER, code TEXT NOT NULL, message TEXT NOT NULL, field TEXT, raw TEXT NOT NULL,
        replayed_at INTEGER, replayed_event_id INTEGER
      );
      CREATE INDEX rejections_workspace ON rejections(workspace_id, id);
    `,
  },
  {
    version: 2,
    name: 'attribution outcomes, runs and restatements',
    sql: `
      CREATE TABLE attribution_runs (
        id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, mode TEXT NOT NULL, until INTEGER NOT NULL,
        started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, conversions_processed INTEGER NOT NULL,
        attributed INTEGER NOT NULL, not_attributed INTEGER NOT NULL, changed INTEGER NOT NULL,
        newly_attributed INTEGER NOT NULL, unattributed INTEGER NOT NULL
      );
      CREATE INDEX attribution_runs_workspace ON attribution_runs(workspace_id, id);
      CREATE TABLE attribution_outcomes (
        workspace_id TEXT NOT NULL, event_id INTEGER NOT NULL, outcome TEXT NOT NULL, reason TEXT, goal_id INTEGER,
        attributions TEXT NOT NULL, detail TEXT NOT NULL, run_id INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, event_id)
      ) WITHOUT ROWID;
      CREATE TABLE attribution_changes (
        run_id INTEGER NOT NULL, event_id INTEGER NOT NULL, before TEXT, after TEXT,
        PRIMARY KEY (run_id, event_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'event segments (a columnar copy of each workspace\'s events for attribution); outcomes and restatements stored in chunks',
    // A rowid table: its rows hold blobs of up to a few megabytes, which WITHOUT ROWID tables
    // store poorly. Segments are appended in id order, so the index stays append-only too.
    sql: `
      CREATE TABLE event_segments (
        id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL,
        n INTEGER NOT NULL, max_received INTEGER NOT NULL, data BLOB NOT NULL
      );
      CREATE INDEX event_segments_workspace ON event_segments(workspace_id, first_id);
      CREATE TABLE attribution_outcome_chunks (
        id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, first_event INTEGER NOT NULL, last_event INTEGER NOT NULL,
        n INTEGER NOT NULL, data TEXT NOT NULL, prints TEXT NOT NULL
      );
      CREATE INDEX attribution_outcome_chunks_workspace ON attribution_outcome_chunks(workspace_id, first_event);
      INSERT INTO attribution_outcome_chunks (workspace_id, first_event, last_event, n, data, prints)
        SELECT workspace_id, min(event_id), max(event_id), count(*),
          json_group_array(json_object('eventId', event_id, 'outcome', outcome, 'reason', reason, 'goalId', goal_id,
            'attributions', json(attributions), 'detail', json(detail), 'runId', run_id)),
          '[' || group_concat(event_id || ',0') || ']'
        FROM (SELECT *, (row_number() OVER (PARTITION BY workspace_id ORDER BY event_id) - 1) / 4096 AS bucket FROM attribution_outcomes ORDER BY workspace_id, event_id)
        GROUP BY workspace_id, bucket;
      DROP TABLE attribution_outcomes;
      CREATE TABLE attribution_change_chunks (
        id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL
      );
      CREATE UNIQUE INDEX attribution_change_chunks_run ON attribution_change_chunks(run_id, seq);
      INSERT INTO attribution_change_chunks (run_id, seq, data)
        SELECT run_id, 0, json_group_array(json_object('eventId', event_id, 'before', json(before), 'after', json(after)))
        FROM (SELECT * FROM attribution_changes ORDER BY run_id, event_id) GROUP BY run_id;
      DROP TABLE attribution_changes;
    `,
    backfill: backfillSegments,
  },
  {
    version: 4,
    name: 'outcomes and restatements kept as JSON arrays instead of objects (outcome-codec.ts)',
    sql: '',
    backfill: (db) => {
      // A chunk at a time: a large store's outcomes are hundreds of megabytes.
      const rewrite = <T>(table: string, upgrade: (item: T) => string) => {
        const get = db.prepare(`SELECT data FROM ${table} WHERE id = ?`).pluck();
        const put = db.prepare(`UPDATE ${table} SET data = ? WHERE id = ?`);
        for (const id of db.prepare(`SELECT id FROM ${table}`).pluck().all() as number[]) {
          put.run(`[${(JSON.parse(get.get(id) as string) as T[]).map(upgrade).join(',')}]`, id);
        }
      };
      rewrite<StoredOutcome>('attribution_outcome_chunks', itemJsonOf);
      rewrite<OutcomeChange>('attribution_change_chunks', upgradeChange);
    },
  },
  {
    version: 5,
    name: 'data quality figures of each workspace\'s latest attribution run',
    sql: `
      CREATE TABLE attribution_quality (
        workspace_id TEXT PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES attribution_runs(id), data TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'outcome fingerprints kept as float64 pairs instead of JSON text, and before the outcomes in each row (outcome-chunks.ts, printsOf)',
    // A column stored after a large one is reached through the large one's overflow pages: with
    // the prints after the outcomes, reading a million fingerprints read all 94 MB of outcomes.
    sql: `
      CREATE TABLE attribution_outcome_chunks_6 (
        id INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, first_event INTEGER NOT NULL, last_event INTEGER NOT NULL,
        n INTEGER NOT NULL, prints BLOB NOT NULL, data TEXT NOT NULL
      );
    `,
    backfill: (db) => {
      // A chunk at a time: a large store's outcomes are hundreds of megabytes.
      const get = db.prepare('SELECT * FROM attribution_outcome_chunks WHERE id = ?');
      const put = db.prepare('INSERT INTO attribution_outcome_chunks_6 (id, workspace_id, first_event, last_event, n, prints, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const id of db.prepare('SELECT id FROM attribution_outcome_chunks ORDER BY id').pluck().all() as number[]) {
        const r = get.get(id) as { workspace_id: string; first_event: number; last_event: number; n: number; prints: string; data: string };
        const pairs = Float64Array.from(JSON.parse(r.prints) as number[]);
        put.run(id, r.workspace_id, r.first_event, r.last_event, r.n, Buffer.from(pairs.buffer, 0, pairs.byteLength), r.data);
      }
      db.exec(`DROP TABLE attribution_outcome_chunks;
        ALTER TABLE attribution_outcome_chunks_6 RENAME TO attribution_outcome_chunks;
        CREATE INDEX attribution_outcome_chunks_workspace ON attribution_outcome_chunks(workspace_id, first_event);`);
    },
  },
  {
    version: 7,
    name: 'id filters of event segments (id-filter.ts): readers of a few ids skip the segments without them',
    // A table of its own: a column added to event_segments would sit after its data, reached
    // through its overflow pages. Segments already stored get theirs at the next compaction (a
    // run), not here: decoding ten million events' segments would hold up the startup.
    sql: `
      CREATE TABLE event_segment_ids (segment_id INTEGER PRIMARY KEY, filter BLOB NOT NULL);
    `,
  },
  {
    version: 8,
    name: 'outcomes in fewer bytes (outcome-bytes.ts): the strings they name by number, and the summaries restatements name kept when a later run replaced them',
    sql: `
      CREATE TABLE attribution_strings (workspace_id TEXT NOT NULL, id INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (workspace_id, id)) WITHOUT ROWID;
      CREATE TABLE attribution_kept_summaries (
        id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, first_event INTEGER NOT NULL, last_event INTEGER NOT NULL, data BLOB NOT NULL
      );
      CREATE INDEX attribution_kept_summaries_run ON attribution_kept_summaries(run_id, first_event);
    `,
  },
];

/** Applies the migrations the database has not seen yet, each in its own transaction. */
export function migrate(db: Database.Database, now: number): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const done: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.backfill?.(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now);
    }).immediate();
    done.push(m.version);
  }
  return done;
}
