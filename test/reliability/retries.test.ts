/**
 * Retry storm against the real process over HTTP: every event is sent three times — at once, after
 * a client-side timeout, or again much later, through every route that carries an idempotency key
 * (native Idempotency-Key header and idempotencyKey field, single and batch; Optimize actionId;
 * Convultra properties.order_id, single and batch; Web Analyzer Idempotency-Key) — and some
 * attempts give up before the answer. The store then holds each event exactly once, and every
 * repeat was answered like the first request. The same key with other content is answered 409
 * naming the fields that differ, every time: while the first is in flight and after it is stored.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminRequest, startRealServer, type RealServer } from '../helpers/server.js';
import { Ledger, storedCounts } from './ledger.js';
import { figure, sized } from './profile.js';

const ADMIN_TOKEN = 'cl_admin_retries_test_0123456789abcdefghij';
/** The server's clock starts here (CLOSELOOP_NOW); event times are relative to it. */
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: the storm's choices, replayable from the seed printed with the figures. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** One event's content, as every dialect can carry it. */
interface Ev { key: string; name: string; value: number; at: number; visitor: string; uuid: string }

interface Built { path: string; headers: Record<string, string>; body: string; events: Ev[] }

/** A route that carries an idempotency key, and how to read its answers. */
interface Route {
  name: string;
  /** Events per request. */
  batch: number;
  /** Event names this route accepts as the same kind of event (Convultra keys only purchase-like ones). */
  names: [string, string];
  build(ws: string, key: string, events: Ev[], attempt: number): Built;
  /**
   * Per event of a 200, the id it was answered with (the same for every repeat; '' when the dialect
   * answers none) and whether this request stored it (null when the answer does not say). Fails on
   * an event the answer did not accept.
   */
  ids(json: any, events: Ev[]): { id: string; fresh: boolean | null }[];
  /** What a 409 says. */
  conflict(json: any): { code: string; fields: string[]; message: string };
  /** The dialect's names of the fields a changed name and a changed value differ in. */
  differs: { name: string[]; value: string[] };
}

const json = { 'content-type': 'application/json' };
const nativeEvent = (e: Ev) => ({ type: 'conversion', name: e.name, visitorId: e.visitor, value: e.value, currency: 'EUR', timestamp: e.at });
const convultraEvent = (e: Ev) => ({
  event_type: e.name, timestamp: new Date(e.at).toISOString(), session_id: e.visitor,
  properties: { order_id: e.key, value: e.value, currency: 'EUR', items: [{ sku: 'A1', qty: 1 }] },
});
const shuffled = <T>(list: readonly T[], attempt: number): T[] => (attempt === 0 ? [...list] : attempt === 1 ? [...list].reverse() : [...list.slice(1), ...list.slice(0, 1)]);

const ROUTES: Route[] = [
  {
    name: 'native Idempotency-Key / idempotencyKey',
    batch: 1,
    names: ['signup', 'signup-b'],
    // Alternates between the header and the field: a retry may carry the key either way.
    build: (_ws, key, [e], attempt) => attempt % 2 === 0
      ? { path: '/v1/events', headers: { ...json, authorization: `Bearer ${key}`, 'idempotency-key': e!.key }, body: JSON.stringify(nativeEvent(e!)), events: [e!] }
      : { path: '/v1/events', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify({ ...nativeEvent(e!), idempotencyKey: e!.key }), events: [e!] },
    ids: (j) => {
      assert.equal(j.ok, true, JSON.stringify(j));
      return [{ id: String(j.ids[0]), fresh: j.duplicates === 0 }];
    },
    conflict: (j) => j.error,
    differs: { name: ['name'], value: ['value'] },
  },
  {
    name: 'native batch idempotencyKey',
    batch: 10,
    names: ['signup', 'signup-b'],
    // A retried batch may list its events in another order.
    build: (_ws, key, events, attempt) => {
      const order = shuffled(events, attempt);
      return { path: '/v1/events', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify({ events: order.map((e) => ({ ...nativeEvent(e), idempotencyKey: e.key })) }), events: order };
    },
    ids: (j, events) => {
      assert.equal(j.ok, true, JSON.stringify(j));
      assert.equal(j.results.length, events.length);
      return j.results.map((r: any) => {
        assert.ok(r.status === 'stored' || r.status === 'duplicate', JSON.stringify(r));
        return { id: String(r.id), fresh: r.status === 'stored' };
      });
    },
    conflict: (j) => j.error,
    differs: { name: ['name'], value: ['value'] },
  },
  {
    name: 'optimize actionId',
    batch: 1,
    names: ['deal-won', 'deal-won-b'],
    build: (ws, key, [e], attempt) => {
      const body = { eventName: e!.name, userDomain: 'crm', userId: e!.visitor, actionId: e!.key, actionTimestamp: e!.at, value: e!.value };
      return attempt % 2 === 0
        ? { path: '/event', headers: { ...json, authorization: `ApiKey ${key}` }, body: JSON.stringify({ customerId: ws, ...body }), events: [e!] }
        : { path: `/customer/${ws}/event`, headers: { ...json, authorization: `ApiKey ${key}` }, body: JSON.stringify(body), events: [e!] };
    },
    ids: (j, [e]) => {
      assert.equal(j.actionId, e!.key, JSON.stringify(j));
      return [{ id: '', fresh: null }];
    },
    conflict: (j) => ({ code: j.error, fields: j.fields, message: j.message }),
    differs: { name: ['eventName'], value: ['value'] },
  },
  {
    name: 'convultra order_id',
    batch: 1,
    names: ['purchase', 'order_completed'],
    build: (_ws, key, [e], attempt) => attempt % 2 === 0
      ? { path: '/v1/track', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify(convultraEvent(e!)), events: [e!] }
      : { path: `/v1/track?api_key=${key}`, headers: json, body: JSON.stringify(convultraEvent(e!)), events: [e!] },
    ids: (j) => {
      assert.equal(j.success, true, JSON.stringify(j));
      return [{ id: j.event_id, fresh: null }];
    },
    conflict: (j) => ({ code: j.code, fields: j.fields, message: j.error }),
    differs: { name: ['event_type'], value: ['properties.value'] },
  },
  {
    name: 'convultra batch order_id',
    batch: 10,
    names: ['purchase', 'order_completed'],
    build: (_ws, key, events, attempt) => {
      const order = shuffled(events, attempt);
      return { path: '/v1/track/batch', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify({ events: order.map(convultraEvent) }), events: order };
    },
    ids: (j, events) => {
      assert.equal(j.success, true, JSON.stringify(j));
      assert.equal(j.results.length, events.length);
      return j.results.map((r: any) => {
        assert.equal(r.success, true, JSON.stringify(r));
        return { id: r.event_id as string, fresh: r.duplicate !== true };
      });
    },
    conflict: (j) => ({ code: j.code, fields: j.fields, message: j.error }),
    differs: { name: ['event_type'], value: ['properties.value'] },
  },
  {
    name: 'webanalyzer Idempotency-Key',
    batch: 1,
    names: ['purchase', 'purchase-b'],
    build: (ws, key, [e]) => ({
      path: `/api/v1/websites/${ws}/track`,
      headers: { ...json, authorization: `Bearer ${key}`, 'idempotency-key': e!.key },
      body: JSON.stringify({ name: e!.name, visitor_id: e!.uuid, url: 'https://shop.example/checkout', payload: { amount: e!.value, currency: 'EUR' } }),
      events: [e!],
    }),
    ids: (j) => {
      assert.equal(j.ok, true, JSON.stringify(j));
      return [{ id: String(j.event_id), fresh: null }];
    },
    conflict: (j) => ({ code: j.error, fields: j.fields, message: j.message }),
    // The amount is both the event's value and one of its payload keys.
    differs: { name: ['name'], value: ['payload.amount', 'payload'] },
  },
];

/** Share of the storm's events per route. */
const WEIGHTS = [0.25, 0.25, 0.15, 0.15, 0.1, 0.1];

let server: RealServer;
let dataDir: string;

async function workspace(id: string): Promise<string> {
  await adminRequest(server, ADMIN_TOKEN, 'POST', '/workspaces', { id, settings: { rateLimitPerMinute: 10_000_000 } });
  return (await adminRequest(server, ADMIN_TOKEN, 'POST', `/workspaces/${id}/keys`, { name: 'storm', kind: 'server' })).key as string;
}

/** Runs `tasks` with at most `width` at a time, in order. */
async function pool(tasks: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) await tasks[next++]!();
  }));
}

/** Every stored event of a workspace by idempotency key. */
async function storedEvents(ws: string): Promise<Map<string, { id: number; name: string; value: number }[]>> {
  const byKey = new Map<string, { id: number; name: string; value: number }[]>();
  let cursor: number | null = null;
  for (;;) {
    const page: { events: { id: number; idempotencyKey: string; name: string; value: number }[]; next: number | null } =
      await adminRequest(server, ADMIN_TOKEN, 'GET', `/workspaces/${ws}/events?limit=1000${cursor === null ? '' : `&after=${cursor}`}`);
    for (const e of page.events) byKey.set(e.idempotencyKey, [...(byKey.get(e.idempotencyKey) ?? []), e]);
    if (page.next === null) return byKey;
    cursor = page.next;
  }
}

describe('retry storm (real process)', () => {
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-retries-test-'));
    server = await startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN, CLOSELOOP_NOW: String(T0) } });
  });
  after(async () => {
    await server?.kill();
    if (dataDir !== undefined && path.basename(dataDir).includes('test')) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores each of N events sent three times exactly once, and answers every repeat like the first', async () => {
    const N = sized(2000, 20000);
    const ws = 'storm';
    const key = await workspace(ws);
    const rnd = random(SEED);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;

    // Units: a single event, or a batch of them, each sent three times.
    const units: { route: Route; events: Ev[] }[] = [];
    let made = 0;
    ROUTES.forEach((route, r) => {
      const share = r === ROUTES.length - 1 ? N - made : Math.round(N * WEIGHTS[r]!);
      for (let i = 0; i < share; i += route.batch) {
        const events = Array.from({ length: Math.min(route.batch, share - i) }, (_, j): Ev => ({
          key: `storm-${r}-${i + j}`, name: route.names[0], value: Math.round(rnd() * 10_000) / 100,
          at: T0 - Math.floor(rnd() * 3_600_000), visitor: `visitor-${Math.floor(rnd() * 500)}`, uuid: randomUUID(),
        }));
        units.push({ route, events });
      }
      made += share;
    });
    assert.equal(units.reduce((n, u) => n + u.events.length, 0), N);

    const ledger = new Ledger();
    const answered = new Map<string, Set<string>>();
    /** Per key whose answers say so: how many answers stored it (0: an attempt whose client gave up did). */
    const freshAnswers = new Map<string, number>();
    const lostNormal: string[] = [];
    let short = 0;
    const patterns = { together: 0, 'after a timeout': 0, 'much later': 0 };
    const attempt = async (u: { route: Route; events: Ev[] }, n: number, giveUp: boolean) => {
      const b = u.route.build(ws, key, u.events, n);
      if (giveUp) short++;
      // 1 ms: the client gives up before the answer can come; the server may or may not have stored it.
      const res = await ledger.send(`${server.url}${b.path}`, b.events.map((e) => e.key), b.body, { headers: b.headers, timeoutMs: giveUp ? 1 : 60_000 });
      if (res.status === 200) {
        u.route.ids(res.json, b.events).forEach(({ id, fresh }, i) => {
          const k = b.events[i]!.key;
          answered.set(k, (answered.get(k) ?? new Set()).add(id));
          if (fresh !== null) freshAnswers.set(k, (freshAnswers.get(k) ?? 0) + (fresh ? 1 : 0));
        });
      } else if (res.status === null && !giveUp) lostNormal.push(`${u.route.name}: ${res.detail}`);
    };

    // Tasks in a loose order: most units' attempts go together, some follow a timeout, and some
    // units are retried much later, interleaved with everything in between.
    const tasks: { order: number; run: () => Promise<void> }[] = [];
    units.forEach((u, i) => {
      const p = pick(Object.keys(patterns) as (keyof typeof patterns)[]);
      patterns[p]++;
      if (p === 'together') {
        const giveUp = rnd() < 0.3 ? Math.floor(rnd() * 3) : -1;
        tasks.push({ order: i + rnd() * 20, run: async () => { await Promise.all([0, 1, 2].map((n) => attempt(u, n, n === giveUp))); } });
      } else if (p === 'after a timeout') {
        tasks.push({ order: i + rnd() * 20, run: async () => {
          await attempt(u, 0, true);
          await Promise.all([attempt(u, 1, false), attempt(u, 2, false)]);
        } });
      } else {
        tasks.push({ order: i + rnd() * 20, run: () => attempt(u, 0, false) });
        tasks.push({ order: i + rnd() * (units.length - i), run: async () => { await Promise.all([attempt(u, 1, rnd() < 0.3), attempt(u, 2, false)]); } });
      }
    });
    tasks.sort((a, b) => a.order - b.order);
    const started = Date.now();
    await pool(tasks.map((t) => t.run), 24);
    const seconds = (Date.now() - started) / 1000;

    const stored = await storedCounts(server, ADMIN_TOKEN, ws);
    const problems = ledger.verify(stored);
    const unknownAttempts = ledger.statuses.get('no answer') ?? 0;
    figure('retry storm', `${N} events × 3 attempts (seed ${SEED}; ${patterns.together} units at once, ${patterns['after a timeout']} after a timeout, ${patterns['much later']} again much later) over ${ROUTES.length} keyed routes in ${seconds.toFixed(1)} s: ${ledger.summary()}`);
    const byGivenUp = [...freshAnswers.values()].filter((n) => n === 0).length;
    figure('retry storm', `${short} attempts gave up after 1 ms, ${unknownAttempts} got no answer (of the ${freshAnswers.size} keys whose answers tell, ${byGivenUp} were stored by an attempt that had given up); stored ${stored.size} keys, ${[...stored.values()].filter((n) => n > 1).length} twice; ledger violations ${problems.length}`);

    assert.deepEqual(lostNormal.slice(0, 5), [], 'every attempt that waited got an answer');
    assert.deepEqual([...ledger.statuses.keys()].filter((s) => s !== '200' && s !== 'no answer'), [], `statuses: ${ledger.summary()}`);
    assert.deepEqual(problems.slice(0, 10), []);
    assert.equal(ledger.count('acked'), N);
    assert.equal(stored.size, N);
    assert.equal([...stored.values()].reduce((a, b) => a + b, 0), N, 'exactly N events stored');
    const answeredTwoWays = [...answered].filter(([, ids]) => ids.size > 1).map(([k, ids]) => `${k}: ${[...ids].join(' ≠ ')}`);
    assert.deepEqual(answeredTwoWays.slice(0, 10), [], 'every repeat is answered with the first answer\'s id');
    const storedTwiceByAnswers = [...freshAnswers].filter(([, n]) => n > 1).map(([k]) => k);
    assert.deepEqual(storedTwiceByAnswers.slice(0, 10), [], 'no key is answered "stored" twice');
  });

  it('answers the same key with other content 409 naming the differing fields, while the first is in flight and every time after', async () => {
    const K = sized(8, 40);
    const ws = 'conflicts';
    const key = await workspace(ws);
    const rnd = random(SEED + 1);

    interface Sent { route: Route; ev: Ev; variant: number; phase: 'in flight' | 'after'; status: number | null; json: any }
    const sent: Sent[] = [];
    const cases = ROUTES.flatMap((route, r) => Array.from({ length: K }, (_, k) => {
      const base: Ev = { key: `conflict-${r}-${k}`, name: route.names[0], value: 10 + k, at: T0 - 60_000 * (k + 1), visitor: `visitor-${k}`, uuid: randomUUID() };
      // Variant 0 is the base; 1 changes the name, 2 the value, 3 both.
      const variants: Ev[] = [base, { ...base, name: route.names[1] }, { ...base, value: base.value + 1 }, { ...base, name: route.names[1], value: base.value + 1 }];
      return { route, variants };
    }));
    const send = async (route: Route, ev: Ev, variant: number, phase: Sent['phase'], n: number) => {
      const b = route.build(ws, key, [ev], n);
      const res = await fetch(`${server.url}${b.path}`, { method: 'POST', headers: b.headers, body: b.body });
      const text = await res.text();
      sent.push({ route, ev, variant, phase, status: res.status, json: JSON.parse(text) });
    };

    // While the first is in flight: every variant twice, all at once, in a random order.
    await Promise.all(cases.flatMap(({ route, variants }) => {
      const order = [0, 0, 1, 1, 2, 2, 3, 3].sort(() => rnd() - 0.5);
      return order.map((v, n) => send(route, variants[v]!, v, 'in flight', n));
    }));
    const stored = await storedEvents(ws);
    // After: every variant three more times, through each of the route's ways of carrying the key.
    for (let round = 0; round < 3; round++) {
      await Promise.all(cases.flatMap(({ route, variants }) => variants.map((ev, v) => send(route, ev, v, 'after', round))));
    }

    const wrong: string[] = [];
    let conflicts = 0;
    let named = 0;
    for (const { route, variants } of cases) {
      const k = variants[0]!.key;
      const rows = stored.get(k) ?? [];
      if (rows.length !== 1) {
        wrong.push(`${route.name} ${k}: stored ${rows.length} times`);
        continue;
      }
      const winner = variants.findIndex((e) => e.name === rows[0]!.name && e.value === rows[0]!.value);
      assert.ok(winner >= 0, `${k}: stored ${JSON.stringify(rows[0])}`);
      for (const s of sent.filter((x) => x.ev.key === k)) {
        const w = variants[winner]!;
        const fields = [...(s.ev.name !== w.name ? route.differs.name : []), ...(s.ev.value !== w.value ? route.differs.value : [])];
        const where = `${route.name} ${k} variant ${s.variant} (${s.phase}; variant ${winner} stored)`;
        if (fields.length === 0) {
          if (s.status !== 200) wrong.push(`${where}: ${s.status} ${JSON.stringify(s.json)}`);
          continue;
        }
        conflicts++;
        const c = s.status === 409 ? route.conflict(s.json) : null;
        if (c === null || c.code !== 'idempotency_conflict' || JSON.stringify(c.fields) !== JSON.stringify(fields) || !fields.every((f) => c.message.includes(f))) {
          wrong.push(`${where}: expected 409 naming ${fields.join(', ')}, got ${s.status} ${JSON.stringify(s.json)}`);
        } else named++;
      }
    }
    const inFlight = sent.filter((s) => s.phase === 'in flight' && s.status === 409).length;
    figure('retry storm', `same key, other content: ${conflicts} requests over ${cases.length} keys and ${ROUTES.length} routes (${inFlight} while the first was in flight) → ${named} × 409 naming exactly the differing fields; ${wrong.length} wrong`);
    assert.deepEqual(wrong.slice(0, 10), []);
    assert.equal(stored.size, cases.length);
  });
});
