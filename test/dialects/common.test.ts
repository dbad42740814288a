import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ERROR_CATALOG, type ErrorCode } from '../../src/core/index.js';
import { testApp, type TestApp } from '../helpers/app.js';

type Body = Record<string, unknown>;
const DAY = 86_400_000;
const MB = 1_048_576;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

interface Ws { id: string; serverKey: string }

/** What differs between dialects: where to send, how to authenticate, a valid event, and the error shape. */
interface DialectCase {
  name: string;
  url: (ws: Ws) => string;
  auth: (ws: Ws) => string;
  /** A valid event, different on every call `i` so idempotency never interferes. */
  valid: (ws: Ws, now: number, i: number) => Body;
  /** A field-level refusal (400) with PII in it. */
  invalid: (ws: Ws, now: number) => Body;
  /** The dialect's answer to a request-level refusal. */
  error: (code: ErrorCode, message: string, extra?: { retryAfter?: number }) => Body;
}

const DIALECTS: DialectCase[] = [
  {
    name: 'native',
    url: () => '/v1/events',
    auth: (ws) => `Bearer ${ws.serverKey}`,
    valid: (_ws, _now, i) => ({ type: 'conversion', name: 'signup', visitorId: `v${i}` }),
    invalid: () => ({ type: 'conversion', name: 'signup', visitorId: 'v1', userData: { email: 'Jane.Doe@Example.com' }, value: 'ten' }),
    error: (code, message) => ({ ok: false, error: { code, message } }),
  },
  {
    name: 'optimize',
    url: () => '/event',
    auth: (ws) => `ApiKey ${ws.serverKey}`,
    valid: (ws, now, i) => ({ customerId: ws.id, eventName: 'deal-won', userDomain: 'crm', userId: 'u1', actionId: `a${i}`, actionTimestamp: now - 1000 }),
    invalid: (ws, now) => ({ customerId: ws.id, eventName: 'deal-won', userDomain: 'crm', userId: 'Jane.Doe@Example.com', actionId: 'bad', actionTimestamp: Math.floor(now / 1000) }),
    error: (code, message) => ({ error: code, message }),
  },
  {
    name: 'convultra',
    url: () => '/v1/track',
    auth: (ws) => `Bearer ${ws.serverKey}`,
    valid: (_ws, _now, i) => ({ event_type: 'signup', session_id: `s${i}` }),
    invalid: () => ({ event_type: 'purchase', timestamp: 'yesterday', user_data: { email: 'Jane.Doe@Example.com', phone: '+1 650 555 1212' } }),
    error: (code, message) => ({ success: false, error: message, code }),
  },
  {
    name: 'webanalyzer',
    url: (ws) => `/api/v1/websites/${ws.id}/track`,
    auth: (ws) => `Bearer ${ws.serverKey}`,
    valid: (_ws, _now, i) => ({ name: 'signup', payload: { n: i } }),
    invalid: () => ({ name: 'signup', payload: { customer: 'Jane.Doe@Example.com', nested: { a: 1 } } }),
    error: (code, message, extra) => {
      const waCode: Partial<Record<ErrorCode, string>> = {
        body_too_large: 'payload_too_large', unsupported_media_type: 'unsupported_media_type', rate_limited: 'rate_limit_exceeded',
      };
      return { ok: false, error: waCode[code] ?? code, message, ...(extra?.retryAfter !== undefined ? { retry_after: extra.retryAfter } : {}) };
    },
  },
];

describe('limits common to every dialect', () => {
  let t: TestApp;
  let n = 0;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  async function setup(d: DialectCase, settings?: Parameters<TestApp['workspace']>[1]) {
    const ws = await t.workspace(`common-${d.name}-${++n}`, settings);
    let i = 0;
    const post = (payload: Body | string, headers: Record<string, string> = {}) => t.call({
      method: 'POST', url: d.url(ws), headers: { authorization: d.auth(ws), 'content-type': 'application/json', ...headers }, payload,
    });
    const admin = (method: 'GET' | 'POST' | 'PATCH', p: string, body?: unknown) => t.admin(method, `/admin/v1/workspaces/${ws.id}${p}`, body);
    return {
      ws, post,
      sendValid: () => post(d.valid(ws, t.clock.now(), ++i)),
      events: async (): Promise<Body[]> => (await admin('GET', '/events?limit=1000')).body.events as Body[],
      rejections: async (query = ''): Promise<Body[]> => (await admin('GET', `/rejections${query}`)).body.rejections as Body[],
      patch: (settings: Body) => admin('PATCH', '', { settings }),
      replay: (body?: Body) => admin('POST', '/rejections/replay', body ?? {}),
    };
  }

  const rateHeaders = (res: { headers: Record<string, unknown> }) => ({
    limit: res.headers['ratelimit-limit'], remaining: res.headers['ratelimit-remaining'], reset: res.headers['ratelimit-reset'], retryAfter: res.headers['retry-after'],
  });

  for (const d of DIALECTS) {
    describe(d.name, () => {
      it('sends RateLimit headers on accepted and refused requests alike', async () => {
        // 3 a minute: one every 20 s, one at a time.
        const s = await setup(d, { rateLimitPerMinute: 3 });
        const ok = await s.sendValid();
        assert.equal(ok.status, 200);
        assert.deepEqual(rateHeaders(ok), { limit: '3', remaining: '0', reset: '20', retryAfter: undefined });
        t.clock.advance(20_000);
        const bad = await s.post(d.invalid(s.ws, t.clock.now()));
        assert.equal(bad.status, 400);
        assert.deepEqual(rateHeaders(bad), { limit: '3', remaining: '0', reset: '20', retryAfter: undefined });
        t.clock.advance(15_000);
        const limited = await s.sendValid();
        assert.equal(limited.status, 429);
        assert.deepEqual(rateHeaders(limited), { limit: '3', remaining: '0', reset: '5', retryAfter: '5' });
        t.clock.advance(5_000);
        const last = await s.sendValid();
        assert.deepEqual(rateHeaders(last), { limit: '3', remaining: '0', reset: '20', retryAfter: undefined });
      });

      it('uses the default of 6000 requests per minute', async () => {
        const s = await setup(d);
        const res = await s.sendValid();
        // A burst of one second's worth: 100 requests.
        assert.deepEqual(rateHeaders(res), { limit: '6000', remaining: '99', reset: '1', retryAfter: undefined });
      });

      it('answers 429 with Retry-After in its own shape, and lets requests through again as the bucket refills', async () => {
        const s = await setup(d, { rateLimitPerMinute: 2 });
        assert.equal((await s.sendValid()).status, 200);
        const limited = await s.sendValid();
        assert.equal(limited.status, 429);
        assert.equal(limited.headers['retry-after'], '30');
        assert.deepEqual(limited.body, d.error('rate_limited', 'This key is limited to 2 requests per minute; retry in 30 s.', { retryAfter: 30 }));
        t.clock.advance(29_999);
        const early = await s.sendValid();
        assert.equal(early.status, 429);
        assert.equal(early.headers['retry-after'], '1');
        t.clock.advance(1);
        assert.equal((await s.sendValid()).status, 200);
        assert.equal((await s.sendValid()).status, 429);
        assert.equal((await s.events()).length, 2);
      });

      it('refuses a body over 1 MB with 413 in its own shape, and accepts exactly 1 MB', async () => {
        const s = await setup(d);
        const event = JSON.stringify(d.valid(s.ws, t.clock.now(), 1));
        const exactly = event + ' '.repeat(MB - Buffer.byteLength(event));
        assert.equal(Buffer.byteLength(exactly), MB);
        assert.equal((await s.post(exactly)).status, 200);
        const over = await s.post(`${exactly} `);
        assert.equal(over.status, 413);
        assert.deepEqual(over.body, d.error('body_too_large', 'The request body is larger than the 1 MB limit (maxBodyBytes); send fewer events per request.'));
        assert.equal((await s.events()).length, 1);
      });

      it('refuses a Content-Type other than JSON with 415 in its own shape', async () => {
        const s = await setup(d);
        for (const type of ['application/x-www-form-urlencoded', 'text/xml', 'multipart/form-data; boundary=x']) {
          const res = await s.post('a=1', { 'content-type': type });
          assert.equal(res.status, 415, type);
          assert.deepEqual(res.body, d.error('unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.'));
        }
        assert.deepEqual(await s.events(), []);
      });

      it('keeps a refused event in the quarantine with its reason, message and body, PII hashed', async () => {
        const s = await setup(d);
        const sent = d.invalid(s.ws, t.clock.now());
        const res = await s.post(sent);
        assert.equal(res.status, 400);
        const [r] = await s.rejections();
        assert.ok(r !== undefined, 'the rejection is listed');
        assert.equal(r.dialect, d.name);
        assert.equal(r.receivedAt, t.clock.now());
        assert.equal(typeof r.code, 'string');
        assert.ok(Object.hasOwn(ERROR_CATALOG, r.code as string));
        assert.equal(typeof r.message, 'string');
        assert.ok((r.message as string).length > 10);
        assert.equal(r.replayedAt, null);
        const text = JSON.stringify(r.body);
        assert.equal(text.includes('Jane.Doe@Example.com'), false, 'no raw email in the quarantine');
        assert.equal(text.includes('jane.doe@example.com'), false);
        assert.ok(text.includes(sha256('jane.doe@example.com')), 'the email is kept as its hash');
      });

      it('keeps a body that is not JSON in the quarantine, once the key is known', async () => {
        const s = await setup(d);
        const res = await s.post('{"name": "signup", broken');
        assert.equal(res.status, 400);
        const [r] = await s.rejections();
        assert.deepEqual([r!.code, r!.body], ['invalid_json', '{"name": "signup", broken']);
      });

      it('keeps nothing in the quarantine for a request without a valid key', async () => {
        const s = await setup(d);
        const res = await t.call({ method: 'POST', url: d.url(s.ws), headers: { authorization: 'Bearer cl_sk_unknown' }, payload: d.invalid(s.ws, t.clock.now()) });
        assert.equal(res.status, 401);
        assert.deepEqual(await s.rejections(), []);
      });

      it('stores a quarantined event on replay once the quota is raised', async () => {
        const s = await setup(d, { monthlyQuota: 1 });
        assert.equal((await s.sendValid()).status, 200);
        const refused = await s.sendValid();
        assert.equal(refused.status, 402);
        const [r] = await s.rejections();
        assert.equal(r!.code, 'quota_exceeded');

        const still = await s.replay();
        assert.equal(still.status, 200);
        assert.deepEqual([still.body.replayed, still.body.stored, still.body.rejected], [1, 0, 1]);
        assert.equal((await s.rejections('?pending=true')).length, 1);

        assert.equal((await s.patch({ monthlyQuota: 10 })).status, 200);
        const replay = await s.replay();
        const events = await s.events();
        assert.equal(events.length, 2);
        assert.deepEqual(replay.body, {
          replayed: 1, stored: 1, duplicates: 0, rejected: 0, skipped: 0,
          results: [{ id: r!.id, status: 'stored', eventIds: [events[0]!.id] }],
        });
        const [after] = await s.rejections();
        assert.deepEqual([after!.replayedAt, after!.replayedEventId], [t.clock.now(), events[0]!.id]);
        assert.deepEqual(await s.rejections('?pending=true'), []);
      });

      it('skips a rejection that was already replayed', async () => {
        const s = await setup(d, { serverSideEnabled: false });
        assert.equal((await s.sendValid()).status, 403);
        await s.patch({ serverSideEnabled: true });
        const [r] = await s.rejections();
        assert.equal((await s.replay()).body.stored, 1);
        const again = await s.replay({ ids: [r!.id as number] });
        assert.equal(again.body.skipped, 1);
        assert.equal((await s.events()).length, 1);
      });
    });
  }

  describe('replay after raising maxEventAgeDays', () => {
    it('stores a native event that was too old', async () => {
      const s = await setup(DIALECTS[0]!);
      const ts = t.clock.now() - 10 * DAY;
      const res = await s.post({ type: 'conversion', name: 'signup', visitorId: 'v1', timestamp: ts, userData: { email: 'a@b.co' } });
      assert.equal(res.status, 400);
      const [r] = await s.rejections();
      assert.deepEqual([r!.code, r!.field, r!.index], ['timestamp_too_old', 'timestamp', null]);
      assert.deepEqual(r!.body, { type: 'conversion', name: 'signup', visitorId: 'v1', timestamp: ts, userData: { email: sha256('a@b.co') } });
      await s.patch({ maxEventAgeDays: 30 });
      assert.equal((await s.replay()).body.stored, 1);
      const [e] = await s.events();
      assert.deepEqual([e!.occurredAt, e!.userData], [ts, { email: sha256('a@b.co') }]);
    });

    it('stores an optimize conversion refused by the 2-day profile once the workspace allows 7 days', async () => {
      const s = await setup(DIALECTS[1]!);
      const ts = t.clock.now() - 3 * DAY;
      const res = await s.post({ customerId: s.ws.id, eventName: 'deal-won', userDomain: 'crm', userId: 'u1', actionId: 'late', actionTimestamp: ts });
      assert.equal(res.status, 400);
      await s.patch({ maxEventAgeDays: 7 });
      const replay = await s.replay();
      assert.equal(replay.body.stored, 1);
      const [e] = await s.events();
      assert.deepEqual([e!.occurredAt, e!.idempotencyKey], [ts, 'late']);
    });

    it('stores the one refused event of a convultra batch, hashed PII intact', async () => {
      const s = await setup(DIALECTS[2]!);
      const old = new Date(t.clock.now() - 9 * DAY).toISOString();
      const res = await t.call({
        method: 'POST', url: '/v1/track/batch', headers: { authorization: `Bearer ${s.ws.serverKey}` },
        payload: { events: [{ event_type: 'signup' }, { event_type: 'purchase', timestamp: old, user_data: { email: 'Buyer@Example.com' } }] },
      });
      assert.equal(res.status, 200);
      const [r] = await s.rejections();
      assert.deepEqual([r!.code, r!.index, r!.endpoint, r!.field], ['timestamp_too_old', 1, '/v1/track/batch', 'events[1].timestamp']);
      await s.patch({ maxEventAgeDays: 14 });
      assert.equal((await s.replay()).body.stored, 1);
      const [e] = await s.events();
      assert.deepEqual([e!.name, e!.userData], ['purchase', { email: sha256('buyer@example.com') }]);
    });

    it('keeps an idempotency conflict in the quarantine', async () => {
      const s = await setup(DIALECTS[0]!);
      await s.post({ type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: 'k', value: 1 });
      const res = await s.post({ type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: 'k', value: 2 });
      assert.equal(res.status, 409);
      const [r] = await s.rejections();
      assert.deepEqual([r!.code, r!.field], ['idempotency_conflict', 'idempotencyKey']);
      const replay = await s.replay();
      assert.equal(replay.body.rejected, 1);
      assert.equal(replay.body.results[0].error.code, 'idempotency_conflict');
    });
  });

  it('applies a key\'s own rateLimitPerMinute, leaving the workspace\'s other keys alone', async () => {
    const s = await setup(DIALECTS[0]!);
    const slow = await t.admin('POST', `/admin/v1/workspaces/${s.ws.id}/keys`, { name: 'slow', kind: 'server', rateLimitPerMinute: 1 });
    assert.equal(slow.status, 201);
    const send = (key: string) => t.call({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${key}` }, payload: { type: 'pageview' } });
    assert.equal((await send(slow.body.key)).status, 200);
    const limited = await send(slow.body.key);
    assert.deepEqual([limited.status, limited.headers['ratelimit-limit'], limited.headers['retry-after']], [429, '1', '60']);
    assert.equal((await send(s.ws.serverKey)).status, 200);
  });
});

describe('ERROR_CATALOG', () => {
  const codes = Object.keys(ERROR_CATALOG) as ErrorCode[];
  const SRC = fileURLToPath(new URL('../../src', import.meta.url));

  /** Every .ts file under src/. */
  function sources(dir = SRC): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
    });
  }

  it('holds every error code the source uses', () => {
    const used = new Set<string>();
    const patterns = [/\b(?:ingestError|ServiceError|fail)\(\s*'([a-z0-9_]+)'/g, /\bcode: '([a-z0-9_]+)'/g];
    for (const file of sources()) {
      const text = fs.readFileSync(file, 'utf8');
      for (const re of patterns) for (const m of text.matchAll(re)) used.add(m[1]!);
    }
    assert.ok(used.size > 20, `found ${used.size} codes in use`);
    const unknown = [...used].filter((c) => !Object.hasOwn(ERROR_CATALOG, c));
    assert.deepEqual(unknown, []);
  });

  it('defines each code once', () => {
    const text = fs.readFileSync(path.join(SRC, 'core', 'errors.ts'), 'utf8');
    const keys = [...text.matchAll(/^\s+([a-z0-9_]+): \{ status:/gm)].map((m) => m[1]!);
    assert.deepEqual(keys, codes);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('names codes in stable snake_case with an error status and a one-sentence summary each', () => {
    for (const code of codes) {
      const { status, summary } = ERROR_CATALOG[code];
      assert.match(code, /^[a-z]+(_[a-z0-9]+)*$/, code);
      assert.ok(status >= 400 && status <= 599, `${code}: ${status}`);
      assert.match(summary, /^[A-Z].*\.$/, code);
    }
    const summaries = codes.map((c) => ERROR_CATALOG[c].summary);
    assert.equal(new Set(summaries).size, summaries.length, 'each summary says something of its own');
  });

  it('gives the statuses the spec fixes', () => {
    const status = (c: ErrorCode) => ERROR_CATALOG[c].status;
    assert.deepEqual(
      [status('unauthorized'), status('quota_exceeded'), status('server_side_disabled'), status('workspace_mismatch'), status('rate_limited'), status('body_too_large'),
        status('unsupported_media_type'), status('idempotency_conflict'), status('timestamp_in_seconds'), status('timestamp_in_future'), status('timestamp_too_old'),
        status('batch_empty'), status('batch_too_large'), status('not_linkable'), status('unknown_field')],
      [401, 402, 403, 404, 429, 413, 415, 409, 400, 400, 400, 400, 400, 400, 400],
    );
  });
});
