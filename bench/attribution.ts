/**
 * Attribution at scale: generates views, identities and conversions into a fresh SQLite store,
 * runs a full attribution in a separate process, and prints wall time, events/s and that
 * process's peak RSS. In the same run it times the plain last-touch join (the latest view at or
 * before each conversion, per visitor) done by SQLite with an index, as the baseline, and prints
 * our time as a ratio to it — although we do more (sessions, identity, goal history, reasons).
 *
 *   npm run bench:attribution                 # 1M views, ~100k visitors, 100k conversions
 *   npm run bench:attribution -- --full       # 10M views, ~1M visitors, 1M conversions (issue 3's target)
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/index.js';
import { ManualClock } from '../src/core/index.js';
import { AttributionRunner } from '../src/attribution/index.js';
import { openStore } from '../src/store/index.js';
import { EventWriter } from '../src/store/sqlite/event-writer.js';
import type { CanonicalEvent, DialectName, EventType } from '../src/core/index.js';

const full = process.argv.includes('--full');
const VIEWS = full ? 10_000_000 : 1_000_000;
const VISITORS = VIEWS / 10;
const CONVERSIONS = VISITORS;
const T0 = Date.UTC(2026, 0, 1);
const WS = 'bench';
/** Events per write transaction, as the group commit writes them under load. */
const GROUP = 1_000;

/** A small deterministic PRNG (mulberry32), so every run generates the same history. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function generate(dataDir: string): Promise<number> {
  const config = loadConfig({}, {}, { dataDir, logLevel: 'silent' });
  const clock = new ManualClock(T0);
  const store = await openStore(config, clock);
  const { AdminService } = await import('../src/admin/index.js');
  const admin = new AdminService(store, clock);
  await admin.createWorkspace({ id: WS });
  await admin.createGoal(WS, { apiName: 'signup' });
  await admin.createOptimization(WS, { key: 'hero', variations: [{ key: 'control' }, { key: 'bold' }], goals: ['signup'] });
  await store.close();
  const db = new Database(path.join(dataDir, 'closeloop.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // generation only: the measured run reads, it does not write much
  // The writer's own statements (events and their columnar segments), one transaction per group
  // of GROUP events as the group commit writes them under load.
  const writer = new EventWriter(db, 0);
  let pending: CanonicalEvent[] = [];
  const flush = () => {
    db.transaction(() => {
      writer.write({ events: pending, rejections: [] });
      writer.finishGroup();
    })();
    pending = [];
  };
  const ins = (type: EventType, name: string | null, occurredAt: number, receivedAt: number, idempotencyKey: string | null, visitorId: string | null,
    sessionId: string | null, userDomain: string | null, userId: string | null, optimization: string | null, variation: string | null,
    value: number | null, source: DialectName) => {
    pending.push({
      workspaceId: WS, type, name, occurredAt, receivedAt, idempotencyKey, visitorId, sessionId, userDomain, userId, optimization, variation, value,
      currency: null, properties: null, userData: null, context: null, source,
    });
    if (pending.length >= GROUP) flush();
  };
  const rand = rng(42);
  const started = performance.now();
  let rows = 0;
  const batch = 20_000;
  for (let v0 = 0; v0 < VISITORS; v0 += batch) {
    {
      for (let v = v0; v < Math.min(VISITORS, v0 + batch); v++) {
        const visitor = `v${v}`;
        let t = T0 + Math.floor(rand() * 6 * 86_400_000);
        const variation = rand() < 0.5 ? 'control' : 'bold';
        const views = 10;
        for (let i = 0; i < views; i++) {
          // Mostly a few minutes apart, sometimes a gap that ends the session.
          t += rand() < 0.15 ? 31 * 60_000 + Math.floor(rand() * 3_600_000) : Math.floor(rand() * 10 * 60_000);
          ins('view', null, t, t, null, visitor, `s${v}`, null, null, 'hero', variation, null, 'native');
          rows++;
          if (i === 0) {
            ins('identify', null, t, t, null, visitor, `s${v}`, 'crm', `u${v}`, null, null, null, 'native');
            rows++;
          }
        }
        const tc = t + Math.floor(rand() * 45 * 60_000);
        ins('conversion', 'signup', tc, tc + 60_000, `order-${v}`, null, null, 'crm', `u${v}`, null, null, Math.round(rand() * 20000) / 100, 'optimize');
        rows++;
      }
    }
  }
  if (pending.length > 0) flush();
  db.close();
  console.log(`generated ${rows.toLocaleString('en-US')} events (${VIEWS.toLocaleString('en-US')} views, ${VISITORS.toLocaleString('en-US')} visitors and identities, ${CONVERSIONS.toLocaleString('en-US')} conversions) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return rows;
}

/** The baseline: for each conversion, the latest view at or before it by one of its user's visitors, via indexes. */
function sqliteLastTouch(dataDir: string): { ms: number; attributed: number } {
  const db = new Database(path.join(dataDir, 'closeloop.db'));
  db.exec(`CREATE TEMP TABLE v AS SELECT visitor_id, occurred_at, variation FROM events WHERE workspace_id = '${WS}' AND type = 'view';
    CREATE INDEX temp.v_idx ON v(visitor_id, occurred_at);
    CREATE TEMP TABLE i AS SELECT DISTINCT user_domain, user_id, visitor_id FROM events WHERE workspace_id = '${WS}' AND type = 'identify';
    CREATE INDEX temp.i_idx ON i(user_domain, user_id);`);
  const started = performance.now();
  const attributed = db.prepare(`SELECT count(*) FROM events c JOIN i ON i.user_domain = c.user_domain AND i.user_id = c.user_id
    WHERE c.workspace_id = '${WS}' AND c.type = 'conversion'
      AND (SELECT variation FROM v WHERE v.visitor_id = i.visitor_id AND v.occurred_at <= c.occurred_at ORDER BY v.occurred_at DESC LIMIT 1) IS NOT NULL`).pluck().get() as number;
  const ms = performance.now() - started;
  db.close();
  return { ms, attributed };
}

async function child(dataDir: string): Promise<void> {
  const config = loadConfig({}, {}, { dataDir, logLevel: 'silent' });
  const clock = new ManualClock(T0 + 8 * 86_400_000);
  const store = await openStore(config, clock);
  const started = performance.now();
  const summary = await new AttributionRunner(store, clock).run(WS);
  const ms = performance.now() - started;
  await store.close();
  process.send!({ ms, summary, maxRssKb: process.resourceUsage().maxRSS });
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3]!);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-bench-attr-test-'));
  console.log(`closeloop attribution benchmark — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, node ${process.version}${full ? '' : ' (1/10 scale; --full for 10M views)'}`);
  const rows = await generate(dataDir);
  const result = await new Promise<{ ms: number; summary: { conversionsProcessed: number; attributed: number }; maxRssKb: number }>((resolve, reject) => {
    const c = fork(new URL(import.meta.url).pathname, ['child', dataDir], { execArgv: process.execArgv });
    c.once('message', (m) => resolve(m as never));
    c.once('exit', (code) => { if (code !== 0) reject(new Error(`attribution child exited with ${code}`)); });
  });
  const base = sqliteLastTouch(dataDir);
  if (process.argv.includes('--keep')) console.log(`data kept in ${dataDir}`);
  else fs.rmSync(dataDir, { recursive: true, force: true });
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`\nfull attribution run: ${s(result.ms)}, ${Math.round(rows / (result.ms / 1000)).toLocaleString('en-US')} events/s, peak RSS ${(result.maxRssKb / 1024).toFixed(0)} MB; ${result.summary.conversionsProcessed.toLocaleString('en-US')} conversions, ${result.summary.attributed.toLocaleString('en-US')} attributed`);
  console.log(`baseline, SQLite indexed last-touch join: ${s(base.ms)} (${base.attributed.toLocaleString('en-US')} conversions with a view before them; index build not timed)`);
  console.log(`ratio: ${(result.ms / base.ms).toFixed(2)} × the baseline (target ≤ 1.5)${full ? `; target ≤ 10 s and ≤ 1.5 GB: ${result.ms <= 10_000 && result.maxRssKb <= 1.5 * 1024 * 1024 ? 'met' : 'MISSED'}` : ''}`);
}

await main();
