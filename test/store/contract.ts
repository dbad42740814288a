/**
 * The Store contract: every storage driver runs this suite unchanged (STYLE.md §4). A driver's
 * test file calls `storeContract(name, open)`; `open` hands out a fresh, empty store and a
 * cleanup that closes it (closing twice must be harmless) and throws its data away. A driver that
 * can open the same database again also returns `reopen`, so that durability across a close is
 * checked too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ServiceError, type CanonicalEvent, type StoredEvent } from '../../src/core/index.js';
import { eventAt, REF, RunWrites, type ApiKeyRecord, type OutcomeChange, type AppendOutcome, type NewRejection, type Optimization, type ScannedEvent, type Store, type Workspace } from '../../src/store/index.js';

export interface OpenedStore {
  store: Store;
  cleanup: () => Promise<void>;
  /** Opens the same database again (after `store` was closed). */
  reopen?: () => Promise<Store>;
}

/** 2026-01-15T12:00:00Z, the instant the suite's data is stamped with. */
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;

// ---- factories -------------------------------------------------------------------------------

function workspace(id: string, overrides: Partial<Workspace> = {}): Workspace {
  return { id, name: `Workspace ${id}`, settings: {}, createdAt: T0, ...overrides };
}

function apiKey(workspaceId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: `key_${randomBytes(6).toString('hex')}`, workspaceId, name: 'backend', kind: 'server', prefix: 'cl_sk_Ab3x',
    hash: randomBytes(32).toString('hex'), rateLimitPerMinute: null, createdAt: T0, revokedAt: null, ...overrides,
  };
}

function event(workspaceId: string, overrides: Partial<CanonicalEvent> = {}): CanonicalEvent {
  return {
    workspaceId, type: 'conversion', name: 'application-accepted', occurredAt: T0 - 60_000, receivedAt: T0,
    idempotencyKey: null, visitorId: 'visitor-1', sessionId: null, userDomain: 'salesforce', userId: '72349876',
    optimization: null, variation: null, value: 149.99, currency: 'USD',
    properties: { plan: 'pro', seats: 3, trial: false }, userData: { email: 'a'.repeat(64) },
    context: { ip: '203.0.113.0', url: 'https://example.com/checkout' }, source: 'native', ...overrides,
  };
}

function rejection(workspaceId: string, overrides: Partial<NewRejection> = {}): NewRejection {
  return {
    workspaceId, receivedAt: T0, dialect: 'optimize', route: { url: '/customer/:customerId/event', params: { customerId: workspaceId } },
    index: null, code: 'timestamp_in_seconds', message: 'actionTimestamp 1578316150 looks like UNIX seconds; send UNIX milliseconds.',
    field: 'actionTimestamp', raw: '{"actionTimestamp":1578316150}', ...overrides,
  };
}

function optimization(workspaceId: string, key: string, goalIds: number[], overrides: Partial<Optimization> = {}): Optimization {
  return {
    workspaceId, key, name: `Test ${key}`, variations: [{ key: 'control', name: 'Control', weight: 1 }, { key: 'bold', name: 'Bold', weight: 3 }],
    goalIds, primaryGoalId: goalIds[0]!, control: 'control', status: 'running', createdAt: T0, updatedAt: T0, ...overrides,
  };
}

const stored = (o: AppendOutcome): StoredEvent => {
  assert.equal(o.status, 'stored');
  return o.event;
};

const isStoreUnavailable = (err: unknown): boolean => err instanceof ServiceError && err.code === 'store_unavailable';

// ---- the suite -------------------------------------------------------------------------------

/** Registers the contract's tests for one driver. */
export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore;
    let store: Store;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      await store.workspaces.create(workspace('acme'));
      await store.workspaces.create(workspace('globex'));
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    describe('workspaces', () => {
      it('returns a created workspace whole, and null for an unknown id', async () => {
        const ws = workspace('123456789', { name: 'Acme Loans', settings: { maxEventAgeDays: 30, allowedOrigins: ['https://acme.test'] } });
        assert.deepEqual(await store.workspaces.create(ws), ws);
        assert.deepEqual(await store.workspaces.get('123456789'), ws);
        assert.equal(await store.workspaces.get('nope'), null);
      });

      it('lists every workspace', async () => {
        const list = await store.workspaces.list();
        assert.deepEqual([...list].sort((a, b) => a.id.localeCompare(b.id)), [workspace('acme'), workspace('globex')]);
      });

      it('refuses to create a workspace whose id exists, keeping the first', async () => {
        await assert.rejects(store.workspaces.create(workspace('acme', { name: 'Impostor' })));
        assert.deepEqual(await store.workspaces.get('acme'), workspace('acme'));
      });

      it('replaces settings and renames only when a name is given', async () => {
        const renamed = await store.workspaces.updateSettings('acme', { monthlyQuota: 1000 }, 'Acme Inc');
        assert.deepEqual(renamed, workspace('acme', { name: 'Acme Inc', settings: { monthlyQuota: 1000 } }));
        const kept = await store.workspaces.updateSettings('acme', { serverSideEnabled: false });
        assert.deepEqual(kept, workspace('acme', { name: 'Acme Inc', settings: { serverSideEnabled: false } }));
        assert.deepEqual(await store.workspaces.get('acme'), kept);
      });

      it('answers null when updating a workspace that does not exist', async () => {
        assert.equal(await store.workspaces.updateSettings('nope', { monthlyQuota: 1 }), null);
        assert.equal(await store.workspaces.get('nope'), null);
      });
    });

    describe('keys', () => {
      it('finds a key by its hash, whole, and nothing for an unknown hash', async () => {
        const k = apiKey('acme', { rateLimitPerMinute: 120 });
        assert.deepEqual(await store.keys.create(k), k);
        assert.deepEqual(await store.keys.findByHash(k.hash), k);
        assert.equal(await store.keys.findByHash('0'.repeat(64)), null);
      });

      it('lists only the keys of the workspace asked for', async () => {
        const a1 = await store.keys.create(apiKey('acme', { name: 'server' }));
        const a2 = await store.keys.create(apiKey('acme', { name: 'browser', kind: 'browser', prefix: 'cl_pk_Zz9q', createdAt: T0 + 1 }));
        const g1 = await store.keys.create(apiKey('globex'));
        assert.deepEqual(await store.keys.list('acme'), [a1, a2]);
        assert.deepEqual(await store.keys.list('globex'), [g1]);
        assert.deepEqual(await store.keys.list('nope'), []);
      });

      it('revokes a key at the given time and keeps the first revocation time', async () => {
        const k = await store.keys.create(apiKey('acme'));
        assert.deepEqual(await store.keys.revoke('acme', k.id, T0 + HOUR), { ...k, revokedAt: T0 + HOUR });
        assert.deepEqual(await store.keys.revoke('acme', k.id, T0 + 2 * HOUR), { ...k, revokedAt: T0 + HOUR });
        assert.deepEqual(await store.keys.findByHash(k.hash), { ...k, revokedAt: T0 + HOUR });
      });

      it('does not revoke a key through another workspace', async () => {
        const k = await store.keys.create(apiKey('acme'));
        assert.equal(await store.keys.revoke('globex', k.id, T0 + HOUR), null);
        assert.equal(await store.keys.revoke('acme', 'key_missing', T0 + HOUR), null);
        assert.deepEqual(await store.keys.findByHash(k.hash), k);
      });
    });

    describe('goals', () => {
      it('creates a goal whose name is valid from its creation, with no end', async () => {
        const g = await store.goals.create('acme', 'application-accepted', 'Application accepted', T0);
        assert.deepEqual(g, {
          id: g.id, workspaceId: 'acme', name: 'Application accepted', createdAt: T0,
          history: [{ apiName: 'application-accepted', validFrom: T0, validTo: null }],
        });
        assert.deepEqual(await store.goals.get('acme', g.id), g);
      });

      it('keeps every old name in the history with the interval it was valid in', async () => {
        const g = await store.goals.create('acme', 'app-accepted', 'Accepted', T0);
        await store.goals.rename('acme', g.id, 'application-accepted', T0 + HOUR);
        const renamed = await store.goals.rename('acme', g.id, 'application-approved', T0 + 2 * HOUR);
        const expected = {
          id: g.id, workspaceId: 'acme', name: 'Accepted', createdAt: T0,
          history: [
            { apiName: 'app-accepted', validFrom: T0, validTo: T0 + HOUR },
            { apiName: 'application-accepted', validFrom: T0 + HOUR, validTo: T0 + 2 * HOUR },
            { apiName: 'application-approved', validFrom: T0 + 2 * HOUR, validTo: null },
          ],
        };
        assert.deepEqual(renamed, expected);
        assert.deepEqual(await store.goals.get('acme', g.id), expected);
      });

      it('lists a workspace\'s goals in creation order, with their histories', async () => {
        const a = await store.goals.create('acme', 'signup', 'Signup', T0);
        const b = await store.goals.create('acme', 'purchase', 'Purchase', T0 + 1);
        await store.goals.create('globex', 'signup', 'Signup', T0);
        const renamedA = await store.goals.rename('acme', a.id, 'sign-up', T0 + HOUR);
        assert.deepEqual(await store.goals.list('acme'), [renamedA, b]);
      });

      it('does not show or rename a goal through another workspace', async () => {
        const g = await store.goals.create('acme', 'signup', 'Signup', T0);
        assert.equal(await store.goals.get('globex', g.id), null);
        assert.equal(await store.goals.rename('globex', g.id, 'hijacked', T0 + HOUR), null);
        assert.deepEqual(await store.goals.list('globex'), []);
        assert.deepEqual(await store.goals.get('acme', g.id), g);
      });

      it('answers null for a goal id that does not exist', async () => {
        assert.equal(await store.goals.get('acme', 999_999), null);
        assert.equal(await store.goals.rename('acme', 999_999, 'x', T0), null);
      });
    });

    describe('optimizations', () => {
      it('returns a created optimization whole', async () => {
        const goal = await store.goals.create('acme', 'signup', 'Signup', T0);
        const o = optimization('acme', 'hero', [goal.id]);
        assert.deepEqual(await store.optimizations.create(o), o);
        assert.deepEqual(await store.optimizations.get('acme', 'hero'), o);
        assert.equal(await store.optimizations.get('acme', 'nope'), null);
      });

      it('lists a workspace\'s optimizations oldest first', async () => {
        const goal = await store.goals.create('acme', 'signup', 'Signup', T0);
        const first = await store.optimizations.create(optimization('acme', 'zeta', [goal.id]));
        const second = await store.optimizations.create(optimization('acme', 'alpha', [goal.id], { createdAt: T0 + 1, updatedAt: T0 + 1 }));
        await store.optimizations.create(optimization('globex', 'hero', [goal.id]));
        assert.deepEqual(await store.optimizations.list('acme'), [first, second]);
      });

      it('sets the status and the time it changed', async () => {
        const goal = await store.goals.create('acme', 'signup', 'Signup', T0);
        const o = await store.optimizations.create(optimization('acme', 'hero', [goal.id]));
        assert.deepEqual(await store.optimizations.setStatus('acme', 'hero', 'paused', T0 + HOUR), { ...o, status: 'paused', updatedAt: T0 + HOUR });
        assert.deepEqual(await store.optimizations.get('acme', 'hero'), { ...o, status: 'paused', updatedAt: T0 + HOUR });
      });

      it('does not show or change an optimization through another workspace', async () => {
        const goal = await store.goals.create('acme', 'signup', 'Signup', T0);
        const o = await store.optimizations.create(optimization('acme', 'hero', [goal.id]));
        assert.equal(await store.optimizations.get('globex', 'hero'), null);
        assert.equal(await store.optimizations.setStatus('globex', 'hero', 'ended', T0 + HOUR), null);
        assert.deepEqual(await store.optimizations.list('globex'), []);
        assert.deepEqual(await store.optimizations.get('acme', 'hero'), o);
      });
    });

    describe('events: append', () => {
      it('stores an event and gives it back whole, with its id', async () => {
        const e = event('acme', { idempotencyKey: 'order-1' });
        const [outcome] = await store.events.append({ events: [e], rejections: [] });
        const s = stored(outcome!);
        assert.deepEqual(s, { ...e, id: s.id });
        assert.deepEqual(await store.events.get('acme', s.id), s);
      });

      it('keeps an event with only the required fields, nulls included', async () => {
        const e = event('acme', {
          type: 'pageview', name: null, visitorId: null, userDomain: null, userId: null, value: null, currency: null,
          properties: null, userData: null, context: null, source: 'collect',
        });
        const [outcome] = await store.events.append({ events: [e], rejections: [] });
        const s = stored(outcome!);
        assert.deepEqual(await store.events.get('acme', s.id), { ...e, id: s.id });
      });

      it('gives increasing ids within a batch and across appends', async () => {
        const first = await store.events.append({ events: [event('acme'), event('acme'), event('acme')], rejections: [] });
        const second = await store.events.append({ events: [event('globex')], rejections: [] });
        const ids = [...first, ...second].map((o) => stored(o).id);
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
        assert.equal(new Set(ids).size, 4);
      });

      it('does not store a retry of a known idempotency key, and answers it with the first event', async () => {
        const e = event('acme', { idempotencyKey: '23823940' });
        const [first] = await store.events.append({ events: [e], rejections: [] });
        const retry = event('acme', { idempotencyKey: '23823940', receivedAt: T0 + 5000, source: 'optimize' });
        const [again] = await store.events.append({ events: [retry], rejections: [] });
        assert.deepEqual(again, { status: 'existing', event: stored(first!) });
        assert.deepEqual(await store.events.list('acme', { limit: 10 }), [stored(first!)]);
      });

      it('does not store other content under a known idempotency key: the first event comes back for the caller to compare', async () => {
        const e = event('acme', { idempotencyKey: '23823940' });
        const [first] = await store.events.append({ events: [e], rejections: [] });
        const other = event('acme', { idempotencyKey: '23823940', value: 10 });
        const [again] = await store.events.append({ events: [other], rejections: [] });
        assert.deepEqual(again, { status: 'existing', event: stored(first!) });
        assert.deepEqual(await store.events.list('acme', { limit: 10 }), [stored(first!)]);
      });

      it('judges repeats inside one batch against the first of them, whatever their content', async () => {
        const outcomes = await store.events.append({
          events: [
            event('acme', { idempotencyKey: 'k1' }),
            event('acme', { idempotencyKey: 'k1' }),
            event('acme', { idempotencyKey: 'k1', value: 1 }),
            event('acme', { idempotencyKey: 'k2' }),
          ],
          rejections: [],
        });
        const first = stored(outcomes[0]!);
        assert.deepEqual(outcomes.slice(1, 3), [{ status: 'existing', event: first }, { status: 'existing', event: first }]);
        assert.equal(outcomes[3]!.status, 'stored');
        assert.equal((await store.events.list('acme', { limit: 10 })).length, 2);
      });

      it('stores every event without an idempotency key, however alike', async () => {
        const outcomes = await store.events.append({ events: [event('acme'), event('acme')], rejections: [] });
        assert.deepEqual(outcomes.map((o) => o.status), ['stored', 'stored']);
      });

      it('keeps idempotency keys apart per workspace', async () => {
        const [a] = await store.events.append({ events: [event('acme', { idempotencyKey: 'order-1' })], rejections: [] });
        const [g] = await store.events.append({ events: [event('globex', { idempotencyKey: 'order-1' })], rejections: [] });
        assert.equal(a!.status, 'stored');
        assert.equal(g!.status, 'stored');
        assert.notEqual(stored(a!).id, stored(g!).id);
      });

      it('resolves many concurrent appends with distinct ids, and all of them are readable afterwards', async () => {
        const n = 300;
        const outcomes = await Promise.all(Array.from({ length: n }, (_, i) =>
          store.events.append({ events: [event('acme', { idempotencyKey: `c-${i}`, visitorId: `v-${i}` })], rejections: [] })));
        const byKey = new Map(outcomes.map(([o], i) => [`c-${i}`, stored(o!)]));
        assert.equal(new Set([...byKey.values()].map((e) => e.id)).size, n);
        for (const [key, e] of byKey) assert.deepEqual(await store.events.findByIdempotencyKey('acme', key), e);
        const listed = await store.events.list('acme', { limit: n + 10 });
        assert.equal(listed.length, n);
      });

      it('keeps the events a concurrent append gives the same key only once', async () => {
        const outcomes = await Promise.all(Array.from({ length: 20 }, () =>
          store.events.append({ events: [event('acme', { idempotencyKey: 'same' })], rejections: [] })));
        const statuses = outcomes.map(([o]) => o!.status);
        assert.equal(statuses.filter((s) => s === 'stored').length, 1);
        assert.equal(statuses.filter((s) => s === 'existing').length, 19);
        assert.equal(new Set(outcomes.map(([o]) => o!.event.id)).size, 1);
        assert.equal((await store.events.list('acme', { limit: 100 })).length, 1);
      });
    });

    describe('events: reading', () => {
      /** Appends one event per spec, in order, and returns them as stored. */
      async function seed(specs: Partial<CanonicalEvent>[], ws = 'acme'): Promise<StoredEvent[]> {
        const out: StoredEvent[] = [];
        for (const s of specs) out.push(stored((await store.events.append({ events: [event(ws, s)], rejections: [] }))[0]!));
        return out;
      }

      it('lists events newest first, up to the limit', async () => {
        const [a, b, c] = await seed([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
        assert.deepEqual(await store.events.list('acme', { limit: 10 }), [c, b, a]);
        assert.deepEqual(await store.events.list('acme', { limit: 2 }), [c, b]);
      });

      it('pages with the before cursor without skipping or repeating', async () => {
        const all = await seed(Array.from({ length: 7 }, (_, i) => ({ name: `e${i}` })));
        const seen: StoredEvent[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await store.events.list('acme', { limit: 3, ...(before !== undefined ? { before } : {}) });
          if (page.length === 0) break;
          seen.push(...page);
          before = page.at(-1)!.id;
        }
        assert.deepEqual(seen, [...all].reverse());
      });

      it('filters by type and by name', async () => {
        const [, view, signup, , signup2] = await seed([
          { type: 'pageview', name: null },
          { type: 'view', name: null, optimization: 'hero', variation: 'bold' },
          { type: 'conversion', name: 'signup' },
          { type: 'conversion', name: 'purchase' },
          { type: 'custom', name: 'signup' },
        ]);
        assert.deepEqual(await store.events.list('acme', { type: 'view', limit: 10 }), [view]);
        assert.deepEqual(await store.events.list('acme', { name: 'signup', limit: 10 }), [signup2, signup]);
        assert.deepEqual(await store.events.list('acme', { type: 'conversion', name: 'signup', limit: 10 }), [signup]);
        assert.deepEqual(await store.events.list('acme', { type: 'identify', limit: 10 }), []);
      });

      it('filters by visitor id, and by user id and domain, newest first, with the other filters and the cursor', async () => {
        const events: StoredEvent[] = [];
        for (let i = 0; i < 12; i++) {
          const [o] = await store.events.append({ events: [event('acme', {
            type: i % 3 === 0 ? 'identify' : 'view', name: null, visitorId: i % 2 === 0 ? 'v-1' : 'v-2', userDomain: i % 3 === 0 ? 'crm' : null,
            userId: i % 3 === 0 ? (i % 2 === 0 ? 'ü-1' : 'u-2') : null, value: null,
          })], rejections: [] });
          events.push(stored(o!));
        }
        await store.events.append({ events: [event('globex', { visitorId: 'v-1' })], rejections: [] });
        const ids = (list: StoredEvent[]) => list.map((e) => e.id);
        const newest = (pick: (e: StoredEvent) => boolean, n = 50) => ids(events.filter(pick).reverse().slice(0, n));
        assert.deepEqual(ids(await store.events.list('acme', { visitorId: 'v-1', limit: 50 })), newest((e) => e.visitorId === 'v-1'));
        assert.deepEqual(ids(await store.events.list('acme', { visitorId: 'v-1', limit: 2 })), newest((e) => e.visitorId === 'v-1', 2));
        assert.deepEqual(ids(await store.events.list('acme', { userDomain: 'crm', userId: 'ü-1', limit: 50 })), newest((e) => e.userId === 'ü-1'));
        assert.deepEqual(ids(await store.events.list('acme', { userDomain: 'other', userId: 'ü-1', limit: 50 })), []);
        assert.deepEqual(ids(await store.events.list('acme', { visitorId: 'v-2', type: 'identify', limit: 50 })), newest((e) => e.visitorId === 'v-2' && e.type === 'identify'));
        const cursor = events[6]!.id;
        assert.deepEqual(ids(await store.events.list('acme', { visitorId: 'v-1', before: cursor, limit: 50 })), newest((e) => e.visitorId === 'v-1' && e.id < cursor));
        assert.deepEqual(ids(await store.events.list('acme', { visitorId: 'nobody', limit: 50 })), []);
      });

      it('finds an event by its idempotency key', async () => {
        const [e] = await seed([{ idempotencyKey: 'ORD-12345' }]);
        assert.deepEqual(await store.events.findByIdempotencyKey('acme', 'ORD-12345'), e);
        assert.equal(await store.events.findByIdempotencyKey('acme', 'ORD-missing'), null);
      });

      it('never shows one workspace\'s events to another', async () => {
        const [a] = await seed([{ idempotencyKey: 'order-1', name: 'signup' }], 'acme');
        const [g] = await seed([{ name: 'signup' }], 'globex');
        assert.deepEqual(await store.events.list('acme', { limit: 10 }), [a]);
        assert.deepEqual(await store.events.list('globex', { name: 'signup', limit: 10 }), [g]);
        assert.equal(await store.events.get('globex', a!.id), null);
        assert.equal(await store.events.findByIdempotencyKey('globex', 'order-1'), null);
        assert.deepEqual(await store.events.list('nope', { limit: 10 }), []);
      });

      it('answers null for an id that does not exist', async () => {
        assert.equal(await store.events.get('acme', 123_456), null);
      });
    });

    describe('events: monthly count', () => {
      it('counts stored events by the UTC month they were received in', async () => {
        const lastMsOfJanuary = Date.UTC(2026, 0, 31, 23, 59, 59, 999);
        const february = Date.UTC(2026, 1, 1, 0, 0, 0, 0);
        await store.events.append({ events: [event('acme', { receivedAt: T0 }), event('acme', { receivedAt: T0 })], rejections: [] });
        await store.events.append({ events: [event('acme', { receivedAt: lastMsOfJanuary })], rejections: [] });
        await store.events.append({ events: [event('acme', { receivedAt: february })], rejections: [] });
        await store.events.append({ events: [event('globex', { receivedAt: T0 })], rejections: [] });
        assert.equal(await store.events.monthlyCount('acme', Date.UTC(2026, 0, 1)), 3);
        assert.equal(await store.events.monthlyCount('acme', lastMsOfJanuary), 3);
        assert.equal(await store.events.monthlyCount('acme', Date.UTC(2026, 1, 28, 23)), 1);
        assert.equal(await store.events.monthlyCount('acme', Date.UTC(2025, 11, 31)), 0);
        assert.equal(await store.events.monthlyCount('globex', T0), 1);
      });

      it('does not count events not stored for their idempotency key, nor rejections', async () => {
        await store.events.append({ events: [event('acme', { idempotencyKey: 'k' })], rejections: [] });
        await store.events.append({
          events: [event('acme', { idempotencyKey: 'k' }), event('acme', { idempotencyKey: 'k', value: 1 })],
          rejections: [rejection('acme')],
        });
        assert.equal(await store.events.monthlyCount('acme', T0), 1);
      });
    });

    describe('rejections (quarantine)', () => {
      async function quarantine(rs: NewRejection[]): Promise<void> {
        await store.events.append({ events: [], rejections: rs });
      }

      it('keeps a rejection whole, not yet replayed', async () => {
        const r = rejection('acme', { index: 2, dialect: 'convultra', route: { url: '/v1/track/batch', params: {} }, field: 'events[2].timestamp' });
        await quarantine([r]);
        const [got] = await store.rejections.list('acme', { limit: 10 });
        assert.deepEqual(got, { ...r, id: got!.id, replayedAt: null, replayedEventId: null });
        assert.deepEqual(await store.rejections.get('acme', [got!.id]), [got]);
      });

      it('keeps the rejections of an append that also stored events', async () => {
        const [o] = await store.events.append({ events: [event('acme')], rejections: [rejection('acme', { index: 1 }), rejection('acme', { index: 2 })] });
        assert.equal(o!.status, 'stored');
        const list = await store.rejections.list('acme', { limit: 10 });
        assert.deepEqual(list.map((r) => r.index), [2, 1]);
      });

      it('lists newest first and pages with the before cursor', async () => {
        await quarantine([rejection('acme', { message: 'first' }), rejection('acme', { message: 'second' })]);
        await quarantine([rejection('acme', { message: 'third' })]);
        const all = await store.rejections.list('acme', { limit: 10 });
        assert.deepEqual(all.map((r) => r.message), ['third', 'second', 'first']);
        const next = await store.rejections.list('acme', { limit: 10, before: all[0]!.id });
        assert.deepEqual(next, all.slice(1));
        assert.deepEqual(await store.rejections.list('acme', { limit: 1 }), all.slice(0, 1));
      });

      it('marks a rejection replayed, and the pending list leaves it out', async () => {
        await quarantine([rejection('acme', { message: 'a' }), rejection('acme', { message: 'b' })]);
        const [b, a] = await store.rejections.list('acme', { limit: 10 });
        await store.rejections.markReplayed('acme', a!.id, T0 + HOUR, 42);
        assert.deepEqual(await store.rejections.get('acme', [a!.id]), [{ ...a!, replayedAt: T0 + HOUR, replayedEventId: 42 }]);
        assert.deepEqual(await store.rejections.list('acme', { limit: 10, pending: true }), [b]);
        await store.rejections.markReplayed('acme', b!.id, T0 + HOUR, null);
        assert.deepEqual(await store.rejections.get('acme', [b!.id]), [{ ...b!, replayedAt: T0 + HOUR, replayedEventId: null }]);
        assert.deepEqual(await store.rejections.list('acme', { limit: 10, pending: true }), []);
      });

      it('never shows or changes one workspace\'s rejections through another', async () => {
        await quarantine([rejection('acme')]);
        await quarantine([rejection('globex', { message: 'globex only' })]);
        const [a] = await store.rejections.list('acme', { limit: 10 });
        const [g] = await store.rejections.list('globex', { limit: 10 });
        assert.equal(g!.message, 'globex only');
        assert.deepEqual(await store.rejections.get('globex', [a!.id]), []);
        const both = await store.rejections.get('acme', [a!.id, g!.id]);
        assert.deepEqual(both, [a]);
        await store.rejections.markReplayed('globex', a!.id, T0 + HOUR, 1);
        assert.deepEqual(await store.rejections.get('acme', [a!.id]), [a]);
      });

      it('gives nothing for no ids', async () => {
        await quarantine([rejection('acme')]);
        assert.deepEqual(await store.rejections.get('acme', []), []);
      });
    });

    describe('events: columns for attribution', () => {
      /** Every event readColumns visits, as objects, in visiting order. */
      async function readAll(ws: string, until: number): Promise<ScannedEvent[]> {
        const out: ScannedEvent[] = [];
        await store.attribution.readColumns(ws, until, (c) => { for (let i = 0; i < c.n; i++) out.push(eventAt(c, i)); });
        return out;
      }
      const scanned = (e: StoredEvent): ScannedEvent => ({
        id: e.id, type: e.type, name: e.name, occurredAt: e.occurredAt, receivedAt: e.receivedAt, idempotencyKey: e.idempotencyKey,
        visitorId: e.visitorId, sessionId: e.sessionId, userDomain: e.userDomain, userId: e.userId, optimization: e.optimization,
        variation: e.variation, value: e.value, source: e.source,
      });

      it('gives back every stored event of the workspace, whole and in id order, across appends', async () => {
        const first = await store.events.append({ events: [
          event('acme', { type: 'view', name: null, optimization: 'hero', variation: 'bold', sessionId: 's1', userDomain: null, userId: null, value: null }),
          event('acme', { type: 'identify', name: null, visitorId: 'visitor-2', userId: 'ü-7 "quoted"', value: null }),
        ], rejections: [] });
        await store.events.append({ events: [event('globex')], rejections: [] });
        const second = await store.events.append({ events: [event('acme', { idempotencyKey: 'deal-1', value: 0.1, source: 'optimize' })], rejections: [] });
        const expected = [...first, ...second].map((o) => scanned(stored(o)));
        assert.deepEqual(await readAll('acme', T0), expected);
        assert.equal((await readAll('globex', T0)).length, 1);
      });

      it('leaves out events received after the instant asked for, and repeats of a known idempotency key', async () => {
        const kept = stored((await store.events.append({ events: [event('acme', { idempotencyKey: 'k' })], rejections: [] }))[0]!);
        await store.events.append({ events: [event('acme', { idempotencyKey: 'k', receivedAt: T0 + 1 })], rejections: [] });
        await store.events.append({ events: [event('acme', { receivedAt: T0 + HOUR })], rejections: [] });
        assert.deepEqual((await readAll('acme', T0)).map((e) => e.id), [kept.id]);
        assert.equal((await readAll('acme', T0 + HOUR)).length, 2);
      });

      it('goes on from where an earlier read ended (after), and says where that is and what it left out as received later', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 6; i++) {
          ids.push(stored((await store.events.append({ events: [event('acme', { visitorId: `v${i}`, receivedAt: i === 4 ? T0 + HOUR : T0 })], rejections: [] }))[0]!).id);
        }
        await store.events.append({ events: [event('globex')], rejections: [] });
        const seen: number[] = [];
        const first = await store.attribution.readColumns('acme', T0, (c) => { for (let i = 0; i < c.n; i++) seen.push(c.id[i]!); });
        assert.deepEqual(seen, [ids[0], ids[1], ids[2], ids[3], ids[5]]);
        assert.deepEqual(first, { last: ids[5], skipped: 1 }, 'the event received after until is counted as left out');
        seen.length = 0;
        await store.attribution.compactColumns('acme'); // one chunk now holds events on both sides of `after`
        const rest = await store.attribution.readColumns('acme', T0 + HOUR, (c) => { for (let i = 0; i < c.n; i++) seen.push(c.id[i]!); }, ids[2]);
        assert.deepEqual(seen, [ids[3], ids[4], ids[5]]);
        assert.deepEqual(rest, { last: ids[5], skipped: 0 });
        const none = await store.attribution.readColumns('acme', T0 + HOUR, () => assert.fail('nothing after the last event'), ids[5]);
        assert.deepEqual(none, { last: ids[5], skipped: 0 }, 'with nothing new, it goes on from where it was asked to');
      });

      it('merges the chunks that many small appends leave, without changing what is read', async () => {
        const ids: number[] = [];
        // Strings repeated across chunks, an empty one, a non-ASCII one and nulls: renumbered, never confused.
        const userIds = ['', 'ü-7 "quoted"', null, 'u1', 'u1'];
        for (let i = 0; i < 30; i++) {
          ids.push(stored((await store.events.append({ events: [event(i % 3 === 0 ? 'globex' : 'acme', { visitorId: `v${i % 4}`, userId: userIds[i % 5]! })], rejections: [] }))[0]!).id);
        }
        const before = await readAll('acme', T0);
        let chunks = 0;
        await store.attribution.readColumns('acme', T0, () => { chunks++; });
        assert.equal(chunks, 20);
        assert.equal(await store.attribution.compactColumns('acme'), 20);
        chunks = 0;
        await store.attribution.readColumns('acme', T0, () => { chunks++; });
        assert.equal(chunks, 1);
        assert.deepEqual(await readAll('acme', T0), before);
        assert.equal(await store.attribution.compactColumns('acme'), 0, 'a second compaction finds nothing to merge');
        assert.equal((await readAll('globex', T0)).length, 10, 'the other workspace is untouched');
      });

      it('visits every event once, in order, when a compaction merges the chunks while they are read, and lets other work run meanwhile', async () => {
        for (let i = 0; i < 30; i++) await store.events.append({ events: [event('acme', { visitorId: `v${i}` })], rejections: [] });
        const expected = (await readAll('acme', T0)).map((e) => e.id);
        const visited: number[] = [];
        let compacted: Promise<number> | null = null;
        let ticks = 0;
        const ticking = setInterval(() => { ticks++; }, 0);
        try {
          await store.attribution.readColumns('acme', T0, (c) => {
            for (let i = 0; i < c.n; i++) visited.push(c.id[i]!);
            // After the third chunk, the rest (and those read) are merged into one.
            if (visited.length === 3) compacted = store.attribution.compactColumns('acme');
          });
        } finally {
          clearInterval(ticking);
        }
        assert.equal(await compacted, 30);
        assert.deepEqual(visited, expected);
        assert.ok(ticks > 0, 'timers ran while the chunks were read');
      });

      it('numbers the ids of every event read (readNumberedColumns) with one interner across chunks, and reads as readColumns does', async () => {
        const userIds = ['', 'ü-7 "quoted"', null, 'u1'];
        for (let i = 0; i < 12; i++) {
          await store.events.append({ events: [event(i % 3 === 0 ? 'globex' : 'acme', {
            type: i % 2 === 0 ? 'view' : 'conversion', visitorId: `v${i % 4}`, sessionId: i % 5 === 0 ? null : `s${i % 2}`, userId: userIds[i % 4]!,
            optimization: i % 2 === 0 ? 'hero' : null, variation: i % 2 === 0 ? 'bold' : null, idempotencyKey: `order-${i}`, receivedAt: i === 7 ? T0 + HOUR : T0,
          })], rejections: [] });
        }
        const plain = await readAll('acme', T0);
        const seen: ScannedEvent[] = [];
        const numbered: Record<string, number>[] = [];
        const read = await store.attribution.readNumberedColumns('acme', T0, (c, numbers, total) => {
          assert.ok(total >= c.n);
          for (let i = 0; i < c.n; i++) {
            seen.push(eventAt(c, i));
            const of = (f: keyof typeof REF) => numbers[c.refs[REF[f] * c.n + i]!]!;
            numbered.push({ visitorId: of('visitorId'), sessionId: of('sessionId'), userId: of('userId'), userDomain: of('userDomain'),
              optimization: of('optimization'), variation: of('variation'), name: of('name'), idempotencyKey: of('idempotencyKey') });
          }
        });
        assert.deepEqual(seen, plain);
        assert.deepEqual({ last: read.last, skipped: read.skipped }, await store.attribution.readColumns('acme', T0, () => {}));
        assert.equal(read.skipped, 1);
        seen.forEach((e, i) => {
          for (const f of ['visitorId', 'sessionId', 'userId', 'userDomain', 'optimization', 'variation'] as const) {
            const k = numbered[i]![f]!;
            if (e[f] === null) continue;
            assert.ok(k >= 0, `${f} of event ${e.id} is numbered`);
            assert.equal(read.strings.name(k), e[f], `${f} of event ${e.id}`);
          }
          assert.equal(numbered[i]!.idempotencyKey, -1, 'idempotency keys are not ids to number');
        });
        assert.equal(read.strings.size, new Set(seen.flatMap((e) => [e.visitorId, e.sessionId, e.userId, e.userDomain, e.optimization, e.variation]).filter((x) => x !== null)).size,
          'one number per distinct id, the same in every chunk');
      });

      it('visits every event that carries one of the ids wanted (as visitor, session or user id) when asked for a few', async () => {
        const events = Array.from({ length: 40 }, (_, i) => event('acme', {
          visitorId: `v${i % 9}`, sessionId: i % 4 === 0 ? null : `s${i % 5}`, userId: i % 6 === 0 ? `ü${i % 4}` : null, receivedAt: T0,
        }));
        for (let at = 0; at < events.length; at += 7) await store.events.append({ events: events.slice(at, at + 7), rejections: [] });
        const all = await readAll('acme', T0);
        for (const ids of [['v3'], ['s2', 'ü0'], ['v1', 'nobody'], ['nobody']]) {
          const seen: ScannedEvent[] = [];
          await store.attribution.readColumns('acme', T0, (c) => { for (let i = 0; i < c.n; i++) seen.push(eventAt(c, i)); }, 0, { ids });
          const carries = (e: ScannedEvent) => [e.visitorId, e.sessionId, e.userId].some((x) => x !== null && ids.includes(x));
          assert.deepEqual(seen.filter(carries), all.filter(carries), ids.join(', '));
        }
      });

      it('merges small chunks as they are written, once they add up to a full one, without a compaction', async () => {
        const events = (from: number) => Array.from({ length: 1000 }, (_, i) => event('acme', { visitorId: `v${(from + i) % 997}`, receivedAt: T0 }));
        for (let g = 0; g < 70; g++) await store.events.append({ events: events(g * 1000), rejections: [] });
        const sizes: number[] = [];
        await store.attribution.readColumns('acme', T0, (chunk) => { sizes.push(chunk.n); });
        assert.equal(sizes.reduce((a, b) => a + b, 0), 70_000);
        assert.ok(sizes.length <= 10, `70 appends of 1,000 read as ${sizes.length} chunks (${sizes.join(', ')})`);
        assert.ok(sizes[0]! >= 50_000, `the first chunk holds the merged appends (${sizes[0]})`);
      });
    });

    describe('attribution outcomes', () => {
      const run = (workspaceId: string) => ({
        workspaceId, mode: 'full' as const, until: T0, startedAt: T0, finishedAt: T0, conversionsProcessed: 0, attributed: 0,
        notAttributed: 0, changed: 0, newlyAttributed: 0, unattributed: 0,
      });
      /** Data quality figures of a run that judged n conversions, all matched. */
      const quality = (n: number) => ({
        matchRate: { overall: { conversions: n, matched: n, matchRate: 1 }, byUserDomain: { crm: { conversions: n, matched: n, matchRate: 1 } }, byDialect: {} },
        ingestionLagMs: { optimize: { p50: 10, p90: 20, p99: 30, max: n } },
      });
      /** A run's writes: outcomes (in event id order) attributed to these variations, and withdrawals. */
      const writes = (outcomes: [number, string][], withdrawn: number[] = []) => {
        const w = new RunWrites();
        for (const [eventId, variation] of outcomes) {
          w.add({
            eventId, reason: null, goalId: 1, fingerprint: eventId * 7 + variation.length,
            attributions: [{ optimization: 'hero', variation, viewedAt: T0, visitorId: `v${eventId}` }], visitors: [`v${eventId}`], deciding: null,
          });
        }
        for (const id of withdrawn) w.withdraw(id, { reason: null, attributions: [] });
        return w;
      };

      it('keeps every outcome of a large run, then applies a later run\'s changes and withdrawals only', async () => {
        const ids = Array.from({ length: 10_000 }, (_, i) => 3 * i + 1);
        const first = await store.attribution.commitRun(run('acme'), writes(ids.map((id) => [id, 'bold'])), quality(10_000));
        await store.attribution.commitRun(run('globex'), writes([[1, 'other']]), quality(1));
        const all = await store.attribution.outcomes('acme');
        assert.equal(all.size, 10_000);
        assert.deepEqual(all.get(29_998), {
          eventId: 29_998, outcome: 'attributed', reason: null, goalId: 1, runId: first.id,
          attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T0, visitorId: 'v29998' }], detail: { visitors: ['v29998'], deciding: null },
        });
        // Changed outcomes anywhere (and new ones before, between and after the known ids), and withdrawals.
        const second = await store.attribution.commitRun(run('acme'), writes([[0, 'new'], [1, 'control'], [15_001, 'control'], [15_002, 'new'], [40_000, 'new']], [4, 29_998]), quality(10_001));
        const after = await store.attribution.outcomes('acme');
        assert.equal(after.size, 10_000 + 3 - 2);
        assert.deepEqual([1, 15_001, 0, 15_002, 40_000].map((id) => [after.get(id)!.attributions[0]!.variation, after.get(id)!.runId]),
          [['control', second.id], ['control', second.id], ['new', second.id], ['new', second.id], ['new', second.id]]);
        assert.equal(after.get(7)!.runId, first.id, 'an unchanged outcome keeps the run that wrote it');
        assert.equal(after.has(4) || after.has(29_998), false);
        assert.equal(await store.attribution.outcome('acme', 29_998), null);
        assert.equal((await store.attribution.outcome('acme', 15_002))!.attributions[0]!.variation, 'new');
        assert.deepEqual([...(await store.attribution.outcomesOf('acme', [7, 4, 40_000])).keys()].sort((a, b) => a - b), [7, 40_000]);
        const prints = await store.attribution.fingerprints('acme');
        assert.equal(prints.ids.length, after.size);
        assert.deepEqual([...prints.ids], [...after.keys()].sort((a, b) => a - b), 'every stored outcome, in event id order');
        const printOf = (id: number) => prints.prints[prints.ids.indexOf(id)];
        assert.equal(printOf(15_001), 15_001 * 7 + 'control'.length);
        assert.equal(printOf(10), 10 * 7 + 'bold'.length);
        assert.equal((await store.attribution.outcome('globex', 1))!.attributions[0]!.variation, 'other', 'the other workspace is untouched');
      });

      it('changes the outcomes\' version of a workspace with every run that writes or withdraws one, and only then', async () => {
        const v0 = await store.attribution.outcomesVersion('acme');
        await store.attribution.commitRun(run('acme'), writes([[1, 'bold'], [2, 'bold']]), quality(2));
        const v1 = await store.attribution.outcomesVersion('acme');
        assert.notEqual(v1, v0, 'outcomes written');
        await store.attribution.commitRun(run('acme'), writes([]), quality(2));
        assert.equal(await store.attribution.outcomesVersion('acme'), v1, 'a run that wrote nothing');
        await store.attribution.commitRun(run('globex'), writes([[1, 'other']]), quality(1));
        assert.equal(await store.attribution.outcomesVersion('acme'), v1, 'another workspace\'s run');
        await store.attribution.commitRun(run('acme'), writes([], [2]), quality(1));
        const v2 = await store.attribution.outcomesVersion('acme');
        assert.ok(v2 !== v1 && v2 !== v0, 'an outcome withdrawn');
        await store.attribution.commitRun(run('acme'), writes([[1, 'control']]), quality(1));
        assert.ok(![v0, v1, v2].includes(await store.attribution.outcomesVersion('acme')), 'an outcome rewritten');
      });

      it('keeps the data quality figures of each workspace\'s latest run', async () => {
        assert.equal(await store.attribution.dataQuality('acme'), null, 'none before the first run');
        await store.attribution.commitRun(run('acme'), writes([[1, 'bold']]), quality(1));
        const second = await store.attribution.commitRun(run('acme'), writes([]), quality(2));
        await store.attribution.commitRun(run('globex'), writes([]), quality(7));
        const latest = await store.attribution.dataQuality('acme');
        assert.deepEqual(latest, { run: second, figures: quality(2) });
        assert.equal((await store.attribution.dataQuality('globex'))!.figures.ingestionLagMs.optimize!.max, 7);
      });

      it('records a run\'s restatement: new, changed and withdrawn outcomes, with what each was and became', async () => {
        await store.attribution.commitRun(run('acme'), writes([[1, 'bold'], [2, 'bold']]), quality(2));
        const w = writes([[1, 'control'], [3, 'bold']]);
        w.restate(0, { reason: null, attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: 0, visitorId: 'v1' }] });
        w.restate(1, null);
        w.withdraw(2, { reason: 'no_view_before_conversion', attributions: [] });
        const second = await store.attribution.commitRun({ ...run('acme'), changed: w.changes }, w, quality(3));
        const changes: OutcomeChange[] = [];
        const recorded = await store.attribution.run('acme', second.id, (chunk) => changes.push(...chunk));
        assert.equal(recorded!.changed, 3);
        assert.equal(await store.attribution.outcome('acme', 2), null, 'the withdrawn outcome is gone');
        assert.equal((await store.attribution.outcome('acme', 1))!.runId, second.id);
        const attributed = (variation: string, visitorId: string, viewedAt = T0) => ({
          outcome: 'attributed', reason: null, attributions: [{ optimization: 'hero', variation, viewedAt, visitorId }],
        });
        assert.deepEqual(changes.sort((a, b) => a.eventId - b.eventId), [
          { eventId: 1, before: attributed('bold', 'v1', 0), after: attributed('control', 'v1') },
          { eventId: 2, before: { outcome: 'not_attributed', reason: 'no_view_before_conversion', attributions: [] }, after: null },
          { eventId: 3, before: null, after: attributed('bold', 'v3') },
        ]);
      });

      it('keeps what a run\'s restatement says each outcome became, after later runs replace, rewrite or withdraw it', async () => {
        const attributed = (variation: string, eventId: number) => ({ reason: null, attributions: [{ optimization: 'hero', variation, viewedAt: T0, visitorId: `v${eventId}` }] });
        const restated = (list: [number, string][]) => {
          const w = writes(list);
          list.forEach((_, i) => w.restate(i, null));
          return w;
        };
        const first = await store.attribution.commitRun(run('acme'), restated([[1, 'bold'], [2, 'bold'], [3, 'bold'], [4, 'bold']]), quality(4));
        // The second run: 1 becomes control, 2 is withdrawn, 3 is rewritten as it was (a new explanation: no restatement), 4 stays.
        const second = writes([[1, 'control'], [3, 'bold']]);
        second.restate(0, attributed('bold', 1));
        second.withdraw(2, attributed('bold', 2));
        const secondRun = await store.attribution.commitRun(run('acme'), second, quality(4));
        // The third: 3 becomes control.
        const third = writes([[3, 'control']]);
        third.restate(0, attributed('bold', 3));
        const thirdRun = await store.attribution.commitRun(run('acme'), third, quality(4));
        const changesOf = async (id: number) => {
          const changes: OutcomeChange[] = [];
          await store.attribution.run('acme', id, (chunk) => changes.push(...chunk));
          return changes.map((c) => [c.eventId, c.before?.attributions[0]?.variation ?? null, c.after?.attributions[0]?.variation ?? null]);
        };
        assert.deepEqual(await changesOf(first.id), [[1, null, 'bold'], [2, null, 'bold'], [3, null, 'bold'], [4, null, 'bold']], 'as the first run wrote them');
        assert.deepEqual(await changesOf(secondRun.id), [[1, 'bold', 'control'], [2, 'bold', null]]);
        assert.deepEqual(await changesOf(thirdRun.id), [[3, 'bold', 'control']]);
      });
    });

    describe('meta', () => {
      it('answers null for an unset key, then the latest value set', async () => {
        assert.equal(await store.meta.get('admin_token_sha256'), null);
        await store.meta.set('admin_token_sha256', 'abc');
        assert.equal(await store.meta.get('admin_token_sha256'), 'abc');
        await store.meta.set('admin_token_sha256', 'def');
        assert.equal(await store.meta.get('admin_token_sha256'), 'def');
      });
    });

    describe('lifecycle', () => {
      it('answers ping while open and not after close', async () => {
        assert.equal(await store.ping(), true);
        await store.close();
        assert.equal(await store.ping(), false);
      });

      it('writes appends still queued when close is called, and refuses appends after it', async () => {
        const pending = Array.from({ length: 25 }, (_, i) =>
          store.events.append({ events: [event('acme', { idempotencyKey: `late-${i}` })], rejections: [rejection('acme', { message: `r${i}` })] }));
        await store.close();
        const outcomes = await Promise.all(pending);
        assert.deepEqual(outcomes.map(([o]) => o!.status), Array(25).fill('stored'));
        await assert.rejects(store.events.append({ events: [event('acme')], rejections: [] }), isStoreUnavailable);
        if (opened.reopen === undefined) return;
        const again = await opened.reopen();
        try {
          const ids = outcomes.map(([o]) => o!.event.id);
          for (let i = 0; i < 25; i++) assert.deepEqual((await again.events.findByIdempotencyKey('acme', `late-${i}`))?.id, ids[i]);
          assert.equal((await again.rejections.list('acme', { limit: 100 })).length, 25);
        } finally {
          await again.close();
        }
      });

      it('keeps everything across a close and a reopen', async (t) => {
        if (opened.reopen === undefined) {
          t.skip('this driver cannot reopen its database');
          return;
        }
        const k = await store.keys.create(apiKey('acme'));
        const g = await store.goals.create('acme', 'signup', 'Signup', T0);
        const [o] = await store.events.append({ events: [event('acme', { idempotencyKey: 'kept' })], rejections: [] });
        await store.meta.set('m', 'v');
        await store.close();
        const again = await opened.reopen();
        try {
          assert.deepEqual(await again.keys.findByHash(k.hash), k);
          assert.deepEqual(await again.goals.get('acme', g.id), g);
          assert.deepEqual(await again.events.get('acme', stored(o!).id), stored(o!));
          assert.equal(await again.meta.get('m'), 'v');
          const [dup] = await again.events.append({ events: [event('acme', { idempotencyKey: 'kept' })], rejections: [] });
          assert.deepEqual(dup, { status: 'existing', event: stored(o!) });
        } finally {
          await again.close();
        }
      });
    });
  });
}
