/**
 * The tenant matrix: every endpoint × two workspaces × every state a credential can be in (valid,
 * revoked, the other workspace's, a browser key on a server endpoint and a server key on
 * /collect, the admin token where a key belongs and a key where the admin token belongs, none,
 * garbage) × the workspace's own ids and the other tenant's (workspace, customer and website ids,
 * goal, optimization, key, run and rejection ids, conversion and idempotency keys, visitors and
 * users, in paths, bodies and queries). Nothing may read or write the other tenant's data: the
 * test counts such successes and asserts there are none, and that the other tenant's data is
 * exactly as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, testApp, type TestApp } from '../helpers/app.js';
import { ENDPOINTS, T0, build, seed, type Built, type Endpoint, type Fixture, type Send } from './endpoints.js';
import { figure } from './profile.js';

interface Tenant {
  f: Fixture;
  /** In every name, session id, variation key, property and URL of the tenant's data; in no request of the other tenant. */
  secret: string;
  revokedServerKey: string;
  revokedBrowserKey: string;
  /** Idempotency keys of stored events, for the other tenant to reuse. */
  storedKeys: string[];
  /** A browser event of the tenant's (its visitor and event id), for the other tenant to repeat. */
  collectEvent: { visitorId: string; id: string };
  rejectionIds: number[];
}

type CredKind = 'server' | 'browser' | 'admin' | 'none';
interface Cred { name: string; secret: string | null; kind: CredKind; live: boolean; owner: Tenant | null }

/** Routes whose path or body names the workspace the request is for (beyond the key's own). */
const WORKSPACE_REFERENCE = new Set(['POST /event', 'POST /customer/:customerId/event', 'POST /api/v1/websites/:websiteId/track', 'POST /api/v1/websites/:websiteId/track/batch']);

function allowed(ep: Endpoint, c: Cred): boolean {
  if (ep.kind === 'ops') return true;
  if (ep.kind === 'admin') return c.kind === 'admin';
  return c.live && c.kind === (ep.kind === 'browser' ? 'browser' : 'server');
}

describe('tenant matrix (in-process)', () => {
  let t: TestApp;
  let send: Send;
  let A: Tenant;
  let B: Tenant;
  let n = 500_000;

  const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const get = async (url: string) => {
    const res = await send('GET', `/admin/v1${url}`, adminHeaders);
    assert.equal(res.status, 200, `${url}: ${res.raw}`);
    return res.body;
  };

  async function tenant(ws: string, secret: string): Promise<Tenant> {
    const f = await seed(send, ADMIN_TOKEN, ws, { rateLimitPerMinute: 100_000, monthlyQuota: 1_000_000 }, ws, secret);
    const revoked = async (kind: string) => {
      const k = await send('POST', `/admin/v1/workspaces/${ws}/keys`, { ...adminHeaders, 'content-type': 'application/json' }, JSON.stringify({ name: `${secret} revoked ${kind}`, kind }));
      const gone = await send('DELETE', `/admin/v1/workspaces/${ws}/keys/${k.body.id as string}`, adminHeaders);
      assert.equal(gone.body.status, 'revoked', gone.raw);
      return k.body.key as string;
    };
    const storedKeys = Array.from({ length: 12 }, (_, i) => `${ws}-key-${i}`);
    const server = { authorization: `Bearer ${f.serverKey}`, 'content-type': 'application/json' };
    const events = storedKeys.map((k, i) => ({ type: 'conversion', name: f.goalName, visitorId: f.visitorId, idempotencyKey: k, value: i, timestamp: T0 - 1000, properties: { note: `${secret}-stored-${i}` } }));
    assert.equal((await send('POST', '/v1/events', server, JSON.stringify({ events }))).status, 200);
    const collectEvent = { visitorId: '550e8400-e29b-41d4-a716-00000000c011', id: `evt_${ws}_0001` };
    const beacon = { key: f.browserKey, visitorId: collectEvent.visitorId, sentAt: T0, events: [{ id: collectEvent.id, type: 'custom', name: f.goalName, time: T0 - 500, properties: { note: `${secret}-browser` } }] };
    assert.equal((await send('POST', '/collect', { 'content-type': 'text/plain' }, JSON.stringify(beacon))).status, 200);
    // Two refused events, kept in the quarantine.
    await send('POST', '/v1/events', server, JSON.stringify({ type: 'conversion', name: f.goalName, value: `${secret}-not-a-number` }));
    await send('POST', '/v1/track', server, JSON.stringify({ event_type: 'purchase', timestamp: `${secret}-not-a-time` }));
    const rejectionIds = ((await get(`/workspaces/${ws}/rejections`)).rejections as { id: number }[]).map((r) => r.id);
    assert.equal(rejectionIds.length, 2);
    return { f, secret, revokedServerKey: await revoked('server'), revokedBrowserKey: await revoked('browser'), storedKeys, collectEvent, rejectionIds };
  }

  before(async () => {
    t = await testApp();
    send = async (method, url, headers, body) => {
      const r = await t.call({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: body } : {}) });
      return { status: r.status, body: r.body, raw: r.raw };
    };
    A = await tenant('acme', 'Zq7acmeSECRET');
    B = await tenant('globex', 'Zq7globexSECRET');
    // Ids the other tenant forges must not happen to be its own.
    assert.notEqual(A.f.goalId, B.f.goalId);
    assert.notEqual(A.f.runId, B.f.runId);
    assert.deepEqual(A.rejectionIds.filter((id) => B.rejectionIds.includes(id)), []);
  });
  after(async () => { await t.close(); });

  /** Everything the admin API shows of a tenant, to compare before and after the other's requests. */
  async function snapshot(x: Tenant): Promise<string> {
    const ws = x.f.ws;
    const parts: unknown[] = [];
    for (const url of ['', '/keys', '/goals', '/optimizations', `/optimizations/${x.f.optimization}/results`, '/rejections?limit=1000', '/attribution/runs',
      `/attribution/runs/${x.f.runId}`, `/conversions/${x.f.conversionKey}`, '/data-quality', `/visitors/${x.f.visitorId}`, `/users/${x.f.userDomain}/${x.f.userId}`]) {
      parts.push(await get(`/workspaces/${ws}${url}`));
    }
    for (let after: number | null = null; ;) {
      const page = await get(`/workspaces/${ws}/events?limit=1000${after === null ? '' : `&after=${after}`}`);
      parts.push(page.events);
      if (page.next === null) break;
      after = page.next as number;
    }
    return JSON.stringify(parts);
  }

  /** What an answer shows of tenant `x`'s data: its secret content, or its workspace id as a record's. */
  function shows(raw: string, x: Tenant): boolean {
    const ws = x.f.ws;
    return raw.includes(x.secret) || raw.includes(`"workspaceId":"${ws}"`) || raw.includes(`"workspace":"${ws}"`) || raw.includes(`workspace="${ws}"`);
  }

  /** A browser key's remaining requests this minute, through a dry run (which stores nothing). */
  async function remaining(x: Tenant): Promise<number> {
    const res = await t.call({ method: 'POST', url: '/v1/events?dryRun=true', headers: { authorization: `Bearer ${x.f.serverKey}`, 'content-type': 'application/json' }, payload: { type: 'pageview', visitorId: 'probe' } });
    assert.equal(res.status, 200, res.raw);
    return Number(res.headers['ratelimit-remaining']);
  }

  /**
   * The request of `ep` for tenant `p`, naming tenant `v`'s ids where the endpoint takes any (in
   * the path, the body or the query), or null when it names no id of a tenant but the key's own.
   */
  function forged(ep: Endpoint, p: Tenant, v: Tenant, cred: Cred): Built | null {
    if (ep.kind === 'admin') {
      // The path's workspace is p's; every other id is v's.
      const f: Fixture = { ...v.f, ws: p.f.ws, serverKey: p.f.serverKey, browserKey: p.f.browserKey, variations: p.f.variations };
      const b = build(ep, f, ++n, ADMIN_TOKEN, cred.secret);
      if (ep.name === 'POST /admin/v1/workspaces/:ws/rejections/replay') b.body = { ids: v.rejectionIds };
      if (ep.name === 'POST /admin/v1/workspaces') b.body = { id: v.f.ws, name: 'taken?' };
      return b;
    }
    if (!WORKSPACE_REFERENCE.has(ep.name)) return null;
    const f: Fixture = { ...p.f, ws: v.f.ws };
    return build(ep, f, ++n, ADMIN_TOKEN, cred.secret);
  }

  it('answers every endpoint × two workspaces × every key state with zero cross-tenant successes, and leaves the other tenant\'s data as it was', async () => {
    let requests = 0;
    const crossTenant: string[] = [];
    const unauthorized: string[] = [];
    const controlsFailed: string[] = [];
    let controls = 0;

    for (const [p, v] of [[A, B], [B, A]] as const) {
      const creds: Cred[] = [
        { name: `${p.f.ws}'s server key`, secret: p.f.serverKey, kind: 'server', live: true, owner: p },
        { name: `${p.f.ws}'s browser key`, secret: p.f.browserKey, kind: 'browser', live: true, owner: p },
        { name: `${p.f.ws}'s revoked server key`, secret: p.revokedServerKey, kind: 'server', live: false, owner: null },
        { name: `${p.f.ws}'s revoked browser key`, secret: p.revokedBrowserKey, kind: 'browser', live: false, owner: null },
        { name: `${v.f.ws}'s server key`, secret: v.f.serverKey, kind: 'server', live: true, owner: v },
        { name: `${v.f.ws}'s browser key`, secret: v.f.browserKey, kind: 'browser', live: true, owner: v },
        { name: 'the admin token', secret: ADMIN_TOKEN, kind: 'admin', live: true, owner: p },
        { name: `${p.f.ws}'s key id`, secret: p.f.keyId, kind: 'none', live: false, owner: null },
        { name: 'a made-up key', secret: `cl_sk_${'Z'.repeat(40)}`, kind: 'none', live: false, owner: null },
        { name: 'the admin token, one character short', secret: ADMIN_TOKEN.slice(0, -1), kind: 'none', live: false, owner: null },
        { name: 'no credential', secret: null, kind: 'none', live: false, owner: null },
      ];
      const victimBefore = await snapshot(v);
      const victimRemaining = await remaining(v);

      for (const ep of ENDPOINTS) {
        for (const cred of creds) {
          // The other tenant's own keys only where the request names this tenant's workspace (elsewhere they act on their own, legitimately).
          const foreignKey = cred.owner === v && cred.kind !== 'admin';
          if (foreignKey && ep.kind !== 'admin' && !WORKSPACE_REFERENCE.has(ep.name)) continue;
          if (ep.kind === 'ops' && cred.secret !== null) continue;
          for (const target of ['own', 'forged'] as const) {
            // The other tenant's key naming its own workspace is that tenant acting on its own data.
            if (target === 'forged' && foreignKey && ep.kind !== 'admin') continue;
            const req = target === 'own' ? build(ep, p.f, ++n, ADMIN_TOKEN, cred.secret) : forged(ep, p, v, cred);
            if (req === null) continue;
            const res = await send(req.method, req.url, req.headers, req.body === undefined ? undefined : JSON.stringify(req.body));
            requests++;
            const ok = res.status >= 200 && res.status < 300;
            const cell = `${ep.name} with ${cred.name} (${target} ids): ${res.status} ${res.raw.slice(0, 200)}`;
            // The only tenant whose data the request may touch: the key's own workspace, or (admin) the path's;
            // the admin token's routes without a workspace (list, create) span them all.
            const global = ep.kind === 'admin' && !ep.route.includes(':ws') && allowed(ep, cred);
            const owner = allowed(ep, cred) ? (ep.kind === 'admin' ? p : cred.owner) : null;
            for (const x of [A, B]) if (!global && x !== owner && shows(res.raw, x)) crossTenant.push(`shows ${x.f.ws}'s data: ${cell}`);
            if (ok && foreignKey) crossTenant.push(`accepted ${v.f.ws}'s key on ${p.f.ws}'s workspace: ${cell}`);
            if (ok && target === 'forged' && ep.kind !== 'admin') crossTenant.push(`accepted ${v.f.ws}'s workspace id with ${p.f.ws}'s key: ${cell}`);
            if (ok && !allowed(ep, cred)) unauthorized.push(cell);
            if (target === 'own' && allowed(ep, cred) && cred.owner !== v) {
              controls++;
              if (!ok) controlsFailed.push(cell);
            }
          }
        }
      }

      // The same idempotency keys, per workspace: p reusing v's keys stores p's own event, never answers with v's.
      for (const [i, make] of dedupeProbes(p, v).entries()) {
        const req = make(v.storedKeys[i]!);
        const res = await send(req.method, req.url, req.headers, JSON.stringify(req.body));
        requests++;
        const cell = `${req.url} reusing ${v.f.ws}'s key ${v.storedKeys[i]}: ${res.status} ${res.raw.slice(0, 200)}`;
        if (res.status !== 200 || /"duplicates?":(true|[1-9])/.test(res.raw) || shows(res.raw, v)) crossTenant.push(`answered as ${v.f.ws}'s event: ${cell}`);
        const mine = await send('GET', `/admin/v1/workspaces/${p.f.ws}/conversions/${encodeURIComponent(v.storedKeys[i]!)}`, adminHeaders);
        if (mine.status !== 200 || mine.body.conversion.workspaceId !== p.f.ws) crossTenant.push(`not stored in ${p.f.ws}: ${cell}`);
      }
      const collectRepeat = { key: p.f.browserKey, visitorId: v.collectEvent.visitorId, sentAt: T0, events: [{ id: v.collectEvent.id, type: 'custom', name: p.f.goalName, time: T0 - 500 }] };
      const repeat = await send('POST', '/collect', { 'content-type': 'text/plain' }, JSON.stringify(collectRepeat));
      requests++;
      if (repeat.status !== 200 || repeat.body.stored !== 1) crossTenant.push(`/collect repeating ${v.f.ws}'s visitor and event id: ${repeat.status} ${repeat.raw}`);

      const victimAfter = await snapshot(v);
      if (victimAfter !== victimBefore) crossTenant.push(`${v.f.ws}'s data changed while ${p.f.ws} sent its requests: ${firstDifference(victimBefore, victimAfter)}`);
      // v's rate limit was not spent by p's requests: only the probe itself took one.
      const after = await remaining(v);
      if (after !== victimRemaining - 1) crossTenant.push(`${v.f.ws}'s rate limit moved from ${victimRemaining} to ${after} during ${p.f.ws}'s requests`);
    }

    figure('tenant matrix', `${requests} requests, ${crossTenant.length} cross-tenant successes (${unauthorized.length} successes with a credential that must be refused; ${controls} own-workspace controls, ${controls - controlsFailed.length} served)`);
    assert.deepEqual(crossTenant, [], 'cross-tenant successes');
    assert.deepEqual(unauthorized, [], 'successes with a credential that must be refused');
    assert.deepEqual(controlsFailed, [], 'the own-workspace requests must succeed, or the matrix proves nothing');
  });

  /** One request per server dialect carrying `key` as its idempotency key, with p's credential. */
  function dedupeProbes(p: Tenant, _v: Tenant): ((key: string) => Built)[] {
    const byName = (name: string) => ENDPOINTS.find((e) => e.name === name)!;
    const withKey = (name: string, set: (body: any, key: string) => void, header = false) => (key: string): Built => {
      const b = build(byName(name), p.f, ++n, ADMIN_TOKEN);
      set(b.body, key);
      if (header) b.headers['idempotency-key'] = key;
      return b;
    };
    return [
      withKey('POST /v1/events', (b, k) => { b.idempotencyKey = k; }),
      withKey('POST /v1/events (batch)', (b, k) => { b.events[0].idempotencyKey = k; }),
      withKey('POST /event', (b, k) => { b.actionId = k; }),
      withKey('POST /customer/:customerId/event', (b, k) => { b.actionId = k; }),
      withKey('POST /v1/track', (b, k) => { b.properties.order_id = k; }),
      withKey('POST /v1/track (?api_key=)', (b, k) => { b.properties.order_id = k; }),
      withKey('POST /v1/track/batch', (b, k) => { b.events[0].properties.order_id = k; b.events.length = 1; }),
      withKey('POST /api/v1/websites/:websiteId/track', () => {}, true),
      withKey('POST /v1/events', (b, k) => { delete b.idempotencyKey; void k; }, true),
    ];
  }
});

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `…${a.slice(Math.max(0, i - 120), i + 120)}… became …${b.slice(Math.max(0, i - 120), i + 120)}…`;
}
