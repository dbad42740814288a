/**
 * Partial batches (spec/api.md §6, "each event is judged on its own"): fast-check mixes valid
 * events, invalid ones (each breaking one known rule), repeats and conflicting repeats in native,
 * Convultra and Web Analyzer batches. The valid events are stored, each invalid one is reported
 * by its index with the field and the rule and kept in the quarantine, and /metrics counts
 * exactly what the store and the quarantine hold.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ErrorCode } from '../../src/core/index.js';
import { eventCount, T0, testApp, type TestApp } from '../helpers/app.js';
import { figure, sized } from './profile.js';

const DAY = 86_400_000;

type Slot =
  | { kind: 'valid'; shape: number; text: string; num: number }
  | { kind: 'invalid'; which: number; text: string; num: number }
  | { kind: 'repeat' | 'conflict'; ref: number };

const slot: fc.Arbitrary<Slot> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('valid' as const), shape: fc.nat(), text: fc.string({ minLength: 1, maxLength: 24 }), num: fc.integer({ min: 0, max: 99_999 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('invalid' as const), which: fc.nat(), text: fc.string({ minLength: 1, maxLength: 24 }), num: fc.integer({ min: 0, max: 99_999 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const), ref: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('conflict' as const), ref: fc.nat() }) },
);

/** What the answer must say about one event of the batch. */
type Expect =
  | { status: 'stored'; name: string | null; key: string | null }
  | { status: 'duplicate'; of: number }
  | { status: 'rejected'; code: ErrorCode; /** Its JSON path in the batch. */ field: string };

/** An event breaking one rule: the field it breaks (relative to the event; '' for the event itself) and the rule's code. */
interface Invalid { field: string; code: ErrorCode; event: (text: string, num: number) => unknown }

interface Dialect {
  name: 'native' | 'convultra' | 'webanalyzer';
  url: (ws: string) => string;
  maxBatch: number;
  /** A valid event and its stored name; `key` is its idempotency key, when the dialect carries one in a batch. */
  valid(s: Extract<Slot, { kind: 'valid' }>, key: string): { event: Record<string, unknown>; name: string; key: string | null };
  invalid: Invalid[];
  /** The same event with other content, or null when the dialect has no key in a batch. */
  conflicting: ((e: Record<string, unknown>) => Record<string, unknown>) | null;
  /** The field a conflict is reported on. */
  keyField: string;
  check(res: { status: number; body: any }, expect: Expect[]): { ids: (number | string | null)[] };
}

const ts = (ms: number) => new Date(ms).toISOString();
const statusOf = (code: ErrorCode) => (code === 'idempotency_conflict' ? 409 : 400);
const pathOf = (i: number, field: string) => (field === '' ? `events[${i}]` : `events[${i}].${field}`);

/** The answer's status: 200 when something was accepted, else the first rejection's. */
function expectedStatus(expect: Expect[]): number {
  if (expect.some((e) => e.status !== 'rejected')) return 200;
  return statusOf((expect[0] as Extract<Expect, { status: 'rejected' }>).code);
}

const NATIVE: Dialect = {
  name: 'native',
  url: () => '/v1/events',
  maxBatch: 500,
  valid: ({ shape, text, num }, key) => {
    const visitorId = `v${num}`;
    const shapes = [
      () => ({ event: { type: 'pageview', visitorId, url: `https://shop.example/p/${num}` }, name: null }),
      () => ({ event: { type: 'conversion', name: text, visitorId, value: num / 100, currency: 'usd', timestamp: T0 - num * 1000 }, name: text }),
      () => ({ event: { type: 'view', visitorId, optimization: 'hero', variation: num % 2 === 0 ? 'a' : 'b' }, name: null }),
      () => ({ event: { type: 'identify', visitorId, userDomain: 'crm', userId: `u${num}` }, name: null }),
      () => ({ event: { type: 'custom', name: text, sessionId: `s${num}`, properties: { plan: text, n: num, trial: num % 2 === 0 } }, name: text }),
    ];
    const { event, name } = shapes[shape % shapes.length]!();
    return { event: { ...event, idempotencyKey: key }, name: name as string, key };
  },
  invalid: [
    { field: 'type', code: 'field_type', event: () => ({ type: 'purchase', visitorId: 'v1' }) },
    { field: 'type', code: 'field_required', event: () => ({ visitorId: 'v1' }) },
    { field: 'name', code: 'field_required', event: () => ({ type: 'conversion', visitorId: 'v1' }) },
    { field: 'visitorId', code: 'not_linkable', event: (text) => ({ type: 'conversion', name: text }) },
    { field: 'optimization', code: 'field_required', event: () => ({ type: 'view', visitorId: 'v1', variation: 'b' }) },
    { field: 'userDomain', code: 'field_required', event: () => ({ type: 'identify', visitorId: 'v1' }) },
    { field: 'userDomain', code: 'field_required', event: (_t, num) => ({ type: 'pageview', userId: `u${num}` }) },
    { field: 'value', code: 'field_type', event: (text) => ({ type: 'conversion', name: 'x', visitorId: 'v1', value: text }) },
    { field: 'value', code: 'field_invalid', event: (_t, num) => ({ type: 'conversion', name: 'x', visitorId: 'v1', value: 1e13 + num }) },
    { field: 'currency', code: 'field_invalid', event: () => ({ type: 'conversion', name: 'x', visitorId: 'v1', value: 1, currency: 'EURO' }) },
    { field: 'colour', code: 'unknown_field', event: () => ({ type: 'pageview', visitorId: 'v1', colour: 'red' }) },
    { field: 'timestamp', code: 'timestamp_in_future', event: (_t, num) => ({ type: 'pageview', visitorId: 'v1', timestamp: T0 + 61_000 + num * 1000 }) },
    { field: 'timestamp', code: 'timestamp_too_old', event: (_t, num) => ({ type: 'pageview', visitorId: 'v1', timestamp: T0 - 7 * DAY - 1 - num * 1000 }) },
    { field: 'timestamp', code: 'timestamp_in_seconds', event: (_t, num) => ({ type: 'pageview', visitorId: 'v1', timestamp: Math.floor(T0 / 1000) - num }) },
    { field: 'timestamp', code: 'timestamp_invalid', event: () => ({ type: 'pageview', visitorId: 'v1', timestamp: '2026-01-15 12:00' }) },
    { field: 'name', code: 'field_too_long', event: (text) => ({ type: 'custom', visitorId: 'v1', name: text.padEnd(256, 'x') }) },
    { field: 'properties.cart', code: 'field_type', event: () => ({ type: 'pageview', visitorId: 'v1', properties: { cart: { items: 2 } } }) },
    { field: '', code: 'field_type', event: (_t, num) => num },
  ],
  conflicting: (e) => ({ ...e, value: Number(e.value ?? 0) + 1 }),
  keyField: 'idempotencyKey',
  check: (res, expect) => {
    const ids: (number | null)[] = [];
    expect.forEach((x, i) => {
      const r = res.body.results?.[i];
      const where = `results[${i}] ${JSON.stringify(r)}`;
      if (x.status === 'rejected') {
        assert.deepEqual([r?.index, r?.status, r?.error?.code, r?.error?.index, r?.error?.field], [i, 'rejected', x.code, i, x.field], where);
        assert.ok(String(r.error.message).includes(`events[${i}]`), where);
        ids.push(null);
      } else {
        assert.deepEqual([r?.index, r?.status, typeof r?.id], [i, x.status, 'number'], where);
        if (x.status === 'duplicate') assert.equal(r.id, ids[x.of], where);
        ids.push(r.id);
      }
    });
    if (res.status === 200) {
      assert.deepEqual(res.body.ids, ids);
      assert.equal(res.body.duplicates, expect.filter((x) => x.status === 'duplicate').length);
    } else {
      assert.equal(res.body.ok, false);
    }
    return { ids };
  },
};

const CONVULTRA: Dialect = {
  name: 'convultra',
  url: () => '/v1/track/batch',
  maxBatch: 100,
  valid: ({ shape, text, num }, key) => shape % 2 === 0
    ? { event: { event_type: 'purchase', timestamp: ts(T0 - num * 1000), session_id: `s${num}`, properties: { order_id: key, value: num / 100, currency: 'EUR', items: [{ sku: text }] } }, name: 'purchase', key }
    : { event: { event_type: `lead ${text}`, user_id: `u${num}`, context: { page_url: `https://shop.example/${num}` } }, name: `lead ${text}`, key: null },
  invalid: [
    { field: 'event_type', code: 'field_required', event: () => ({ session_id: 's1' }) },
    { field: 'event_type', code: 'field_invalid', event: () => ({ event_type: '' }) },
    { field: 'event_type', code: 'field_type', event: (_t, num) => ({ event_type: num }) },
    { field: 'timestamp', code: 'timestamp_invalid', event: () => ({ event_type: 'purchase', timestamp: 'yesterday' }) },
    { field: 'timestamp', code: 'timestamp_in_future', event: (_t, num) => ({ event_type: 'purchase', timestamp: ts(T0 + 3_600_000 + num) }) },
    { field: 'timestamp', code: 'timestamp_too_old', event: (_t, num) => ({ event_type: 'purchase', timestamp: ts(T0 - 8 * DAY - num) }) },
    { field: 'properties.value', code: 'field_invalid', event: (text) => ({ event_type: 'purchase', properties: { value: `${text}!` } }) },
    { field: 'properties.currency', code: 'field_invalid', event: () => ({ event_type: 'purchase', properties: { value: 1, currency: 'EURO' } }) },
    { field: 'user_id', code: 'field_invalid', event: () => ({ event_type: 'signup', user_id: -1 }) },
    { field: 'user_data.email', code: 'field_type', event: (_t, num) => ({ event_type: 'signup', user_data: { email: num } }) },
    { field: '', code: 'field_type', event: (text) => text },
  ],
  conflicting: (e) => ({ ...e, properties: { ...(e.properties as object), value: Number((e.properties as { value: number }).value) + 1 } }),
  keyField: 'properties.order_id',
  check: (res, expect) => {
    const ids: (string | null)[] = [];
    expect.forEach((x, i) => {
      const r = res.body.results?.[i];
      const where = `results[${i}] ${JSON.stringify(r)}`;
      if (x.status === 'rejected') {
        assert.deepEqual([r?.index, r?.success, r?.code], [i, false, x.code], where);
        assert.ok(String(r.error).includes(x.code === 'idempotency_conflict' ? `events[${i}]` : x.field), `the message names the field: ${where}`);
        ids.push(null);
      } else {
        assert.deepEqual([r?.index, r?.success, r?.duplicate], [i, true, x.status === 'duplicate' ? true : undefined], where);
        if (x.status === 'duplicate') assert.equal(r.event_id, ids[x.of], where);
        ids.push(r.event_id);
      }
    });
    if (res.status === 200) assert.deepEqual(res.body.event_ids, ids);
    else assert.equal(res.body.success, false);
    return { ids };
  },
};

const WEBANALYZER: Dialect = {
  name: 'webanalyzer',
  url: (ws) => `/api/v1/websites/${ws}/track/batch`,
  maxBatch: 25,
  valid: ({ text, num }) => ({ event: { name: text, visitor_id: randomUUID(), url: `https://shop.example/${num}`, payload: { plan: text, n: num, paid: num % 2 === 0 } }, name: text, key: null }),
  invalid: [
    { field: 'name', code: 'field_required', event: () => ({ payload: { a: '1' } }) },
    { field: 'name', code: 'field_invalid', event: () => ({ name: '' }) },
    { field: 'name', code: 'field_too_long', event: (text) => ({ name: text.padEnd(129, 'x') }) },
    { field: 'payload.cart', code: 'field_type', event: () => ({ name: 'checkout', payload: { cart: { items: 2 } } }) },
    { field: 'payload', code: 'field_invalid', event: (_t, num) => ({ name: 'checkout', payload: Object.fromEntries(Array.from({ length: 11 }, (_, k) => [`k${k}`, num])) }) },
    { field: 'payload.note', code: 'field_too_long', event: (text) => ({ name: 'checkout', payload: { note: text.padEnd(256, 'x') } }) },
    { field: 'payload.big', code: 'field_invalid', event: (_t, num) => ({ name: 'checkout', payload: { big: 2 ** 60 + num * 2 ** 10 } }) },
    { field: 'visitor_id', code: 'field_invalid', event: (text) => ({ name: 'checkout', visitor_id: `not-a-uuid-${text}` }) },
    { field: 'url', code: 'field_type', event: (_t, num) => ({ name: 'checkout', url: num }) },
  ],
  conflicting: null,
  keyField: 'Idempotency-Key',
  check: (res, expect) => {
    const accepted = expect.map((x, i) => [x, i] as const).filter(([x]) => x.status !== 'rejected');
    const rejected = expect.map((x, i) => [x, i] as const).filter(([x]) => x.status === 'rejected') as [Extract<Expect, { status: 'rejected' }>, number][];
    const list: { index: number; error: string; message: string }[] = res.body.rejected ?? [];
    assert.deepEqual(list.map((r) => [r.index, r.error]), rejected.map(([, i]) => [i, 'validation_error']), JSON.stringify(res.body));
    list.forEach((r, k) => assert.ok(r.message.includes(rejected[k]![0].field), `the message names the field: ${JSON.stringify(r)}`));
    if (res.status !== 200) {
      assert.deepEqual([res.body.ok, res.body.error], [false, 'validation_error']);
      return { ids: expect.map(() => null) };
    }
    assert.deepEqual([res.body.ok, res.body.processed, res.body.event_ids.length], [true, accepted.length, accepted.length]);
    const ids: (number | null)[] = expect.map(() => null);
    accepted.forEach(([, i], k) => { ids[i] = res.body.event_ids[k]; });
    return { ids };
  },
};

let seq = 0;
/** Which of each dialect's invalid events the runs have sent. */
const seen = new Map<string, Set<number>>();

/** The batch the slots describe, and what the answer must say about each of its events. */
function materialize(d: Dialect, slots: Slot[]): { events: unknown[]; expect: Expect[]; made: Record<string, unknown>[] } {
  const events: unknown[] = [];
  const made: Record<string, unknown>[] = [];
  const expect: Expect[] = [];
  /** Indexes of stored events that carry a key: what a repeat or a conflict can refer to. */
  const keyed: number[] = [];
  for (const s of slots) {
    const i = events.length;
    if (s.kind === 'invalid') {
      const bad = d.invalid[s.which % d.invalid.length]!;
      seen.set(d.name, (seen.get(d.name) ?? new Set()).add(s.which % d.invalid.length));
      events.push(bad.event(s.text, s.num));
      expect.push({ status: 'rejected', code: bad.code, field: pathOf(i, bad.field) });
      made.push({});
      continue;
    }
    if (s.kind !== 'valid' && keyed.length > 0 && d.conflicting !== null) {
      const of = keyed[s.ref % keyed.length]!;
      const original = made[of]!;
      events.push(s.kind === 'repeat' ? original : d.conflicting(original));
      made.push(original);
      expect.push(s.kind === 'repeat' ? { status: 'duplicate', of } : { status: 'rejected', code: 'idempotency_conflict', field: pathOf(i, d.keyField) });
      continue;
    }
    const v = d.valid(s.kind === 'valid' ? s : { kind: 'valid', shape: 0, text: 'repeat', num: i }, `pb-${d.name}-${++seq}`);
    events.push(v.event);
    made.push(v.event);
    expect.push({ status: 'stored', name: v.name, key: v.key });
    if (v.key !== null) keyed.push(i);
  }
  return { events, expect, made };
}

/** Sums a Prometheus counter's samples whose labels include `labels`. */
function metric(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe('partial batches', () => {
  let t: TestApp;
  const keys = new Map<string, string>();
  const tally = new Map<string, { batches: number; largest: number; stored: number; duplicates: number; rejected: number }>();
  before(async () => {
    t = await testApp();
    for (const d of [NATIVE, CONVULTRA, WEBANALYZER]) keys.set(d.name, (await t.workspace(`batch-${d.name}`, { rateLimitPerMinute: 10_000_000 })).serverKey);
  });
  after(async () => { await t.close(); });

  /** Every quarantined event of a workspace, newest first. */
  async function quarantine(ws: string): Promise<{ index: number | null; code: string; field: string | null }[]> {
    const all = [];
    let cursor: number | null = null;
    for (;;) {
      const page: { rejections: { index: number | null; code: string; field: string | null }[]; next: number | null } = (await t.admin('GET', `/admin/v1/workspaces/${ws}/rejections?limit=1000${cursor === null ? '' : `&after=${cursor}`}`)).body;
      all.push(...page.rejections);
      if (page.next === null) return all;
      cursor = page.next;
    }
  }

  for (const d of [NATIVE, CONVULTRA, WEBANALYZER]) {
    it(`${d.name}: stores the valid events of a mixed batch and reports each invalid one by index, field and rule`, async () => {
      const ws = `batch-${d.name}`;
      const n = { batches: 0, largest: 0, stored: 0, duplicates: 0, rejected: 0 };
      tally.set(d.name, n);
      // Mostly small batches, some up to 100 events (CI) or the dialect's largest (full).
      const maxLength = Math.min(d.maxBatch, sized(100, d.maxBatch));
      await fc.assert(fc.asyncProperty(fc.array(slot, { minLength: 1, maxLength, size: sized('medium', 'large') }), async (slots) => {
        const { events, expect } = materialize(d, slots);
        const res = await t.call({ method: 'POST', url: d.url(ws), headers: { authorization: `Bearer ${keys.get(d.name)!}` }, payload: { events } });
        assert.equal(res.status, expectedStatus(expect), JSON.stringify(res.body).slice(0, 2000));
        const { ids } = d.check(res, expect);

        // The stored events are the valid ones, under the ids they were answered with.
        const stored = expect.map((x, i) => [x, i] as const).filter(([x]) => x.status === 'stored') as [Extract<Expect, { status: 'stored' }>, number][];
        const listed = stored.length === 0 ? [] : (await t.admin('GET', `/admin/v1/workspaces/${ws}/events?limit=${stored.length}`)).body.events as { id: number; name: string | null; idempotencyKey: string | null; receivedAt: number }[];
        const answerIdOf = (e: { id: number; receivedAt: number }) => (d.name === 'convultra' ? `evt_${e.receivedAt}_${e.id.toString(36).padStart(6, '0')}` : e.id);
        assert.deepEqual(
          listed.reverse().map((e) => [answerIdOf(e), e.name, e.idempotencyKey]),
          stored.map(([x, i]) => [ids[i], x.name, x.key]),
        );

        // Each invalid event is in the quarantine with its index, rule and field.
        const rejected = expect.map((x, i) => [x, i] as const).filter(([x]) => x.status === 'rejected') as [Extract<Expect, { status: 'rejected' }>, number][];
        const kept = rejected.length === 0 ? [] : (await t.admin('GET', `/admin/v1/workspaces/${ws}/rejections?limit=${rejected.length}`)).body.rejections as { index: number; code: string; field: string }[];
        const key = (r: { index: number; code: string; field: string }) => `${r.index} ${r.code} ${r.field}`;
        assert.deepEqual(kept.map(key).sort(), rejected.map(([x, i]) => key({ index: i, code: x.code, field: x.field })).sort());

        n.batches++;
        n.largest = Math.max(n.largest, events.length);
        n.stored += stored.length;
        n.duplicates += expect.filter((x) => x.status === 'duplicate').length;
        n.rejected += rejected.length;
      }), { numRuns: sized(100, 500) });
      const kinds = seen.get(d.name)?.size ?? 0;
      figure('partial batch', `${d.name}: ${n.batches} batches of 1–${n.largest} events: ${n.stored} stored, ${n.duplicates} answered as repeats, ${n.rejected} rejected by index with field and rule (${kinds} of ${d.invalid.length} kinds of invalid event)`);
      assert.equal(kinds, d.invalid.length, 'every kind of invalid event was sent');
    });
  }

  it('counts in /metrics exactly the events stored and the events quarantined', async () => {
    const text = (await t.call({ method: 'GET', url: '/metrics' })).raw;
    const lines: string[] = [];
    for (const d of [NATIVE, CONVULTRA, WEBANALYZER]) {
      const ws = `batch-${d.name}`;
      const rows = await eventCount(t, ws);
      const kept = await quarantine(ws);
      const accepted = metric(text, 'closeloop_events_accepted_total', { dialect: d.name });
      const rejected = metric(text, 'closeloop_events_rejected_total', { dialect: d.name });
      const duplicates = metric(text, 'closeloop_events_duplicate_total', { dialect: d.name });
      lines.push(`${d.name}: accepted ${accepted} = ${rows} rows, rejected ${rejected} = ${kept.length} quarantined, ${duplicates} repeats`);
      const n = tally.get(d.name)!;
      assert.deepEqual([accepted, rejected, duplicates], [rows, kept.length, n.duplicates], d.name);
      assert.ok(rows >= n.stored && kept.length >= n.rejected);
      // And by reason: the counter's label is the quarantine's code.
      const byCode = new Map<string, number>();
      for (const r of kept) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
      for (const [code, count] of byCode) assert.equal(metric(text, 'closeloop_events_rejected_total', { dialect: d.name, reason: code }), count, `${d.name} ${code}`);
    }
    figure('partial batch', `/metrics vs store: ${lines.join('; ')}`);
  });
});
