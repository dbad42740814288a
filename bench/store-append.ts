/**
 * Raw append rate of the store, against a baseline measured in the same run, and what the
 * events table's indexes cost.
 *
 * - store: `store.events.append` of the real SQLite store (writer thread, group commit,
 *   synchronous=FULL, event segments), appends of 100 events with 10 in flight, as concurrent
 *   requests make them;
 * - baseline: the same rows inserted with plain better-sqlite3 into a table with the same
 *   columns and no index, in transactions of 1,000, with the same pragmas (WAL, synchronous=FULL);
 * - schema: the writer's INSERT on the events table as shipped, with and without idempotency keys,
 *   and with a per-visitor index added — the measurement behind the single (workspace_id, id)
 *   index in src/store/sqlite/migrations.ts.
 *
 * Both row shapes are measured: conversions that carry an idempotency key (each pays the partial
 * unique index) and variation views that carry none. Each measurement runs in a process of its
 * own, so its peak RSS is its own.
 *
 *   npm run bench:store [-- --rows=500000] [--quick] [--json] [--data-dir=dir]
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { CanonicalEvent } from '../src/core/index.js';
import { bytes, fmt, textTable, times } from './lib/format.js';
import { describeMachine, fsType, machine } from './lib/machine.js';
import { peakRss } from './lib/rss.js';

const { values: argv } = parseArgs({
  options: { rows: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' }, child: { type: 'string' }, 'data-dir': { type: 'string' } },
});
const ROWS = argv.rows !== undefined ? Number(argv.rows) : argv.quick === true ? 50_000 : 500_000;
if (!Number.isInteger(ROWS) || ROWS < 1000) throw new Error(`--rows must be a whole number ≥ 1000, got "${argv.rows}"`);
/** Rows per transaction of the baseline and the schema runs (and about the store's commit groups). */
const TX = 1000;
/** Events per store.events.append call, and calls in flight. */
const APPEND = 100;
const IN_FLIGHT = 10;
const WS = 'bench';
const T0 = Date.UTC(2026, 0, 1);

type Shape = 'keyed' | 'views';
const SHAPES: Record<Shape, string> = { keyed: 'conversions, each with an idempotency key', views: 'variation views, no key' };
const MEASUREMENTS = ['baseline-keyed', 'store-keyed', 'baseline-views', 'store-views', 'schema-views', 'schema-keyed', 'schema-visitor-index'] as const;
type Measurement = (typeof MEASUREMENTS)[number];

/** Row `j` of a shape, the same for every measurement. */
function row(j: number, shape: Shape): CanonicalEvent {
  const visitorId = `v${(j * 2654435761) % 1_000_003}`;
  const base = {
    workspaceId: WS, occurredAt: T0 + j, receivedAt: T0 + j, visitorId, userDomain: null, userId: null,
    properties: null, userData: null, context: null, source: 'native' as const,
  };
  return shape === 'keyed'
    ? { ...base, type: 'conversion', name: 'signup', idempotencyKey: `order-${(j * 40503) % 99991}-${j}`, sessionId: null, optimization: null, variation: null, value: 49.9, currency: 'EUR' }
    : { ...base, type: 'view', name: null, idempotencyKey: null, sessionId: `s${visitorId}`, optimization: 'hero', variation: j % 2 === 0 ? 'control' : 'bold', value: null, currency: null };
}

const COLUMNS = `workspace_id, type, name, occurred_at, received_at, idempotency_key, visitor_id, session_id, user_domain, user_id,
  optimization, variation, value, currency, properties, user_data, context, source`;
const values = (e: CanonicalEvent) => [e.workspaceId, e.type, e.name, e.occurredAt, e.receivedAt, e.idempotencyKey, e.visitorId, e.sessionId,
  e.userDomain, e.userId, e.optimization, e.variation, e.value, e.currency, null, null, null, e.source];

function tempDir(): string {
  return fs.mkdtempSync(path.join(argv['data-dir'] ?? os.tmpdir(), 'closeloop-bench-store-test-'));
}

/** Plain better-sqlite3 INSERTs in transactions of TX, into `createSql`'s table. */
function inserts(shape: Shape, createSql: string, insertSql: string): number {
  const dir = tempDir();
  try {
    const db = new Database(path.join(dir, 'b.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('cache_size = -65536');
    db.exec(createSql);
    const ins = db.prepare(insertSql);
    const started = performance.now();
    for (let i = 0; i < ROWS; i += TX) {
      db.transaction(() => {
        for (let j = i; j < Math.min(i + TX, ROWS); j++) ins.run(...values(row(j, shape)));
      })();
    }
    const seconds = (performance.now() - started) / 1000;
    db.close();
    return seconds;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The real store: appends of APPEND events, IN_FLIGHT at a time, each awaited until durable. */
async function storeAppends(shape: Shape): Promise<{ seconds: number; commits: number }> {
  const dir = tempDir();
  try {
    // Imported here, so that the baseline's process does not load closeloop (its peak RSS is its own).
    const { loadConfig } = await import('../src/config/index.js');
    const { ManualClock } = await import('../src/core/index.js');
    const { openStore } = await import('../src/store/index.js');
    const config = loadConfig({}, {}, { dataDir: dir, logLevel: 'silent' });
    const clock = new ManualClock(T0);
    let commits = 0;
    const store = await openStore(config, clock, () => { commits++; });
    const { AdminService } = await import('../src/admin/index.js');
    await new AdminService(store, clock).createWorkspace({ id: WS });
    // The writer thread starts with the first append: start it before the clock does.
    await store.events.append({ events: [{ ...row(-1, 'views'), idempotencyKey: null }], rejections: [] });
    commits = 0;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < ROWS) {
        const from = next;
        next = Math.min(next + APPEND, ROWS);
        const events: CanonicalEvent[] = [];
        for (let j = from; j < next; j++) events.push(row(j, shape));
        const outcomes = await store.events.append({ events, rejections: [] });
        if (outcomes.some((o) => o.status !== 'stored')) throw new Error('the store did not store a new event');
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    return { seconds, commits };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The schema as shipped: every migration's SQL. */
async function shipped(): Promise<string> {
  const { MIGRATIONS } = await import('../src/store/index.js');
  return MIGRATIONS.map((m) => m.sql).join('\n');
}
/** The writer's INSERT (src/store/sqlite/event-writer.ts). */
const WRITER_INSERT = `INSERT INTO events (${COLUMNS}) VALUES (${Array(18).fill('?').join(', ')})
  ON CONFLICT (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;

interface Result { name: Measurement; rows: number; seconds: number; rowsPerSec: number; rowsPerCommit: number | null; peakRss: number | null }

async function measure(name: Measurement): Promise<Result> {
  let seconds: number;
  let commits: number | null = null;
  switch (name) {
    case 'baseline-keyed': case 'baseline-views':
      seconds = inserts(name === 'baseline-keyed' ? 'keyed' : 'views', `CREATE TABLE events (id INTEGER PRIMARY KEY, ${COLUMNS})`, `INSERT INTO events (${COLUMNS}) VALUES (${Array(18).fill('?').join(', ')})`);
      break;
    case 'store-keyed': case 'store-views':
      ({ seconds, commits } = await storeAppends(name === 'store-keyed' ? 'keyed' : 'views'));
      break;
    case 'schema-views': seconds = inserts('views', await shipped(), WRITER_INSERT); break;
    case 'schema-keyed': seconds = inserts('keyed', await shipped(), WRITER_INSERT); break;
    case 'schema-visitor-index': seconds = inserts('views', `${await shipped()}\nCREATE INDEX ev_visitor ON events(visitor_id, occurred_at);`, WRITER_INSERT); break;
  }
  return { name, rows: ROWS, seconds, rowsPerSec: ROWS / seconds, rowsPerCommit: commits === null || commits === 0 ? null : ROWS / commits, peakRss: peakRss() };
}

/** One measurement in a process of its own. */
function inChild(name: Measurement): Promise<Result> {
  return new Promise((resolve, reject) => {
    const args = [`--child=${name}`, `--rows=${ROWS}`, ...(argv['data-dir'] !== undefined ? [`--data-dir=${argv['data-dir']}`] : [])];
    const c = fork(fileURLToPath(import.meta.url), args);
    let result: Result | null = null;
    c.once('message', (m) => { result = m as Result; });
    c.once('exit', (code) => (code === 0 && result !== null ? resolve(result) : reject(new Error(`the ${name} measurement exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const out = argv.json === true ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);
  const m = machine();
  const probe = tempDir();
  out(`closeloop store append benchmark — ${describeMachine(m)}, load average ${m.loadavg.join(' ')}`);
  out(`${fmt(ROWS)} rows per measurement, synchronous=FULL, on ${fsType(probe)}; baseline and schema runs in transactions of ${fmt(TX)}; the store in appends of ${APPEND}, ${IN_FLIGHT} in flight; each in a process of its own\n`);
  fs.rmSync(probe, { recursive: true, force: true });
  const results: Result[] = [];
  for (const name of MEASUREMENTS) {
    const r = await inChild(name);
    results.push(r);
    out(`  ${name.padEnd(22)} ${fmt(r.rowsPerSec).padStart(10)} rows/s`);
  }
  const get = (name: Measurement) => results.find((r) => r.name === name)!;
  const label: Record<Measurement, string> = {
    'baseline-keyed': `baseline: plain INSERTs, no index — ${SHAPES.keyed}`,
    'store-keyed': `store.events.append — ${SHAPES.keyed}`,
    'baseline-views': `baseline: plain INSERTs, no index — ${SHAPES.views}`,
    'store-views': `store.events.append — ${SHAPES.views}`,
    'schema-views': `writer's INSERT, schema as shipped — ${SHAPES.views}`,
    'schema-keyed': `writer's INSERT, schema as shipped — ${SHAPES.keyed}`,
    'schema-visitor-index': `writer's INSERT, plus an index on (visitor_id, occurred_at) — ${SHAPES.views}`,
  };
  const versus = (r: Result): string => {
    if (r.name === 'store-keyed' || r.name === 'schema-keyed') return `${times(r.rowsPerSec / get('baseline-keyed').rowsPerSec)} baseline`;
    if (r.name.startsWith('baseline')) return 'baseline';
    return `${times(r.rowsPerSec / get('baseline-views').rowsPerSec)} baseline`;
  };
  out('');
  for (const line of textTable([
    ['measurement', 'rows/s', 'rows/commit', 'peak RSS', 'vs baseline'],
    ...results.map((r) => [label[r.name], fmt(r.rowsPerSec), fmt(r.rowsPerCommit ?? TX), bytes(r.peakRss), versus(r)]),
  ], [0, 4])) out(line);
  const sv = get('schema-views').rowsPerSec;
  out(`\nschema as shipped: with idempotency keys ${times(get('schema-keyed').rowsPerSec / sv)} the keyless rate; with a per-visitor index ${times(get('schema-visitor-index').rowsPerSec / sv)}`);
  out(`RESULT store.events.append ${fmt(get('store-keyed').rowsPerSec)} keyed rows/s (${times(get('store-keyed').rowsPerSec / get('baseline-keyed').rowsPerSec)} plain INSERTs), ${fmt(get('store-views').rowsPerSec)} view rows/s (${times(get('store-views').rowsPerSec / get('baseline-views').rowsPerSec)})`);
  if (argv.json === true) process.stdout.write(`${JSON.stringify({ machine: m, rows: ROWS, transaction: TX, append: APPEND, inFlight: IN_FLIGHT, results, benchPeakRss: peakRss() })}\n`);
}

if (argv.child !== undefined) {
  if (!(MEASUREMENTS as readonly string[]).includes(argv.child)) throw new Error(`--child takes ${MEASUREMENTS.join(', ')}`);
  process.send!(await measure(argv.child as Measurement));
} else {
  await main();
}
