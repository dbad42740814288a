/**
 * Storage faults injected at the store boundary: the real SqliteStore's writer worker is made to
 * fail its group commits as better-sqlite3 does on a full disk (SQLITE_FULL), an I/O error
 * (SQLITE_IOERR_*) or a locked database (SQLITE_BUSY). Every ingestion route, single events and
 * batches: each refused request gets 503 with Retry-After, nothing of it is stored (events, their
 * columnar segments, usage, quarantine), no 2xx is ever given for an event that was not stored,
 * and once the fault clears the refused requests sent again are stored exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ADMIN_TOKEN, T0, testApp, type TestApp } from '../helpers/app.js';
import type { InjectedFault } from '../../src/store/sqlite/writer-protocol.js';
import { INGEST_ROUTES, storedKeyCounts, unavailableCode, type IngestCall, type IngestRoute, type Tenant } from './ingest-calls.js';
import { Ledger, type Attempt } from './ledger.js';
import { figure, seeded, sized } from './profile.js';

const FAULTS: { name: string; fault: Omit<InjectedFault, 'skip' | 'count'> }[] = [
  { name: 'disk full', fault: { code: 'SQLITE_FULL', at: 'commit' } },
  { name: 'I/O error', fault: { code: 'SQLITE_IOERR_FSYNC', at: 'commit' } },
  { name: 'database busy', fault: { code: 'SQLITE_BUSY', at: 'begin' } },
];

/** Concurrent requests per route and size while a fault lasts (they share commits). */
const REQUESTS_PER_ROUTE = sized(3, 10);

interface Answer extends Attempt { body: any }

/** What a user can see of a workspace's stored data: every place an append writes to. */
interface Visible { events: number[]; segments: number[]; usage: number; rejections: number }

describe('storage faults at the store boundary (in-process)', () => {
  let t: TestApp;
  let seq = 0;
  const tag = (prefix: string) => `${prefix}${++seq}`;

  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  const injectFault = (fault: InjectedFault | null) => t.store.events.writer.injectFault(fault);

  /** Sends one request in-process and records its answer for each of its keys. */
  async function send(ledger: Ledger, call: IngestCall): Promise<Answer> {
    const res = await t.app.fastify.inject({ method: 'POST', url: call.url, headers: call.headers, payload: call.body });
    ledger.requests++;
    ledger.statuses.set(String(res.statusCode), (ledger.statuses.get(String(res.statusCode)) ?? 0) + 1);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    const attempt: Attempt = { outcome: ok ? 'acked' : 'refused', status: res.statusCode, detail: res.body, retryAfter: (res.headers['retry-after'] as string | undefined) ?? null };
    for (const k of call.keys) ledger.record(k, attempt);
    return { ...attempt, body: JSON.parse(res.body) };
  }

  async function visible(ws: string): Promise<Visible> {
    const events = (await t.store.events.list(ws, { limit: 1_000_000 })).map((e) => e.id).sort((a, b) => a - b);
    const segments: number[] = [];
    await t.store.attribution.readColumns(ws, Number.MAX_SAFE_INTEGER, (c) => { for (let i = 0; i < c.n; i++) segments.push(c.id[i]!); });
    const usage = await t.store.events.monthlyCount(ws, T0);
    const rejections = (await t.store.rejections.list(ws, { limit: 1_000_000 })).length;
    return { events, segments, usage, rejections };
  }

  /** Events, their segments and the usage counter agree: no commit left one without the others. */
  function assertConsistent(v: Visible): void {
    assert.deepEqual(v.segments, v.events, 'every stored event is in exactly one segment, and no segment holds an event that is not stored');
    assert.equal(v.usage, v.events.length, 'the usage counter counts the stored events');
  }

  const stored = (ws: string) => storedKeyCounts(async (url) => (await t.admin('GET', url)).body, ws);

  /** A refusal for a store failure, in the route's own shape, with a Retry-After in whole seconds. */
  function assertUnavailable(route: IngestRoute, a: Answer): void {
    assert.equal(a.status, 503, `${route.name}: ${a.detail}`);
    assert.equal(route.errorCode(a.body), unavailableCode(route), `${route.name}: ${a.detail}`);
    assert.match(a.retryAfter ?? '', /^[1-9]\d*$/, `${route.name}: 503 without a Retry-After in seconds`);
  }

  for (const { name, fault } of FAULTS) {
    describe(`${name} (${fault.code} at ${fault.at.toUpperCase()})`, () => {
      const ledger = new Ledger();
      let tenant: Tenant;
      let refusals = 0;
      before(async () => { tenant = await t.workspace(`faults-${fault.code.toLowerCase().replace(/_/g, '-')}`, { rateLimitPerMinute: 10_000_000 }); });

      for (const route of INGEST_ROUTES) {
        for (const size of [...new Set([1, Math.min(route.maxBatch, 20)])]) {
          it(`${route.name}, ${size} event${size > 1 ? 's' : ''} a request: 503 + Retry-After while it lasts, nothing stored, then stored once when resent`, async () => {
            const before = await visible(tenant.id);
            const calls = Array.from({ length: REQUESTS_PER_ROUTE }, () => route.call(tenant, tag('k'), size, T0));
            injectFault({ ...fault, skip: 0, count: Number.POSITIVE_INFINITY });
            const refused = await Promise.all(calls.map((c) => send(ledger, c)));
            for (const a of refused) assertUnavailable(route, a);
            refusals += refused.length;
            assert.deepEqual(await visible(tenant.id), before, 'nothing of a refused request is visible');

            injectFault(null);
            const resent = await Promise.all(calls.map((c) => send(ledger, c)));
            assert.deepEqual(resent.map((a) => a.status), calls.map(() => 200), resent.map((a) => a.detail).join('\n'));
            if (route.idempotent) {
              const again = await Promise.all(calls.map((c) => send(ledger, c)));
              assert.deepEqual(again.map((a) => a.status), calls.map(() => 200), 'a repeat of a stored event is answered like the first');
            }

            const after = await visible(tenant.id);
            assertConsistent(after);
            assert.equal(after.events.length, before.events.length + REQUESTS_PER_ROUTE * size);
            const counts = await stored(tenant.id);
            const keys = calls.flatMap((c) => c.keys);
            assert.deepEqual(keys.filter((k) => counts.get(k) !== 1), [], 'each resent event is stored exactly once');
          });
        }
      }

      it('/readyz says not ready (writable: false) while commits fail, and ready again once one goes through, with no traffic', async () => {
        const readyz = async () => { const r = await t.call({ method: 'GET', url: '/readyz' }); return [r.status, r.body]; };
        assert.deepEqual(await readyz(), [200, { ok: true, store: 'sqlite' }]);
        injectFault({ ...fault, skip: 0, count: Number.POSITIVE_INFINITY });
        const route = INGEST_ROUTES[0]!;
        const call = route.call(tenant, tag('r'), 1, T0);
        assertUnavailable(route, await send(ledger, call));
        refusals++;
        assert.deepEqual(await readyz(), [503, { ok: false, store: 'sqlite', writable: false }]);
        assert.deepEqual(await readyz(), [503, { ok: false, store: 'sqlite', writable: false }], 'a probe that fails keeps it not ready');
        injectFault(null);
        assert.deepEqual(await readyz(), [200, { ok: true, store: 'sqlite' }], 'the probe commit goes through: ready, before any request was sent');
        assert.equal((await send(ledger, call)).status, 200);
      });

      it('broke no promise: every acknowledged event stored once, none refused-only stored', async () => {
        assert.deepEqual(ledger.verify(await stored(tenant.id)), []);
        assert.equal(ledger.count('refused'), 0, 'every refused event was stored when resent');
        figure(`in-process ${name}`, `${ledger.summary()}; 503 with Retry-After ×${refusals} (every route, 1 and 20 events a request); 0 2xx for unstored events; every refused event stored once when resent; /readyz 503 writable:false while failing, 200 again by its probe alone`);
      });
    });
  }

  describe('faults that come and go under concurrent load', () => {
    it('never answers 2xx for an event a failed commit took down, and stores every refused event once when it is sent again', async () => {
      const ws = await t.workspace('faults-mixed', { rateLimitPerMinute: 10_000_000 });
      const ledger = new Ledger();
      const rnd = seeded(7);
      const REQUESTS = sized(400, 10_000);
      const refusedCalls: IngestCall[] = [];
      let sent = 0;
      let armed = 0;
      const client = async () => {
        while (sent < REQUESTS) {
          sent++;
          // Now and then the next few commits fail (after a few that go through), whatever requests they hold.
          if (rnd() < 0.08) {
            const { fault } = FAULTS[Math.floor(rnd() * FAULTS.length)]!;
            injectFault({ ...fault, skip: Math.floor(rnd() * 4), count: 1 + Math.floor(rnd() * 3) });
            armed++;
          }
          const route = INGEST_ROUTES[Math.floor(rnd() * INGEST_ROUTES.length)]!;
          const call = route.call(ws, tag('m'), route.maxBatch === 1 ? 1 : 1 + Math.floor(rnd() * Math.min(route.maxBatch, 50)), T0);
          const a = await send(ledger, call);
          if (a.status === 503) {
            assertUnavailable(route, a);
            refusedCalls.push(call);
          } else {
            assert.equal(a.status, 200, `${route.name}: ${a.detail}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, client));
      injectFault(null);
      const refusedKeys = ledger.count('refused');
      assert.ok(refusedCalls.length > 0 && ledger.count('acked') > 0, `both outcomes happened: ${ledger.summary()}`);
      assert.deepEqual(ledger.verify(await stored(ws.id)), [], 'before any retry: acknowledged events stored once, refused ones not at all');
      assertConsistent(await visible(ws.id));

      for (const call of refusedCalls) assert.equal((await send(ledger, call)).status, 200);
      assert.deepEqual(ledger.verify(await stored(ws.id)), []);
      assert.equal(ledger.count('refused'), 0);
      assertConsistent(await visible(ws.id));
      figure('in-process faults under load', `${REQUESTS} requests from 8 clients over every route, ${armed} fault bursts (1–3 failing commits each): ${ledger.statuses.get('503') ?? 0} answered 503 with Retry-After (${refusedKeys} events), 0 2xx for unstored events; resent: all ${refusedCalls.length} stored once; events, segments and usage agree`);
    });
  });

  describe('a commit holding a partial batch fails', () => {
    it('stores neither its valid events nor the quarantine entries of its invalid ones, and both once it is sent again', async () => {
      const ws = await t.workspace('faults-partial', { rateLimitPerMinute: 10_000_000 });
      const ledger = new Ledger();
      const keys = ['p-1', 'p-2'];
      const call: IngestCall = {
        url: '/v1/events', headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.serverKey}` }, keys,
        body: JSON.stringify({ events: [
          { type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: 'p-1' },
          { type: 'conversion', name: 'signup', idempotencyKey: 'p-bad' },
          { type: 'conversion', name: 'signup', visitorId: 'v2', idempotencyKey: 'p-2' },
        ] }),
      };
      const before = await visible(ws.id);
      injectFault({ code: 'SQLITE_FULL', at: 'commit', skip: 0, count: 1 });
      const refused = await send(ledger, call);
      assert.equal(refused.status, 503, refused.detail);
      assert.deepEqual(await visible(ws.id), before);

      const resent = await send(ledger, call);
      assert.equal(resent.status, 200, resent.detail);
      assert.deepEqual(resent.body.results.map((r: { status: string }) => r.status), ['stored', 'rejected', 'stored']);
      const after = await visible(ws.id);
      assertConsistent(after);
      assert.deepEqual([after.events.length, after.rejections], [2, 1]);
      assert.deepEqual(ledger.verify(await stored(ws.id)), []);
    });
  });

  describe('a conflicting event\'s quarantine entry fails to commit after its batch\'s other events did', () => {
    // src/ingest/pipeline.ts accept(): the events are appended (and durable), then the
    // idempotency conflicts are quarantined in a second append; when that one fails, the answer
    // must still report the stored events (a 503 would say "nothing was stored").
    it('does not answer 503 "nothing was stored" for events it stored', async () => {
      const ws = await t.workspace('faults-conflict', { rateLimitPerMinute: 10_000_000 });
      const ledger = new Ledger();
      const first = await t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${ws.serverKey}` }, payload: { type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: 'c-1', value: 1 } });
      assert.equal(first.status, 200);
      ledger.record('c-1', { outcome: 'acked', status: 200, detail: first.raw, retryAfter: null });
      const call: IngestCall = {
        url: '/v1/events', headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.serverKey}` }, keys: ['c-2'],
        body: JSON.stringify({ events: [
          { type: 'conversion', name: 'signup', visitorId: 'v2', idempotencyKey: 'c-2' },
          { type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: 'c-1', value: 2 },
        ] }),
      };
      injectFault({ code: 'SQLITE_FULL', at: 'commit', skip: 1, count: 1 });
      const a = await send(ledger, call);
      injectFault(null);
      assert.deepEqual(ledger.verify(await stored(ws.id)), [], `answered ${a.status}: ${a.detail}`);
    });
  });

  describe('main-thread writes (admin API) fail as SQLite fails them', () => {
    for (const { name, fault } of FAULTS) {
      it(`answers an admin write 503 store_unavailable with Retry-After on ${name}, not 500, and succeeds once it clears`, async () => {
        const id = `admin-${fault.code.toLowerCase().replace(/_/g, '-')}`;
        const create = () => t.call({ method: 'POST', url: '/admin/v1/workspaces', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { id } });
        const restore = failWith(t.store.workspaces, 'create', fault.code);
        let refused;
        try {
          refused = await create();
        } finally {
          restore();
        }
        assert.deepEqual([refused.status, refused.body.error.code, refused.headers['retry-after']], [503, 'store_unavailable', '1'], refused.raw);
        const again = await create();
        assert.equal(again.status, 201, again.raw);
      });
    }
  });
});

/** Makes `obj[method]` throw as better-sqlite3 does for `code` (a wrapper around the real store); returns the undo. */
function failWith<T extends object>(obj: T, method: keyof T & string, code: InjectedFault['code']): () => void {
  const messages: Record<InjectedFault['code'], string> = { SQLITE_FULL: 'database or disk is full', SQLITE_IOERR_WRITE: 'disk I/O error', SQLITE_IOERR_FSYNC: 'disk I/O error', SQLITE_BUSY: 'database is locked' };
  Object.defineProperty(obj, method, { configurable: true, value: () => Promise.reject(new Database.SqliteError(messages[code], code)) });
  return () => { delete (obj as Record<string, unknown>)[method]; };
}

