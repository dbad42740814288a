/**
 * Every endpoint of the service with one valid request each, for the hostile-input property
 * suite and the tenant matrix. `routeTable` reads the routes Fastify actually serves, so a test can
 * check that a new route was not forgotten here.
 */
import type { FastifyInstance } from 'fastify';

/** The ids a workspace holds, from which valid requests are built. */
export interface Fixture {
  ws: string;
  serverKey: string;
  browserKey: string;
  /** A key of the workspace that may be revoked (DELETE …/keys/{id}). */
  keyId: string;
  goalId: number;
  goalName: string;
  /** A second goal, which PATCH …/goals/{id} renames (the first keeps its name). */
  spareGoalId: number;
  optimization: string;
  variations: [string, string];
  runId: number;
  /** Idempotency key of a stored conversion. */
  conversionKey: string;
  visitorId: string;
  userDomain: string;
  userId: string;
  /** A file of the dashboard's bundle (named by its content). */
  dashboardFile: string;
}

/** Where an endpoint takes its credential. */
export type Credential = 'bearer' | 'apikey' | 'query-api-key' | 'collect-body' | 'query-key' | 'admin' | 'none';

export interface Built {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** The JSON body as a value (the suite serialises it, or mutates it first). */
  body?: unknown;
}

export interface Endpoint {
  /** "POST /v1/events (batch)": unique. */
  name: string;
  method: Built['method'];
  /** Fastify's route pattern, as in the route table. */
  route: string;
  credential: Credential;
  /** The path parameters of a valid request. */
  params(f: Fixture, n: number): Record<string, string>;
  /** A valid JSON body; `n` makes its ids fresh (a new idempotency key, a new goal name). */
  body?(f: Fixture, n: number): unknown;
  /** A valid query string. */
  query?(f: Fixture, n: number): Record<string, string>;
  /** A server-side dialect, a browser endpoint, or the admin API. */
  kind: 'ingest' | 'browser' | 'admin' | 'ops';
}

/** The server's clock in every suite (CLOSELOOP_NOW / ManualClock). */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

const none = () => ({});
const wsOnly = (f: Fixture) => ({ ws: f.ws });
const uuid = (n: number) => `550e8400-e29b-41d4-a716-${(n % 1e12).toString(16).padStart(12, '0')}`;

const nativeEvent = (f: Fixture, n: number) => ({
  type: 'conversion', name: f.goalName, timestamp: T0 - 60_000, visitorId: f.visitorId, sessionId: `s-${n}`,
  userDomain: f.userDomain, userId: f.userId, value: 12.5, currency: 'USD', idempotencyKey: `native-${n}`,
  url: 'https://shop.example/thanks', referrer: 'https://search.example/', properties: { plan: 'pro', seats: 3, trial: false },
  userData: { email: 'someone@example.com', phone: '+1 650 555 0100', firstName: 'Ada', lastName: 'Lovelace', city: 'London', state: 'LDN', postalCode: 'SW1A 1AA', country: 'GB' },
});
const optimizeEvent = (f: Fixture, n: number) => ({
  eventName: f.goalName, userDomain: f.userDomain, userId: f.userId, actionId: `opt-${n}`, actionTimestamp: T0 - 60_000, value: 10,
});
const convultraEvent = (f: Fixture, n: number) => ({
  event_type: 'purchase', timestamp: new Date(T0 - 60_000).toISOString(), session_id: `s-${n}`, user_id: f.userId,
  properties: { order_id: `cv-${n}`, value: 99.5, currency: 'EUR', items: [{ sku: 'A1', qty: 2 }] },
  user_data: { email: 'someone@example.com', phone: '+44 20 7946 0000', first_name: 'Ada', last_name: 'Lovelace', city: 'London', state: 'LDN', postal_code: 'SW1A 1AA', country: 'GB' },
  context: { ip: '203.0.113.9', user_agent: 'curl/8', page_url: 'https://shop.example/', referrer: 'https://search.example/', gclid: 'g', fbclid: 'f', msclkid: 'm', session_id: `s-${n}` },
});
const webanalyzerEvent = (_f: Fixture, n: number) => ({
  name: 'purchase', payload: { order_id: `wa-${n}`, amount: '49.99', currency: 'USD', count: 2, gift: false, note: null },
  visitor_id: uuid(n), url: 'https://shop.example/', referrer: 'https://search.example/',
});
const collectEvent = (f: Fixture, n: number, type: string) => ({
  id: `evt_${n.toString(36).padStart(8, '0')}_${type}`, type, time: T0 - 2_000,
  ...(type === 'custom' ? { name: f.goalName } : {}),
  ...(type === 'view' ? { optimization: f.optimization, variation: f.variations[0] } : {}),
  ...(type === 'identify' ? { userDomain: f.userDomain, userId: f.userId } : {}),
  url: 'https://shop.example/p', referrer: 'https://search.example/', properties: { a: 'b', n: 1, ok: true },
});

/** The catalog: every route Fastify serves, with one valid request each. */
export const ENDPOINTS: readonly Endpoint[] = [
  // ---- server-side dialects -----------------------------------------------------------------
  { name: 'POST /v1/events', method: 'POST', route: '/v1/events', credential: 'bearer', kind: 'ingest', params: none, body: nativeEvent },
  { name: 'POST /v1/events (batch)', method: 'POST', route: '/v1/events', credential: 'bearer', kind: 'ingest', params: none,
    body: (f, n) => ({ events: [nativeEvent(f, n), { type: 'pageview', visitorId: f.visitorId, timestamp: new Date(T0 - 1000).toISOString(), idempotencyKey: `native-pv-${n}` }] }) },
  { name: 'POST /event', method: 'POST', route: '/event', credential: 'apikey', kind: 'ingest', params: none, body: (f, n) => ({ customerId: f.ws, ...optimizeEvent(f, n) }) },
  { name: 'POST /customer/:customerId/event', method: 'POST', route: '/customer/:customerId/event', credential: 'apikey', kind: 'ingest', params: (f) => ({ customerId: f.ws }), body: optimizeEvent },
  { name: 'POST /v1/track', method: 'POST', route: '/v1/track', credential: 'bearer', kind: 'ingest', params: none, body: convultraEvent },
  { name: 'POST /v1/track (?api_key=)', method: 'POST', route: '/v1/track', credential: 'query-api-key', kind: 'ingest', params: none, body: convultraEvent },
  { name: 'POST /v1/track/batch', method: 'POST', route: '/v1/track/batch', credential: 'bearer', kind: 'ingest', params: none,
    body: (f, n) => ({ events: [convultraEvent(f, n), { ...convultraEvent(f, n + 0.5), event_type: 'signup' }] }) },
  { name: 'POST /api/v1/websites/:websiteId/track', method: 'POST', route: '/api/v1/websites/:websiteId/track', credential: 'bearer', kind: 'ingest', params: (f) => ({ websiteId: f.ws }), body: webanalyzerEvent },
  { name: 'POST /api/v1/websites/:websiteId/track/batch', method: 'POST', route: '/api/v1/websites/:websiteId/track/batch', credential: 'bearer', kind: 'ingest', params: (f) => ({ websiteId: f.ws }),
    body: (f, n) => ({ events: [webanalyzerEvent(f, n), { name: 'signup', visitor_id: uuid(n + 1) }] }) },
  // ---- browser ------------------------------------------------------------------------------
  { name: 'POST /collect', method: 'POST', route: '/collect', credential: 'collect-body', kind: 'browser', params: none,
    body: (f, n) => ({ key: f.browserKey, visitorId: uuid(n), sessionId: `bs-${n}`, sentAt: T0 - 1_000, events: ['pageview', 'view', 'identify', 'custom'].map((t) => collectEvent(f, n, t)) }) },
  { name: 'POST /collect (?key=)', method: 'POST', route: '/collect', credential: 'query-key', kind: 'browser', params: none,
    body: (f, n) => ({ visitorId: uuid(n), sentAt: T0 - 1_000, events: [collectEvent(f, n, 'pageview'), collectEvent(f, n, 'custom')] }) },
  { name: 'GET /collect/config', method: 'GET', route: '/collect/config', credential: 'query-key', kind: 'browser', params: none, query: (f) => ({ key: f.browserKey }) },
  // ---- admin --------------------------------------------------------------------------------
  { name: 'POST /admin/v1/workspaces', method: 'POST', route: '/admin/v1/workspaces', credential: 'admin', kind: 'admin', params: none,
    body: (_f, n) => ({ id: `made-${n}`, name: `Made ${n}`, settings: { maxEventAgeDays: 30, rateLimitPerMinute: 1000, allowedOrigins: ['https://*.example.com'], attributionSchedule: '0 3 * * *', monthlyQuota: null } }) },
  { name: 'GET /admin/v1/workspaces', method: 'GET', route: '/admin/v1/workspaces', credential: 'admin', kind: 'admin', params: none },
  { name: 'GET /admin/v1/workspaces/:ws', method: 'GET', route: '/admin/v1/workspaces/:ws', credential: 'admin', kind: 'admin', params: wsOnly },
  { name: 'PATCH /admin/v1/workspaces/:ws', method: 'PATCH', route: '/admin/v1/workspaces/:ws', credential: 'admin', kind: 'admin', params: wsOnly,
    body: (_f, n) => ({ name: `Renamed ${n}`, settings: { maxClockSkewMs: 120_000, sessionTimeoutMinutes: 45, sessionMaxHours: 12, honorGlobalPrivacyControl: n % 2 === 0, attributionIntervalSeconds: null } }) },
  { name: 'POST /admin/v1/workspaces/:ws/keys', method: 'POST', route: '/admin/v1/workspaces/:ws/keys', credential: 'admin', kind: 'admin', params: wsOnly,
    body: (_f, n) => ({ name: `key ${n}`, kind: n % 2 === 0 ? 'server' : 'browser', rateLimitPerMinute: 600 }) },
  { name: 'GET /admin/v1/workspaces/:ws/keys', method: 'GET', route: '/admin/v1/workspaces/:ws/keys', credential: 'admin', kind: 'admin', params: wsOnly },
  { name: 'DELETE /admin/v1/workspaces/:ws/keys/:id', method: 'DELETE', route: '/admin/v1/workspaces/:ws/keys/:id', credential: 'admin', kind: 'admin', params: (f) => ({ ws: f.ws, id: f.keyId }) },
  { name: 'POST /admin/v1/workspaces/:ws/goals', method: 'POST', route: '/admin/v1/workspaces/:ws/goals', credential: 'admin', kind: 'admin', params: wsOnly,
    body: (_f, n) => ({ apiName: `goal-${n}`, name: `Goal ${n}` }) },
  { name: 'GET /admin/v1/workspaces/:ws/goals', method: 'GET', route: '/admin/v1/workspaces/:ws/goals', credential: 'admin', kind: 'admin', params: wsOnly },
  { name: 'PATCH /admin/v1/workspaces/:ws/goals/:id', method: 'PATCH', route: '/admin/v1/workspaces/:ws/goals/:id', credential: 'admin', kind: 'admin', params: (f) => ({ ws: f.ws, id: String(f.spareGoalId) }),
    body: (_f, n) => ({ apiName: `renamed-${n}` }) },
  { name: 'POST /admin/v1/workspaces/:ws/optimizations', method: 'POST', route: '/admin/v1/workspaces/:ws/optimizations', credential: 'admin', kind: 'admin', params: wsOnly,
    body: (f, n) => ({ key: `opt-${n}`, name: `Test ${n}`, variations: [{ key: 'a', name: 'A', weight: 1 }, { key: 'b', weight: 2.5 }], goals: [f.goalName], primaryGoal: f.goalName, control: 'a', status: 'paused' }) },
  { name: 'GET /admin/v1/workspaces/:ws/optimizations', method: 'GET', route: '/admin/v1/workspaces/:ws/optimizations', credential: 'admin', kind: 'admin', params: wsOnly },
  { name: 'GET /admin/v1/workspaces/:ws/optimizations/:key', method: 'GET', route: '/admin/v1/workspaces/:ws/optimizations/:key', credential: 'admin', kind: 'admin', params: (f) => ({ ws: f.ws, key: f.optimization }) },
  { name: 'PATCH /admin/v1/workspaces/:ws/optimizations/:key', method: 'PATCH', route: '/admin/v1/workspaces/:ws/optimizations/:key', credential: 'admin', kind: 'admin', params: (f) => ({ ws: f.ws, key: f.optimization }),
    body: (_f, n) => ({ status: (['running', 'paused', 'ended'] as const)[n % 3] }) },
  { name: 'GET /admin/v1/workspaces/:ws/optimizations/:key/results', method: 'GET', route: '/admin/v1/workspaces/:ws/optimizations/:key/results', credential: 'admin', kind: 'admin',
    params: (f) => ({ ws: f.ws, key: f.optimization }), query: (f) => ({ goal: f.goalName, from: String(T0 - 86_400_000), to: new Date(T0).toISOString() }) },
  { name: 'GET /admin/v1/workspaces/:ws/optimizations/:key/results/series', method: 'GET', route: '/admin/v1/workspaces/:ws/optimizations/:key/results/series', credential: 'admin', kind: 'admin',
    params: (f) => ({ ws: f.ws, key: f.optimization }), query: (f) => ({ goal: f.goalName, from: String(T0 - 3 * 86_400_000), to: String(T0), interval: 'day' }) },
  { name: 'GET /admin/v1/workspaces/:ws/install', method: 'GET', route: '/admin/v1/workspaces/:ws/install', credential: 'admin', kind: 'admin', params: wsOnly, query: () => ({ baseUrl: 'https://track.example.com' }) },
  { name: 'GET /admin/v1/workspaces/:ws/events', method: 'GET', route: '/admin/v1/workspaces/:ws/events', credential: 'admin', kind: 'admin', params: wsOnly,
    query: (f) => ({ type: 'conversion', name: f.goalName, dialect: 'native', visitorId: f.visitorId, userDomain: f.userDomain, userId: f.userId, after: '1000000', limit: '10' }) },
  { name: 'GET /admin/v1/workspaces/:ws/rejections', method: 'GET', route: '/admin/v1/workspaces/:ws/rejections', credential: 'admin', kind: 'admin', params: wsOnly,
    query: () => ({ after: '1000000', limit: '10', pending: 'true' }) },
  { name: 'POST /admin/v1/workspaces/:ws/rejections/replay', method: 'POST', route: '/admin/v1/workspaces/:ws/rejections/replay', credential: 'admin', kind: 'admin', params: wsOnly,
    body: (_f, n) => ({ ids: [n, n + 1] }) },
  { name: 'POST /admin/v1/workspaces/:ws/attribution/run', method: 'POST', route: '/admin/v1/workspaces/:ws/attribution/run', credential: 'admin', kind: 'admin', params: wsOnly,
    body: (_f, n) => ({ until: n % 2 === 0 ? T0 : new Date(T0).toISOString() }) },
  { name: 'GET /admin/v1/workspaces/:ws/attribution/runs', method: 'GET', route: '/admin/v1/workspaces/:ws/attribution/runs', credential: 'admin', kind: 'admin', params: wsOnly, query: () => ({ limit: '5' }) },
  { name: 'GET /admin/v1/workspaces/:ws/attribution/runs/:runId', method: 'GET', route: '/admin/v1/workspaces/:ws/attribution/runs/:runId', credential: 'admin', kind: 'admin', params: (f) => ({ ws: f.ws, runId: String(f.runId) }) },
  { name: 'GET /admin/v1/workspaces/:ws/conversions/:idempotencyKey', method: 'GET', route: '/admin/v1/workspaces/:ws/conversions/:idempotencyKey', credential: 'admin', kind: 'admin', params: (f) => ({ ws: f.ws, idempotencyKey: f.conversionKey }) },
  { name: 'GET /admin/v1/workspaces/:ws/data-quality', method: 'GET', route: '/admin/v1/workspaces/:ws/data-quality', credential: 'admin', kind: 'admin', params: wsOnly },
  { name: 'GET /admin/v1/workspaces/:ws/visitors/:visitorId', method: 'GET', route: '/admin/v1/workspaces/:ws/visitors/:visitorId', credential: 'admin', kind: 'admin', params: (f) => ({ ws: f.ws, visitorId: f.visitorId }) },
  { name: 'GET /admin/v1/workspaces/:ws/users/:userDomain/:userId', method: 'GET', route: '/admin/v1/workspaces/:ws/users/:userDomain/:userId', credential: 'admin', kind: 'admin',
    params: (f) => ({ ws: f.ws, userDomain: f.userDomain, userId: f.userId }) },
  // ---- operations and static files: no body, no query --------------------------------------
  { name: 'GET /healthz', method: 'GET', route: '/healthz', credential: 'none', kind: 'ops', params: none },
  { name: 'GET /readyz', method: 'GET', route: '/readyz', credential: 'none', kind: 'ops', params: none },
  { name: 'GET /metrics', method: 'GET', route: '/metrics', credential: 'none', kind: 'ops', params: none },
  { name: 'GET /openapi.json', method: 'GET', route: '/openapi.json', credential: 'none', kind: 'ops', params: none },
  { name: 'GET /t.js', method: 'GET', route: '/t.js', credential: 'none', kind: 'ops', params: none },
  { name: 'GET /', method: 'GET', route: '/', credential: 'none', kind: 'ops', params: none },
  { name: 'GET /dashboard/:file', method: 'GET', route: '/dashboard/:file', credential: 'none', kind: 'ops', params: (f) => ({ file: f.dashboardFile }) },
];

/**
 * Routes that take no input an attacker controls beyond headers: CORS preflights, and the API
 * documentation's static files (served by @fastify/swagger-ui).
 */
export const INPUTLESS_ROUTES: readonly string[] = ['OPTIONS /collect', 'OPTIONS /collect/config', 'GET /docs', 'GET /docs/', 'GET /docs/static/index.html', 'GET /docs/static/swagger-initializer.js', 'GET /docs/*', 'GET /docs/json', 'GET /docs/yaml'];

/** Fills a route pattern's parameters, percent-encoding each. */
export function fillRoute(route: string, params: Record<string, string>): string {
  return route.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`no value for :${name} in ${route}`);
    return encodeURIComponent(v);
  });
}

export function queryString(q: Record<string, string> | undefined): string {
  if (q === undefined || Object.keys(q).length === 0) return '';
  return `?${new URLSearchParams(q).toString()}`;
}

/** The headers and body that carry `secret` the way the endpoint expects it. */
export function withCredential(ep: Endpoint, secret: string | null, body: unknown, query: Record<string, string> | undefined): { headers: Record<string, string>; body: unknown; query: Record<string, string> | undefined } {
  const headers: Record<string, string> = {};
  if (secret === null) {
    if (ep.credential === 'collect-body' && body !== null && typeof body === 'object') {
      const { key: _key, ...rest } = body as Record<string, unknown>;
      return { headers, body: rest, query };
    }
    if ((ep.credential === 'query-key' || ep.credential === 'query-api-key') && query !== undefined) {
      const { key: _key, api_key: _apiKey, ...rest } = query;
      return { headers, body, query: rest };
    }
    return { headers, body, query };
  }
  switch (ep.credential) {
    case 'bearer':
    case 'admin':
      headers.authorization = `Bearer ${secret}`;
      break;
    case 'apikey':
      headers.authorization = `ApiKey ${secret}`;
      break;
    case 'collect-body':
      return { headers, body: { ...(body as Record<string, unknown>), key: secret }, query };
    case 'query-key':
      return { headers, body, query: { ...query, key: secret } };
    case 'query-api-key':
      return { headers, body, query: { ...query, api_key: secret } };
    case 'none':
      break;
  }
  return { headers, body, query };
}

/**
 * A valid request to `ep` for fixture `f`, authenticated with `secret` (by default the right
 * one: the server key, the browser key, or `adminToken`).
 */
export function build(ep: Endpoint, f: Fixture, n: number, adminToken: string, secret?: string | null): Built {
  const defaultSecret = ep.credential === 'admin' ? adminToken : ep.credential === 'collect-body' || ep.credential === 'query-key' ? f.browserKey : ep.credential === 'none' ? null : f.serverKey;
  const c = withCredential(ep, secret === undefined ? defaultSecret : secret, ep.body?.(f, n), ep.query?.(f, n));
  return {
    method: ep.method,
    url: fillRoute(ep.route, ep.params(f, n)) + queryString(c.query),
    headers: { ...c.headers, ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(c.body !== undefined ? { body: c.body } : {}),
  };
}

/**
 * The routes Fastify serves, as "METHOD /pattern" (HEAD, which Fastify adds to every GET, left
 * out), read from printRoutes' tree.
 */
export function routeTable(fastify: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of fastify.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(path);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD')) out.push(`${method} ${path}`);
  }
  return out.sort();
}

/** Sends one request and answers its status and parsed JSON body (in-process or over HTTP). */
export type Send = (method: string, url: string, headers: Record<string, string>, body?: string | Buffer) => Promise<{ status: number; body: any; raw: string }>;

/**
 * Creates workspace `ws` with everything the catalog's valid requests name: keys, a goal, an
 * optimization, a stored conversion, a visitor's views and an attribution run. Identifiers are
 * built from `tag`; content no request ever carries (names, session ids, variation keys, a
 * property, a URL) holds `secret`, so an answer that shows it shows the workspace's data.
 */
export async function seed(send: Send, adminToken: string, ws: string, settings: Record<string, unknown> = {}, tag = ws, secret = tag): Promise<Fixture> {
  const admin = async (method: string, url: string, body?: unknown) => {
    const res = await send(method, `/admin/v1${url}`, { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body === undefined ? undefined : JSON.stringify(body));
    if (res.status >= 300) throw new Error(`seed ${method} ${url}: ${res.status} ${res.raw}`);
    return res.body;
  };
  await admin('POST', '/workspaces', { id: ws, name: `${secret} workspace`, settings });
  const serverKey = (await admin('POST', `/workspaces/${ws}/keys`, { name: `${secret} server`, kind: 'server' })).key as string;
  const browserKey = (await admin('POST', `/workspaces/${ws}/keys`, { name: `${secret} browser`, kind: 'browser' })).key as string;
  const keyId = (await admin('POST', `/workspaces/${ws}/keys`, { name: `${secret} spare`, kind: 'server' })).id as string;
  const goalName = `${tag}-goal`;
  const goalId = (await admin('POST', `/workspaces/${ws}/goals`, { apiName: goalName, name: `${secret} goal` })).id as number;
  const spareGoalId = (await admin('POST', `/workspaces/${ws}/goals`, { apiName: `${tag}-spare-goal`, name: `${secret} spare goal` })).id as number;
  const optimization = `${tag}-opt`;
  const variations: [string, string] = [`${secret}-a`, `${secret}-b`];
  await admin('POST', `/workspaces/${ws}/optimizations`, { key: optimization, name: `${secret} test`, variations: variations.map((key) => ({ key, name: `${secret} ${key}` })), goals: [goalName] });
  const visitorId = `${tag}-visitor`;
  const userDomain = `${tag}-crm`;
  const userId = `${tag}-user`;
  const conversionKey = `${tag}-conversion`;
  const events = { events: [
    { type: 'view', visitorId, sessionId: `${secret}-session`, optimization, variation: variations[1], timestamp: T0 - 3_600_000, url: `https://shop.example/${secret}` },
    { type: 'identify', visitorId, sessionId: `${secret}-session`, userDomain, userId, timestamp: T0 - 3_500_000 },
    { type: 'conversion', name: goalName, userDomain, userId, idempotencyKey: conversionKey, value: 42, currency: 'USD', timestamp: T0 - 3_000_000, properties: { secret: `${secret}-property` } },
  ] };
  const stored = await send('POST', '/v1/events', { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json' }, JSON.stringify(events));
  if (stored.status !== 200) throw new Error(`seed events: ${stored.status} ${stored.raw}`);
  const runId = (await admin('POST', `/workspaces/${ws}/attribution/run`, { until: T0 })).runId as number;
  const page = await send('GET', '/', {});
  const dashboardFile = /\/dashboard\/([^"']+\.js)/.exec(page.raw)?.[1] ?? 'missing.js';
  return { ws, serverKey, browserKey, keyId, goalId, goalName, spareGoalId, optimization, variations, runId, conversionKey, visitorId, userDomain, userId, dashboardFile };
}
