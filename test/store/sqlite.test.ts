import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ServiceError, type CanonicalEvent } from '../../src/core/index.js';
import { eventAt, MIGRATIONS, openSqliteStore, RunWrites, WorkspaceWords, type AppendBatch, type SqliteStore } from '../../src/store/index.js';
import { legacyChanges, legacyChunk } from './legacy-bytes.js';
import { readPrints, writePrints } from '../../src/store/sqlite/outcome-chunks.js';
import { ByteWriter } from '../../src/core/bytes.js';
import fc from 'fast-check';
import { Interner } from '../../src/core/interner.js';
import { numberIds } from '../../src/store/event-columns.js';
import { storeContract } from './contract.js';
import { removeTestDir } from '../helpers/server.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/** Removes a temporary test folder; refuses anything whose name does not say it is a test's. */
function tempDbFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-store-test-')), 'closeloop.db');
}

function open(file: string, opts: { now?: number; maxPending?: number; onCommit?: (rows: number) => void } = {}): SqliteStore {
  return openSqliteStore({
    file,
    commit: { maxWaitMs: 0, maxRows: 5000, maxPending: opts.maxPending ?? 20_000 },
    quarantineMaxPerWorkspace: 100_000,
    now: opts.now ?? T0,
    ...(opts.onCommit ? { onCommit: opts.onCommit } : {}),
  });
}

storeContract('sqlite', async () => {
  const file = tempDbFile();
  const store = open(file);
  return {
    store,
    reopen: async () => open(file),
    cleanup: async () => {
      await store.close();
      removeTestDir(path.dirname(file));
    },
  };
});

function conversion(key: string, overrides: Partial<CanonicalEvent> = {}): AppendBatch {
  const event: CanonicalEvent = {
    workspaceId: 'acme', type: 'conversion', name: 'signup', occurredAt: T0, receivedAt: T0, idempotencyKey: key,
    visitorId: 'v1', sessionId: null, userDomain: null, userId: null, optimization: null, variation: null, value: null,
    currency: null, properties: null, userData: null, context: null, source: 'native', ...overrides,
  };
  return { events: [event], rejections: [] };
}

const storeUnavailable = (err: unknown): boolean => err instanceof ServiceError && err.code === 'store_unavailable';

/**
 * Commits `writes` as a full run of workspace acme at instant `at` over `n` conversions, all
 * attributed and matched, every change of `writes` newly attributed.
 */
function commitAttributed(store: SqliteStore, writes: RunWrites, n: number, at = T0) {
  return store.attribution.commitRun({
    workspaceId: 'acme', mode: 'full', until: at, startedAt: at, finishedAt: at, conversionsProcessed: n,
    attributed: n, notAttributed: 0, changed: writes.changes, newlyAttributed: writes.changes, unattributed: 0,
  }, writes, { matchRate: { overall: { conversions: n, matched: n, matchRate: 1 }, byUserDomain: {}, byDialect: {} }, ingestionLagMs: {} });
}

describe('SQLite store: fingerprints of a chunk of outcomes', () => {
  it('read back as written whatever the gaps between ids, never mistaken for the float64 pairs of earlier builds', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 2 ** 42, max: 2 ** 49 })), fc.double({ noNaN: true })), { minLength: 1, maxLength: 40 }), (steps) => {
      let id = 0;
      const ids = steps.map(([step]) => (id += step)).filter((x) => x <= Number.MAX_SAFE_INTEGER);
      const fps = steps.slice(0, ids.length).map(([, fp]) => fp);
      const out = new ByteWriter(8);
      writePrints(out, ids.length, (i) => ids[i]!, (i) => fps[i]!);
      assert.notEqual(out.length, 16 * ids.length);
      const readIds = new Float64Array(ids.length + 1);
      const readFps = new Float64Array(ids.length + 1);
      assert.equal(readPrints(out.bytes(), ids.length, readIds, readFps, 1), ids.length + 1);
      assert.deepEqual([...readIds.subarray(1)], ids);
      assert.deepEqual([...readFps.subarray(1)], fps);
    }), { numRuns: 500 });
    // Exactly 16n bytes: the pairs (id, fingerprint) of an earlier build.
    const pairs = Buffer.from(new Float64Array([5, 0.5, 9, -1]).buffer);
    const ids = new Float64Array(2);
    const fps = new Float64Array(2);
    readPrints(pairs, 2, ids, fps, 0);
    assert.deepEqual([[...ids], [...fps]], [[5, 9], [0.5, -1]]);
  });
});

describe('SQLite store', () => {
  let file: string;
  let store: SqliteStore;
  beforeEach(async () => {
    file = tempDbFile();
    store = open(file);
    await store.workspaces.create({ id: 'acme', name: 'Acme', settings: {}, createdAt: T0 });
  });
  afterEach(async () => {
    await store.close();
    removeTestDir(path.dirname(file));
  });

  const count = (sql: string): number => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).pluck().get() as number;
    } finally {
      db.close();
    }
  };

  it('runs in WAL mode with synchronous=FULL', () => {
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('synchronous', { simple: true }), 2);
    const other = new Database(file, { readonly: true });
    try {
      assert.equal(other.pragma('journal_mode', { simple: true }), 'wal', 'WAL is recorded in the file itself');
    } finally {
      other.close();
    }
  });

  it('answers a run once its commit is durable in the WAL, and copies it into the database just after (not inside the run)', async () => {
    store.db.pragma('wal_autocheckpoint = 4'); // pages: a run of 5,000 outcomes writes more
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const writes = new RunWrites();
    for (let i = 1; i <= 5000; i++) {
      const k = writes.add({ eventId: i, reason: null, goalId: 1, fingerprint: i, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0, visitorId: `v${i}` }], visitors: [`v${i}`], deciding: null });
      writes.restate(k, null);
    }
    const dbBytes = () => fs.statSync(file).size;
    const before = dbBytes();
    const run = await commitAttributed(store, writes, 5000);
    // What follows a run on its connection (its lease released) is a write too: it must not make the checkpoint either.
    await store.attribution.releaseRunLease('acme', 'nobody');
    assert.equal(dbBytes(), before, 'nothing copied from the WAL into the database before the run answered');
    assert.ok(fs.statSync(`${file}-wal`).size > 100_000, 'the run is in the WAL');
    assert.equal((await store.attribution.outcome('acme', 1234))?.runId, run.id, 'and readable');
    await store.attribution.settle();
    assert.ok(dbBytes() > before + 100_000, 'copied into the database just after');
    assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 4, 'the connection\'s own setting back');
  });

  it('records each migration once, and reopening an existing file changes nothing', async () => {
    const recorded = () => store.db.prepare('SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version').all();
    const expected = MIGRATIONS.map((m) => ({ version: m.version, name: m.name, appliedAt: T0 }));
    assert.deepEqual(recorded(), expected);
    const [stored] = await store.events.append(conversion('kept'));
    await store.close();
    store = open(file, { now: T0 + 86_400_000 });
    assert.deepEqual(recorded(), expected);
    assert.deepEqual(await store.workspaces.get('acme'), { id: 'acme', name: 'Acme', settings: {}, createdAt: T0 });
    assert.deepEqual(await store.events.findByIdempotencyKey('acme', 'kept'), stored!.event);
  });

  /** A database as a build that knew migrations up to `version` left it, with workspace acme. */
  const databaseAt = (file: string, version: number): Database.Database => {
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, T0);
    }
    db.prepare(`INSERT INTO workspaces VALUES ('acme', 'Acme', '{}', ?)`).run(T0);
    return db;
  };

  it('gives the events of a database made before event segments to attribution after the upgrade', async () => {
    await store.close();
    const old = tempDbFile();
    const db = databaseAt(old, 2);
    const insert = db.prepare(`INSERT INTO events (workspace_id, type, name, occurred_at, received_at, visitor_id, optimization, variation, source)
      VALUES ('acme', ?, ?, ?, ?, ?, ?, ?, 'native')`);
    insert.run('view', null, T0, T0, 'v1', 'hero', 'bold');
    insert.run('conversion', 'signup', T0 + 1, T0 + 1, 'v1', null, null);
    db.close();
    store = open(old);
    try {
      const seen: [string, string | null, string | null][] = [];
      await store.attribution.readColumns('acme', T0 + 1, (c) => {
        for (let i = 0; i < c.n; i++) { const e = eventAt(c, i); seen.push([e.type, e.variation, e.name]); }
      });
      assert.deepEqual(seen, [['view', 'bold', null], ['conversion', null, 'signup']]);
    } finally {
      await store.close();
      removeTestDir(path.dirname(old));
      store = open(file);
    }
  });

  it('reads outcomes and restatements kept as objects (before version 4) after the upgrade, results included', async () => {
    await store.close();
    const old = tempDbFile();
    const db = databaseAt(old, 3);
    const insert = db.prepare(`INSERT INTO events (id, workspace_id, type, name, occurred_at, received_at, visitor_id, optimization, variation, value, source)
      VALUES (?, 'acme', ?, ?, ?, ?, ?, ?, ?, ?, 'native')`);
    insert.run(1, 'view', null, T0, T0, 'v1', 'hero', 'bold', null);
    insert.run(2, 'conversion', 'signup', T0 + 1, T0 + 1, 'v1', null, null, 12.5);
    insert.run(3, 'conversion', 'signup', T0 + 2, T0 + 2, 'v\u00e9"2', null, null, null);
    db.prepare(`INSERT INTO attribution_runs (id, workspace_id, mode, until, started_at, finished_at, conversions_processed, attributed, not_attributed, changed, newly_attributed, unattributed)
      VALUES (7, 'acme', 'full', ?, ?, ?, 2, 1, 1, 2, 1, 0)`).run(T0 + 2, T0 + 3, T0 + 4);
    const attributed = { eventId: 2, outcome: 'attributed', reason: null, goalId: 1, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0, visitorId: 'v1' }], detail: { visitors: ['v1'], deciding: null }, runId: 7 };
    const expired = { eventId: 3, outcome: 'not_attributed', reason: 'session_expired', goalId: 1, attributions: [],
      detail: { visitors: ['v\u00e9"2'], deciding: { optimization: 'hero', variation: 'bold', viewedAt: T0 - 9e6, visitorId: 'v\u00e9"2', sessionStart: T0 - 9e6, sessionEnd: T0 - 7e6 } }, runId: 7 };
    db.prepare(`INSERT INTO attribution_outcome_chunks (workspace_id, first_event, last_event, n, data, prints) VALUES ('acme', 2, 3, 2, ?, '[2,11,3,12]')`).run(JSON.stringify([attributed, expired]));
    const changes = [
      { eventId: 2, before: null, after: { outcome: 'attributed', reason: null, attributions: attributed.attributions } },
      { eventId: 3, before: null, after: { outcome: 'not_attributed', reason: 'session_expired', attributions: [] } },
    ];
    db.prepare(`INSERT INTO attribution_change_chunks (run_id, seq, data) VALUES (7, 0, ?)`).run(JSON.stringify(changes));
    db.close();
    store = open(old);
    try {
      const all = await store.attribution.outcomes('acme');
      assert.deepEqual([all.get(2), all.get(3)], [attributed, expired]);
      const read: unknown[] = [];
      assert.equal((await store.attribution.run('acme', 7, (chunk) => read.push(...chunk)))!.id, 7);
      assert.deepEqual(read, changes);
      assert.deepEqual([...(await store.attribution.fingerprints('acme')).prints], [11, 12]);
      assert.deepEqual(await store.attribution.attributedTo('acme', 'hero', 1), { eventIds: new Float64Array([2]), variations: ['bold'], visitorIds: ['v1'] });

      // A run that changes one of the row's outcomes rewrites the row as bytes (outcome-bytes.ts): the outcome it kept reads as it did.
      const writes = new RunWrites();
      writes.add({ ...expired, eventId: 3, reason: null, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0 + 1, visitorId: 'v\u00e9"2' }], visitors: ['v\u00e9"2'], deciding: null, fingerprint: 13 });
      writes.restate(0, expired);
      const run = await commitAttributed(store, writes, 2, T0 + 9);
      const after = await store.attribution.outcomes('acme');
      assert.deepEqual(after.get(2), attributed);
      assert.deepEqual(after.get(3), { ...expired, outcome: 'attributed', reason: null, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0 + 1, visitorId: 'v\u00e9"2' }], detail: { visitors: ['v\u00e9"2'], deciding: null }, runId: run.id });
      assert.deepEqual([...(await store.attribution.fingerprints('acme')).prints], [11, 13]);
      assert.deepEqual((await store.attribution.attributedTo('acme', 'hero', 1)).variations, ['bold', 'bold']);
      const restated: unknown[] = [];
      await store.attribution.run('acme', run.id, (chunk) => restated.push(...chunk));
      assert.deepEqual(restated, [{ eventId: 3, before: changes[1]!.after, after: { outcome: 'attributed', reason: null, attributions: after.get(3)!.attributions } }]);
      assert.deepEqual(read.length, 2, 'the old run\'s restatement, kept as JSON, is read as it was');
      const kinds = (db2: Database.Database) => db2.prepare('SELECT typeof(data) FROM attribution_outcome_chunks').pluck().all();
      const peek = new Database(old, { readonly: true });
      try {
        assert.deepEqual(kinds(peek), ['blob'], 'the row rewritten as bytes');
      } finally {
        peek.close();
      }
    } finally {
      await store.close();
      removeTestDir(path.dirname(old));
      store = open(file);
    }
  });

  it('reads outcomes and restatements written as bytes before words (version 7) as they were, and rewrites a row with words when a run changes it', async () => {
    await store.close();
    const old = tempDbFile();
    const db = databaseAt(old, 7);
    db.prepare(`INSERT INTO attribution_runs (id, workspace_id, mode, until, started_at, finished_at, conversions_processed, attributed, not_attributed, changed, newly_attributed, unattributed)
      VALUES (7, 'acme', 'full', ?, ?, ?, 2, 1, 1, 2, 1, 0)`).run(T0 + 2, T0 + 3, T0 + 4);
    const hero = (variation: string, visitorId: string, viewedAt = T0) => [{ optimization: 'hero', variation, viewedAt, visitorId }];
    const values = [
      { eventId: 2, reason: null, goalId: 1, fingerprint: 11, attributions: hero('bold', 'v1'), visitors: ['v1'], deciding: null },
      { eventId: 3, reason: 'session_expired', goalId: 1, fingerprint: 12, attributions: [], visitors: ['v\u00e9"2'],
        deciding: { optimization: 'hero', variation: 'bold', viewedAt: T0 - 9e6, visitorId: 'v\u00e9"2', sessionStart: T0 - 9e6, sessionEnd: T0 - 7e6 } },
    ];
    const prints = Buffer.from(new Float64Array([2, 11, 3, 12]).buffer);
    db.prepare(`INSERT INTO attribution_outcome_chunks (workspace_id, first_event, last_event, n, prints, data) VALUES ('acme', 2, 3, 2, ?, ?)`).run(prints, legacyChunk(values, 7));
    db.prepare('INSERT INTO attribution_change_chunks (run_id, seq, data) VALUES (7, 0, ?)').run(legacyChanges(values.map((v) => ({ eventId: v.eventId, before: null, after: v }))));
    db.close();
    store = open(old);
    try {
      const storedAs = (v: (typeof values)[number], runId: number) => ({
        eventId: v.eventId, outcome: v.reason === null ? 'attributed' : 'not_attributed', reason: v.reason, goalId: v.goalId, attributions: v.attributions,
        detail: { visitors: v.visitors, deciding: v.deciding }, runId,
      });
      const side = (v: { reason: string | null; attributions: unknown[] }) => ({ outcome: v.reason === null ? 'attributed' : 'not_attributed', reason: v.reason, attributions: v.attributions });
      const all = await store.attribution.outcomes('acme');
      assert.deepEqual([all.get(2), all.get(3)], values.map((v) => storedAs(v, 7)));
      const restatementOf = async (id: number) => {
        const read: unknown[] = [];
        await store.attribution.run('acme', id, (chunk) => read.push(...chunk));
        return read;
      };
      const run7 = values.map((v) => ({ eventId: v.eventId, before: null, after: side(v) }));
      assert.deepEqual(await restatementOf(7), run7);
      assert.deepEqual(await store.attribution.attributedTo('acme', 'hero', 1), { eventIds: new Float64Array([2]), variations: ['bold'], visitorIds: ['v1'] });
      assert.deepEqual(await store.attribution.words('acme'), [], 'no words before a run of this build');

      // A run of this build changes outcome 3: the row is rewritten with words, outcome 2 reads as it did.
      const words = new WorkspaceWords(await store.attribution.words('acme'));
      const writes = new RunWrites(null, 16, words);
      const changed = { ...values[1]!, reason: null, attributions: hero('control', 'v\u00e9"2', T0 + 1), deciding: null, fingerprint: 13 };
      writes.add(changed);
      writes.restate(0, values[1]!);
      const run = await commitAttributed(store, writes, 2, T0 + 9);
      assert.deepEqual(await store.attribution.words('acme'), ['hero', 'control', 'session_expired'], 'the words the run named (its outcome, then what it was), in the order it named them');
      const after = await store.attribution.outcomes('acme');
      assert.deepEqual([after.get(2), after.get(3)], [storedAs(values[0]!, 7), storedAs(changed, run.id)]);
      assert.deepEqual(await restatementOf(7), run7, 'the old run\'s restatement reads as it did');
      assert.deepEqual(await restatementOf(run.id), [{ eventId: 3, before: side(values[1]!), after: side(changed) }]);
      assert.deepEqual((await store.attribution.attributedTo('acme', 'hero', 1)).variations, ['bold', 'control']);
      const peek = new Database(old, { readonly: true });
      try {
        assert.deepEqual(peek.prepare('SELECT hex(substr(data, 1, 1)) FROM attribution_outcome_chunks').pluck().all(), ['03'], 'the row rewritten with words');
      } finally {
        peek.close();
      }
      // A run that started from fewer words than are stored now is refused, rather than let two strings share a number.
      const stale = new RunWrites(null, 16, new WorkspaceWords([]));
      stale.add({ ...changed, eventId: 4, attributions: hero('fresh', 'v4') });
      await assert.rejects(commitAttributed(store, stale, 3, T0 + 9),
      /started from 0 words of its outcomes, and 3 are stored now/);
      assert.equal(await store.attribution.outcome('acme', 4), null);
    } finally {
      await store.close();
      removeTestDir(path.dirname(old));
      store = open(file);
    }
  });

  it('keeps the fingerprints stored as JSON text (before version 6) exactly, as float64 pairs, after the upgrade', async () => {
    await store.close();
    const old = tempDbFile();
    const db = databaseAt(old, 5);
    const item = (id: number) => [id, 7, 1, 'no_view', [], [['v1'], null]];
    db.prepare(`INSERT INTO attribution_outcome_chunks (workspace_id, first_event, last_event, n, data, prints) VALUES ('acme', 2, 9, 2, ?, ?)`)
      .run(JSON.stringify([item(2), item(9)]), '[2,8100968559604781,9,0]');
    db.prepare(`INSERT INTO attribution_outcome_chunks (workspace_id, first_event, last_event, n, data, prints) VALUES ('acme', 12, 12, 1, ?, ?)`)
      .run(JSON.stringify([item(12)]), '[12,4503599627370497]');
    db.close();
    store = open(old);
    try {
      const { ids, prints } = await store.attribution.fingerprints('acme');
      assert.deepEqual([...ids], [2, 9, 12]);
      assert.deepEqual([...prints], [8100968559604781, 0, 4503599627370497], 'every 53-bit fingerprint kept to the last bit');
      assert.deepEqual(store.db.prepare('SELECT DISTINCT typeof(prints) FROM attribution_outcome_chunks').pluck().all(), ['blob']);
    } finally {
      await store.close();
      removeTestDir(path.dirname(old));
      store = open(file);
    }
  });

  it('writes many concurrent appends in one commit', async () => {
    await store.close();
    const commits: number[] = [];
    store = open(file, { onCommit: (rows) => commits.push(rows) });
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => store.events.append(conversion(`k${i}`))));
    assert.deepEqual(commits, [100]);
    assert.equal(new Set(outcomes.map(([o]) => o!.event.id)).size, 100);
    assert.equal(count('SELECT count(*) FROM events'), 100);
  });

  it('rejects every job of a failed commit with store_unavailable and stores none of them', async () => {
    // A trigger (in the schema, so the writer's connection has it too) makes the second job's
    // insert fail inside the transaction the three jobs share.
    store.db.exec(`CREATE TRIGGER fail_poison BEFORE INSERT ON events WHEN NEW.name = 'poison'
      BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END`);
    const jobs = [
      store.events.append({ ...conversion('a'), rejections: [{ workspaceId: 'acme', receivedAt: T0, dialect: 'native', route: { url: '/v1/events', params: {} }, index: null, code: 'invalid_json', message: 'bad', field: null, raw: '{' }] }),
      store.events.append(conversion('b', { name: 'poison' })),
      store.events.append(conversion('c')),
    ];
    const settled = await Promise.allSettled(jobs);
    assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected', 'rejected']);
    for (const s of settled) assert.ok(s.status === 'rejected' && storeUnavailable(s.reason), String((s as PromiseRejectedResult).reason));
    assert.equal(count('SELECT count(*) FROM events'), 0);
    assert.equal(count('SELECT count(*) FROM rejections'), 0);
    assert.equal(await store.events.monthlyCount('acme', T0), 0);

    store.db.exec('DROP TRIGGER fail_poison');
    const [retry] = await store.events.append(conversion('a'));
    assert.equal(retry!.status, 'stored', 'a retry after the failure is stored, not taken for a repeat');
  });

  it('refuses at once beyond the pending-commit limit instead of queueing', async () => {
    await store.close();
    store = open(file, { maxPending: 2 });
    const settled = await Promise.allSettled([1, 2, 3].map((i) => store.events.append(conversion(`p${i}`))));
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.ok(storeUnavailable((settled[2] as PromiseRejectedResult).reason));
    assert.equal(count('SELECT count(*) FROM events'), 2);
  });
});

describe('SQLite store: id filters of large segments', () => {
  let file: string;
  let store: SqliteStore;
  const view = (i: number): CanonicalEvent => ({
    workspaceId: 'acme', type: 'view', name: null, occurredAt: T0 + i, receivedAt: T0, idempotencyKey: null, visitorId: `v${i}`, sessionId: `s${i}`,
    userDomain: null, userId: null, optimization: 'hero', variation: 'bold', value: null, currency: null, properties: null, userData: null, context: null, source: 'native',
  });
  /** How many chunks a read for `ids` visits (every chunk without). */
  const chunksRead = async (ids?: string[]) => {
    let chunks = 0;
    await store.attribution.readColumns('acme', T0, () => { chunks++; }, 0, ids === undefined ? undefined : { ids });
    return chunks;
  };
  beforeEach(async () => {
    file = tempDbFile();
    store = open(file);
    await store.workspaces.create({ id: 'acme', name: 'Acme', settings: {}, createdAt: T0 });
    // 140,000 events: two merged segments of 65,536 (filtered), the rest in small ones (read whole).
    for (let g = 0; g < 140; g++) await store.events.append({ events: Array.from({ length: 1000 }, (_, k) => view(g * 1000 + k)), rejections: [] });
    await store.attribution.compactColumns('acme');
  });
  afterEach(async () => {
    await store.close();
    removeTestDir(path.dirname(file));
  });

  it('skips the large segments that hold none of the ids wanted, and reads those that do', async () => {
    const all = await chunksRead();
    assert.equal(count('SELECT count(*) FROM event_segment_ids'), 2);
    assert.equal(await chunksRead(['nobody']), all - 2, 'both filtered segments skipped');
    assert.equal(await chunksRead(['v70000']), all - 1, 'the one holding v70000 read');
    assert.equal(await chunksRead(['s5', 'v70000']), all, 'one id per segment: both read');
  });

  it('lists a visitor\'s events (admin events filter) from the segments that may hold them, in large and small segments alike', async () => {
    for (const v of [5, 70_000, 139_999]) {
      const found = await store.events.list('acme', { visitorId: `v${v}`, limit: 10 });
      assert.deepEqual(found.map((e) => [e.visitorId, e.sessionId, e.occurredAt]), [[`v${v}`, `s${v}`, T0 + v]]);
    }
    assert.deepEqual(await store.events.list('acme', { visitorId: 'nobody', limit: 10 }), []);
  });

  it('gives the segments of a database from before id filters their filters at the next compaction (a run), reading them whole until then', async () => {
    await store.close();
    const db = new Database(file);
    db.exec('DROP TABLE event_segment_ids');
    db.prepare('DELETE FROM schema_migrations WHERE version = 7').run();
    db.close();
    store = open(file);
    const all = await chunksRead();
    assert.equal(await chunksRead(['nobody']), all, 'no filters yet: every segment read');
    assert.equal(await store.attribution.compactColumns('acme'), 0);
    assert.equal(await chunksRead(['nobody']), all - 2);
    assert.equal(count('SELECT count(*) FROM event_segment_ids WHERE segment_id NOT IN (SELECT id FROM event_segments)'), 0);
  });

  function count(sql: string): number {
    return store.db.prepare(sql).pluck().get() as number;
  }
});

describe('SQLite store: a large workspace read for attribution on a thread of its own', () => {
  let file: string;
  let store: SqliteStore;
  const view = (i: number): CanonicalEvent => ({
    workspaceId: 'acme', type: i % 7 === 0 ? 'identify' : 'view', name: null, occurredAt: T0 + i, receivedAt: i === 150 ? T0 + 60_000 : T0, idempotencyKey: null,
    visitorId: `v${i % 37}`, sessionId: `s${i % 11}`, userDomain: i % 7 === 0 ? 'crm' : null, userId: i % 7 === 0 ? `ü${i % 5}` : null,
    optimization: i % 7 === 0 ? null : 'hero', variation: i % 7 === 0 ? null : (i % 2 === 0 ? 'bold' : 'control'), value: null,
    currency: null, properties: null, userData: null, context: null, source: 'native',
  });
  beforeEach(async () => {
    file = tempDbFile();
    // Every workspace counts as large: the thread reads even these few hundred events.
    store = openSqliteStore({ file, commit: { maxWaitMs: 0, maxRows: 5000, maxPending: 100 }, quarantineMaxPerWorkspace: 100, now: T0, threadedReadFrom: 0 });
    await store.workspaces.create({ id: 'acme', name: 'Acme', settings: {}, createdAt: T0 });
    // Ten appends: ten segments, one of them holding an event received after the read's `until`.
    for (let g = 0; g < 10; g++) await store.events.append({ events: Array.from({ length: 30 }, (_, k) => view(g * 30 + k)), rejections: [] });
  });
  afterEach(async () => {
    await store.close();
    removeTestDir(path.dirname(file));
  });

  it('reads and numbers what this thread would (same chunks, same numbers, same interner), letting timers run meanwhile', async () => {
    const here = new Interner();
    const expected: { ids: number[]; numbers: number[] }[] = [];
    const plain = await store.attribution.readColumns('acme', T0, (c) => expected.push({ ids: [...c.id], numbers: [...numberIds(c, here)] }));
    const got: typeof expected = [];
    let ticks = 0;
    const ticking = setInterval(() => { ticks++; }, 0);
    let read;
    try {
      read = await store.attribution.readNumberedColumns('acme', T0, (c, numbers, total) => {
        assert.equal(total, 300);
        got.push({ ids: [...c.id], numbers: [...numbers] });
      });
    } finally {
      clearInterval(ticking);
    }
    assert.equal(got.length, 10);
    assert.deepEqual(got, expected);
    assert.deepEqual({ last: read.last, skipped: read.skipped }, plain);
    assert.equal(read.skipped, 1);
    assert.deepEqual(read.strings.parts().map((a) => [...a]), here.parts().map((a) => [...a]), 'the interner comes back whole');
    assert.equal(read.strings.find('ü3'), here.find('ü3'));
    assert.ok(ticks > 0, 'timers ran while the thread read');
  });

  it('sees the segments as they were when it began, while a compaction merges them', async () => {
    const expected: number[] = [];
    await store.attribution.readColumns('acme', T0 + 60_000, (c) => expected.push(...c.id));
    const seen: number[] = [];
    let compacted: Promise<number> | null = null;
    await store.attribution.readNumberedColumns('acme', T0 + 60_000, (c) => {
      seen.push(...c.id);
      compacted ??= store.attribution.compactColumns('acme');
    });
    assert.equal(await compacted, 10);
    assert.deepEqual(seen, expected);
  });

  it('stops the thread and fails with the visitor\'s error when a visit throws; the next read is whole', async () => {
    let visits = 0;
    await assert.rejects(store.attribution.readNumberedColumns('acme', T0, () => {
      if (++visits === 2) throw new Error('the index is full');
    }), /the index is full/);
    assert.equal(visits, 2, 'no chunk is visited after the failure');
    let events = 0;
    await store.attribution.readNumberedColumns('acme', T0, (c) => { events += c.n; });
    assert.equal(events, 299);
  });

  it('fails with the thread\'s error when a segment cannot be read, and stops the thread', async () => {
    const gone = openSqliteStore({ file: path.join(path.dirname(file), 'other.db'), commit: { maxWaitMs: 0, maxRows: 10, maxPending: 10 }, quarantineMaxPerWorkspace: 10, now: T0, threadedReadFrom: 0 });
    try {
      await gone.workspaces.create({ id: 'acme', name: 'Acme', settings: {}, createdAt: T0 });
      await gone.events.append({ events: [view(1)], rejections: [] });
      gone.db.prepare('UPDATE event_segments SET data = ?').run(Buffer.alloc(16));
      await assert.rejects(gone.attribution.readNumberedColumns('acme', T0, () => assert.fail('nothing to visit')),
        /Reading the events of workspace "acme" failed: Event segment version 0 is not known to this build/);
    } finally {
      await gone.close();
    }
  });
});
