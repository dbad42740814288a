/**
 * Attribution killed mid-run, again and again, then rerun: the outcomes are those of a clean run.
 *
 * One data set (views, identities across devices, sessions that expire or reach their maximum,
 * goals renamed or created late, conversions from the native and Optimize dialects and browser
 * custom events) is copied before any run. The copy gets one clean run. The original gets a run
 * over its first half (the "previous outcomes"), then runs over everything that are killed with
 * SIGKILL at different points — the server's run at a random moment, the CLI's while it loads,
 * while it judges, and as it commits — and after each kill the previous outcomes must be whole and
 * no run recorded. A last run then completes, and every outcome, every result per variation and
 * the run's counts must equal the clean run's.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteAttributionStore } from '../../src/store/sqlite/attribution.js';
import type { StoredOutcome } from '../../src/store/index.js';
import { adminRequest, BIN, type RealServer, removeTestDir, runCli, startRealServer } from '../helpers/server.js';
import { figure, sized } from './profile.js';

const TOKEN = 'cl_admin_reliability_attr_kill_test_0123456789';
const WS = 'attrkill';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The data spans [T0, T0 + 2 days); the goal "trial" is renamed half-way, "late" created at 1.5 days. */
const T0 = Date.UTC(2026, 0, 10, 12);
const T_GOALS = T0 - DAY;
const T_RENAME = T0 + DAY;
const T_LATE = T0 + 1.5 * DAY;
/** The first (complete) run of the original covers events received up to here: about half. */
const T_MID = T0 + DAY + HOUR;
/** HTTP ingestion happens at this server time, after the seeded data. */
const T_INGEST = T0 + 2 * DAY + 2 * HOUR;
const T_END = T_INGEST + HOUR;
/** Every run's server or CLI clock starts here. */
const T_RUN = T_END + 60_000;

/** Visitors in the data set: enough conversions for a run to last long enough to be killed in each phase. */
const VISITORS = sized(10_000, 40_000);
const KILLS = sized(2, 5);

async function cli(dataDir: string, now: number, args: string[]): Promise<void> {
  const r = await runCli([...args, '--workspace', WS, '--data', dataDir], { CLOSELOOP_NOW: String(now) });
  assert.equal(r.code, 0, `closeloop ${args.join(' ')}: ${r.stderr}`);
}

/**
 * Builds the data set in `dataDir`, copies it to `cleanDir` before any run, then runs attribution
 * over the first half in `dataDir`. The workspace and optimizations are made through the admin API
 * of the server that ingests; the goals, whose validity intervals must start at given instants,
 * with the CLI and its clock set there (goals created the day before the data, "trial" renamed
 * half-way, "late" created at 1.5 days, "orphan" in no optimization).
 */
async function prepare(dataDir: string, cleanDir: string): Promise<{ events: number; firstRun: RunSummary }> {
  const server = await startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: TOKEN, CLOSELOOP_NOW: String(T_INGEST) } });
  try {
    const call = async (method: string, url: string, body: unknown) => {
      const r = await admin(server, method, url, body);
      assert.ok(r.status < 300, `${method} ${url}: ${JSON.stringify(r.body)}`);
      return r.body as Record<string, unknown>;
    };
    await adminRequest(server, TOKEN, 'POST', '/workspaces', { id: WS, name: 'attribution kill' });
    const serverKey = (await call('POST', '/keys', { name: 'ingest', kind: 'server' })).key as string;
    // The CLI works beside the running server; independent commands run side by side (each is a process start).
    await Promise.all(['signup', 'purchase', 'trial', 'orphan'].map((goal) => cli(dataDir, T_GOALS, ['goals', 'create', goal])));
    await Promise.all([cli(dataDir, T_RENAME, ['goals', 'rename', 'trial', 'trial-started']), cli(dataDir, T_LATE, ['goals', 'create', 'late'])]);
    await call('POST', '/optimizations', { key: 'hero', name: 'Hero', variations: [{ key: 'control' }, { key: 'bold' }], goals: ['signup', 'purchase', 'trial-started'], primaryGoal: 'signup' });
    await call('POST', '/optimizations', { key: 'pricing', name: 'Pricing', variations: [{ key: 'control' }, { key: 'cheap', weight: 2 }, { key: 'premium' }], goals: ['purchase', 'late'], primaryGoal: 'purchase' });
    // Ingestion first, so the seeded events come after the last segment it wrote (the first run gives them theirs).
    const ingested = await ingest(server, serverKey);
    const seeded = seed(dataDir, path.join(cleanDir, 'closeloop.db'));
    const firstRun = await runVia(server, T_MID);
    return { events: ingested + seeded, firstRun };
  } finally {
    assert.equal(await server.stop(), 0);
  }
}

/**
 * Conversions and activity through the real ingestion pipeline: native batches (views, identify,
 * conversions of new visitors) and Optimize conversions of users of the seed, days after their sessions.
 */
async function ingest(server: RealServer, serverKey: string): Promise<number> {
  let sent = 0;
  const post = async (url: string, auth: string, body: unknown) => {
    const res = await fetch(`${server.url}${url}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, `${url}: ${await res.text()}`);
  };
  const at = T_INGEST - 30 * 60_000;
  for (let b = 0; b < 4; b++) {
    const events = [];
    for (let i = b * 40; i < (b + 1) * 40; i++) {
      const visitorId = `h${i}`;
      events.push(
        { type: 'view', visitorId, sessionId: `hs${i}`, optimization: 'hero', variation: i % 2 === 0 ? 'bold' : 'control', timestamp: at + i * 1000 },
        { type: 'view', visitorId, sessionId: `hs${i}`, optimization: 'pricing', variation: ['control', 'cheap', 'premium'][i % 3], timestamp: at + i * 1000 + 1 },
        { type: 'identify', visitorId, sessionId: `hs${i}`, userDomain: 'shop', userId: `hu${i}`, timestamp: at + i * 1000 + 2 },
        { type: 'conversion', name: i % 4 === 0 ? 'late' : 'purchase', userDomain: 'shop', userId: `hu${i}`, value: 10 + i, idempotencyKey: `native-${i}`, timestamp: at + i * 1000 + 60_000 },
      );
    }
    await post('/v1/events', `Bearer ${serverKey}`, { events });
    sent += events.length;
  }
  for (let i = 0; i < 60; i++) {
    // session_expired for the identified users, unknown_user for the others.
    await post('/event', `ApiKey ${serverKey}`, { customerId: WS, eventName: 'purchase', userDomain: 'crm', userId: `u${i * 97}`, actionId: `opt-${i}`, actionTimestamp: T_INGEST - 10 * 60_000, value: 5 });
    sent++;
  }
  return sent;
}

/**
 * Writes the bulk of the history straight into the store (ingestion is proven elsewhere; this needs
 * volume). Per visitor v, at T0 + v·gap: hero views (the latest decides), pricing views for most,
 * an identify (every 11th shares the previous visitor's user: cross-device) for most, a purchase by
 * user 5 min later, and for some: a signup by visitorId, one by session, one after the session
 * expired, one before any view, unknown goals, the renamed goal under both names, a goal in no
 * optimization, the late goal before and after its creation, and browser custom events.
 */
function seed(dataDir: string, copy?: string): number {
  const db = new Database(path.join(dataDir, 'closeloop.db'));
  db.pragma('busy_timeout = 5000');
  const ins = db.prepare(`INSERT INTO events (workspace_id, type, name, occurred_at, received_at, idempotency_key, visitor_id, session_id,
    user_domain, user_id, optimization, variation, value, source) VALUES ('${WS}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const gap = Math.floor((2 * DAY) / VISITORS);
  let events = 0;
  const add = (type: string, name: string | null, t: number, key: string | null, visitor: string | null, session: string | null,
    user: string | null, opt: string | null, variation: string | null, value: number | null, source: string) => {
    ins.run(type, name, t, t + 500, key, visitor, session, user === null ? null : 'crm', user, opt, variation, value, source);
    events++;
  };
  db.transaction(() => {
    for (let v = 0; v < VISITORS; v++) {
      const t = T0 + v * gap;
      const vid = `v${v}`;
      const sid = `s${v}`;
      const user = v % 11 === 0 && v > 0 ? `u${v - 1}` : `u${v}`;
      const conv = (name: string, dt: number, j: number, by: 'user' | 'visitor' | 'session', value: number | null = null) =>
        add('conversion', name, t + dt, `c-${v}-${j}`, by === 'visitor' ? vid : null, by === 'session' ? sid : null, by === 'user' ? user : null, null, null, value, v % 2 === 0 ? 'optimize' : 'native');
      add('pageview', null, t - 1000, null, vid, sid, null, null, null, null, 'collect');
      add('view', null, t, null, vid, sid, null, 'hero', v % 2 === 0 ? 'bold' : 'control', null, 'collect');
      add('view', null, t + 1000, null, vid, sid, null, 'hero', v % 5 === 0 ? 'control' : v % 2 === 0 ? 'bold' : 'control', null, 'collect');
      if (v % 4 !== 3) add('view', null, t + 2000, null, vid, sid, null, 'pricing', ['control', 'cheap', 'premium', 'cheap'][v % 4]!, null, 'collect');
      if (v % 6 !== 5) add('identify', null, t + 3000, null, vid, sid, user, null, null, null, 'collect');
      conv('purchase', 5 * 60_000, 0, 'user', 20 + (v % 50));
      if (v % 3 === 0) conv('signup', 2 * 60_000, 1, 'visitor');
      if (v % 7 === 0) conv('signup', 3 * 60_000, 2, 'session');
      if (v % 13 === 0) conv('signup', 45 * 60_000, 3, 'visitor');
      if (v % 17 === 0) conv('signup', -10_000, 4, 'visitor');
      if (v % 19 === 0) conv('nosuchgoal', 60_000, 5, 'visitor');
      if (v % 23 === 0) conv(v % 2 === 0 ? 'trial' : 'trial-started', 60_000, 6, 'visitor');
      if (v % 29 === 0) conv('orphan', 60_000, 7, 'visitor');
      if (v % 31 === 0) conv('late', 4 * 60_000, 8, 'user', 99);
      if (v % 37 === 0) add('custom', 'signup', t + 90_000, null, vid, sid, null, null, null, null, 'collect');
      if (v % 41 === 0) add('custom', 'newsletter', t + 90_000, null, vid, sid, null, null, null, null, 'collect');
      if (v % 997 === 0) {
        // Activity every 20 minutes for 25 hours: the session reaches its 24-hour maximum.
        for (let k = 1; k <= 75; k++) add('pageview', null, t + k * 20 * 60_000, null, vid, sid, null, null, null, null, 'collect');
        conv('signup', 75 * 20 * 60_000 + 1000, 9, 'visitor');
      }
    }
  })();
  if (copy !== undefined) {
    // The copy for the clean run: a consistent snapshot of the whole database, taken before any run.
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    db.prepare('VACUUM INTO ?').run(copy);
  }
  db.close();
  return events;
}

/** What the store holds of attribution, read through a read-only connection (the process may be dead or alive). */
async function storedState(dataDir: string): Promise<{ outcomes: Map<number, Omit<StoredOutcome, 'runId'>>; runs: number[] }> {
  const db = new Database(path.join(dataDir, 'closeloop.db'), { readonly: true, fileMustExist: true });
  try {
    const store = new SqliteAttributionStore(db);
    const outcomes = new Map([...await store.outcomes(WS)].map(([id, { runId: _, ...o }]) => [id, o] as const));
    return { outcomes, runs: (await store.runs(WS, 1000)).map((r) => r.id).sort((a, b) => a - b) };
  } finally {
    db.close();
  }
}

function integrity(dataDir: string): string[] {
  const db = new Database(path.join(dataDir, 'closeloop.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  } finally {
    db.close();
  }
}

/** The outcomes that differ between two states, at most a few, for the assertion message. */
function differences(a: Map<number, unknown>, b: Map<number, unknown>): string[] {
  const out: string[] = [];
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const x = JSON.stringify(a.get(id) ?? null);
    const y = JSON.stringify(b.get(id) ?? null);
    if (x !== y) out.push(`event ${id}: ${x} vs ${y}`);
    if (out.length === 5) break;
  }
  return out;
}

const startServer = (dataDir: string) => startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: TOKEN, CLOSELOOP_NOW: String(T_RUN) } });

async function admin(server: RealServer, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/admin/v1/workspaces/${WS}${url}`, {
    method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

interface RunSummary { runId: number; conversionsProcessed: number; attributed: number; notAttributed: number; changed: number; durationMs: number }

async function runVia(server: RealServer, until: number): Promise<RunSummary> {
  const r = await admin(server, 'POST', '/attribution/run', { until });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as RunSummary;
}

const RESULTS = [['hero', 'signup'], ['hero', 'purchase'], ['hero', 'trial-started'], ['pricing', 'purchase'], ['pricing', 'late']] as const;

/** Per-variation results of every optimization × goal, without the instant they were computed. */
async function results(server: RealServer): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [o, g] of RESULTS) {
    const r = await admin(server, 'GET', `/optimizations/${o}/results?goal=${g}&from=${T0 - DAY}&to=${T_END}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { computedAt: _, ...rest } = r.body as Record<string, unknown>;
    out.push(rest);
  }
  return out;
}

/** GET …/conversions/{key} for these keys: outcome, attributions, reason and explanation. */
async function answers(server: RealServer, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < keys.length) {
      const k = keys[next++]!;
      const r = await admin(server, 'GET', `/conversions/${k}`);
      assert.equal(r.status, 200, `${k}: ${JSON.stringify(r.body)}`);
      out.set(k, JSON.stringify([r.body.outcome, r.body.attributions, r.body.reason, r.body.explanation, r.body.conversion.id]));
    }
  }));
  return out;
}

type Point = 'server' | 'loading' | 'judging' | 'commit';
/** The kill points, in the order they are used: the CI profile takes the first two. */
const PLAN: Point[] = ['judging', 'server', 'loading', 'commit', 'server'];

/**
 * Runs `closeloop attribute` and SIGKILLs it at `point`: once it holds the run lease (loading the
 * events), at a progress line half-way through judging, or at the last one (just before its commit).
 * Resolves to where it was when killed, or null when it finished first.
 */
async function killCliRun(dataDir: string, point: Exclude<Point, 'server'>, rnd: () => number): Promise<string | null> {
  const child = spawn(process.execPath, [BIN, 'attribute', '--workspace', WS, '--until', String(T_END), '--data', dataDir, '--json'], {
    env: { ...process.env, CLOSELOOP_NOW: String(T_RUN) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let lastProgress = 'loading';
  let killedAt: string | null = null;
  const kill = () => {
    if (killedAt !== null || child.exitCode !== null) return;
    killedAt = lastProgress;
    child.kill('SIGKILL');
  };
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const m of stderr.matchAll(/: (\d+)\/(\d+) conversions/g)) {
      const [done, total] = [Number(m[1]), Number(m[2])];
      lastProgress = done === total ? 'commit' : `judging ${done}/${total}`;
      if ((point === 'judging' && done > 0 && done < total) || (point === 'commit' && done === total)) kill();
    }
  });
  child.stdout.resume();
  if (point === 'loading') {
    // The lease row appears when the run starts; kill a moment later, while it compacts and loads.
    const db = new Database(path.join(dataDir, 'closeloop.db'), { readonly: true, fileMustExist: true });
    try {
      const lease = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
      while (child.exitCode === null && killedAt === null) {
        if (lease.get(`attribution_lease:${WS}`) !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, rnd() * 100));
          kill();
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      db.close();
    }
  }
  const code = await exited;
  if (killedAt === null) assert.equal(code, 0, `closeloop attribute exited with ${code}: ${stderr}`);
  return killedAt;
}

/** POSTs a run to a fresh server on `dataDir` and SIGKILLs the process after `delayMs`; resolves to null when the run answered first. */
async function killServerRun(dataDir: string, delayMs: number): Promise<string | null> {
  const server = await startServer(dataDir);
  try {
    let answered = false;
    const run = admin(server, 'POST', '/attribution/run', { until: T_END }).then(() => { answered = true; }, () => {});
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    await server.kill();
    await run;
    return answered ? null : `server after ${Math.round(delayMs)} ms`;
  } finally {
    await server.kill();
  }
}

/** A small PRNG, seeded so a failing sequence of kill moments can be told apart. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('attribution killed mid-run, then rerun (real processes)', () => {
  it(`keeps the previous outcomes whole through ${KILLS} kills, and the rerun equals a clean run on a copy`, async () => {
    const seedValue = Number(process.env.CLOSELOOP_RELIABILITY_SEED ?? Date.now() % 1_000_000);
    const rnd = prng(seedValue);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-rel-attr-kill-test-'));
    const cleanDir = `${dataDir}-clean`;
    try {
      const { events, firstRun } = await prepare(dataDir, cleanDir);

      // The clean run, on the copy.
      const clean = await startServer(cleanDir);
      let cleanRun: RunSummary;
      let cleanResults: unknown[];
      let keys: string[];
      let cleanAnswers: Map<string, string>;
      try {
        cleanRun = await runVia(clean, T_END);
        cleanResults = await results(clean);
        // The answers through the API, for a sample of the conversions (all of them are compared in the store below).
        // Visitor 0 has a conversion of every kind; the purchases are spread over every outcome chunk.
        const step = Math.floor(VISITORS / sized(40, 600));
        keys = [...new Set([...Array.from({ length: 10 }, (_, j) => `c-0-${j}`), ...Array.from({ length: Math.ceil(VISITORS / step) }, (_, i) => `c-${i * step}-0`),
          ...Array.from({ length: sized(10, 160) }, (_, i) => `native-${i}`), ...Array.from({ length: sized(10, 60) }, (_, i) => `opt-${i}`)])];
        cleanAnswers = await answers(clean, keys);
      } finally {
        await clean.stop();
      }
      const cleanState = await storedState(cleanDir);
      const reasons = new Set([...cleanState.outcomes.values()].map((o) => o.reason ?? 'attributed'));
      assert.deepEqual([...reasons].sort(), ['attributed', 'goal_not_created_yet', 'goal_not_in_any_optimization', 'goal_renamed', 'no_view_before_conversion',
        'session_expired', 'session_max_duration', 'unknown_goal', 'unknown_user'], 'the data set reaches every outcome');

      // The original had a complete run over the first half: the outcomes the killed runs must leave whole.
      assert.ok(firstRun.conversionsProcessed > 0 && firstRun.conversionsProcessed < cleanRun.conversionsProcessed);
      let committed = await storedState(dataDir);
      assert.equal(committed.runs.length, 1);

      const killedAt: string[] = [];
      let finishedFirst = 0;
      for (let attempt = 0; killedAt.length < KILLS; attempt++) {
        assert.ok(attempt < KILLS + 4, `only ${killedAt.length} of ${attempt} runs were killed before they finished (${killedAt.join(', ')}): seed more data (seed ${seedValue})`);
        const point = PLAN[attempt % PLAN.length]!;
        const at = point === 'server'
          ? await killServerRun(dataDir, (0.1 + 0.6 * rnd()) * cleanRun.durationMs)
          : await killCliRun(dataDir, point, rnd);
        const state = await storedState(dataDir);
        if (at === null || state.runs.length > committed.runs.length) {
          // The run finished (or committed just before the kill): its outcomes are the ones to keep from now on.
          finishedFirst++;
          committed = state;
          continue;
        }
        killedAt.push(at);
        assert.deepEqual(state.runs, committed.runs, `a run killed at ${at} is not recorded (seed ${seedValue})`);
        assert.deepEqual(differences(state.outcomes, committed.outcomes), [], `a run killed at ${at} leaves the previous outcomes whole (seed ${seedValue})`);
        assert.deepEqual(integrity(dataDir), ['ok'], `integrity after the kill at ${at}`);
      }

      const rerun = await startServer(dataDir);
      let final: RunSummary;
      try {
        final = await runVia(rerun, T_END);
        assert.deepEqual(await results(rerun), cleanResults, 'results per variation equal the clean run\'s');
        const got = await answers(rerun, keys);
        assert.deepEqual([...keys].filter((k) => got.get(k) !== cleanAnswers.get(k)).map((k) => `${k}: ${got.get(k)} vs ${cleanAnswers.get(k)}`), [],
          'GET …/conversions/{key} answers as after the clean run');
      } finally {
        await rerun.stop();
      }
      assert.deepEqual([final.conversionsProcessed, final.attributed, final.notAttributed], [cleanRun.conversionsProcessed, cleanRun.attributed, cleanRun.notAttributed]);
      const finalState = await storedState(dataDir);
      assert.equal(finalState.outcomes.size, cleanState.outcomes.size);
      assert.deepEqual(differences(finalState.outcomes, cleanState.outcomes), [], 'every outcome equals the clean run\'s');
      // Its restatement is measured against the last committed outcomes, as if the killed runs never happened.
      const counted = (o: Omit<StoredOutcome, 'runId'> | undefined) => (o === undefined ? null : JSON.stringify([o.outcome, o.reason, o.attributions]));
      const restated = [...new Set([...committed.outcomes.keys(), ...finalState.outcomes.keys()])]
        .filter((id) => counted(committed.outcomes.get(id)) !== counted(finalState.outcomes.get(id))).length;
      assert.equal(final.changed, restated, 'the rerun restates what changed since the last committed run');
      assert.deepEqual(integrity(dataDir), ['ok']);

      figure('attribution kill', `killed × ${killedAt.length} mid-run (${killedAt.join('; ')})${finishedFirst > 0 ? `, ${finishedFirst} finished before the kill` : ''}, `
        + `${events} events, ${cleanRun.conversionsProcessed} conversions (clean run ${cleanRun.durationMs} ms): rerun = clean run, `
        + `${finalState.outcomes.size} outcomes and ${RESULTS.length} result tables identical, ${keys.length} API answers identical`);
    } finally {
      removeTestDir(dataDir);
      removeTestDir(cleanDir);
    }
  });
});

/** Whether this machine lets the test start a process in its own PID namespace (Linux, root): where the server is PID 1, as in a container. */
function pidNamespaces(): boolean {
  try {
    return execFileSync('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', 'echo $$'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === '1';
  } catch {
    return false;
  }
}

/** The real server as PID 1 of its own PID namespace, the way a container runs it; SIGKILL to unshare kills it. */
async function startAsPid1(dataDir: string): Promise<{ url: string; kill: () => Promise<void> }> {
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', process.execPath, BIN, 'serve', '--port', '0', '--data', dataDir], {
    env: { ...process.env, CLOSELOOP_ADMIN_TOKEN: TOKEN, CLOSELOOP_NOW: String(T_RUN), CLOSELOOP_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr.resume();
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /closeloop listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${out}`)));
  });
  return { url, kill: async () => { child.kill('SIGKILL'); await exited; } };
}

describe('an attribution run killed in a container, rerun after the restart (real process as PID 1)', () => {
  const available = pidNamespaces();
  it('is not refused as "already in progress" because the new process has the dead run\'s pid', {
    // A lease names its holder by pid and start time (src/core/process-identity.ts), as /proc of
    // the container (--mount-proc) shows them.
    skip: available ? false : 'needs unshare --pid (Linux, root) to run the server as PID 1',
  }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-rel-attr-pid1-test-'));
    try {
      let server = await startAsPid1(dataDir);
      await fetch(`${server.url}/admin/v1/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: WS }) });
      seed(dataDir);
      const run = fetch(`${server.url}/admin/v1/workspaces/${WS}/attribution/run`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.status, () => null);
      // Killed while its run holds the lease (the lease row appears as the run starts).
      const db = new Database(path.join(dataDir, 'closeloop.db'), { readonly: true, fileMustExist: true });
      let lease: string | undefined;
      try {
        const get = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
        while ((lease = get.get(`attribution_lease:${WS}`) as string | undefined) === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      } finally {
        db.close();
      }
      await server.kill();
      assert.equal(await run, null, 'the run was cut by the kill');
      assert.match(lease, /^\{"holder":"1:\d+:/, 'the run\'s lease names PID 1 and its start time');

      server = await startAsPid1(dataDir);
      try {
        const rerun = await fetch(`${server.url}/admin/v1/workspaces/${WS}/attribution/run`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(rerun.status, 200, `the rerun after the restart: ${await rerun.text()}`);
      } finally {
        await server.kill();
      }
    } finally {
      removeTestDir(dataDir);
    }
  });
});

