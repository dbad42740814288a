/**
 * One valid request for every ingestion route, carrying events a ledger can follow: each event
 * has a ledger key that is its idempotency key as stored, or — for the Web Analyzer batch, whose
 * events have none — a `ref` property. `storedKey` reads that key back from a stored event.
 */
export interface Tenant {
  id: string;
  serverKey: string;
  browserKey: string;
}

export interface IngestCall {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The ledger keys of the events this request carries. */
  keys: string[];
}

export interface IngestRoute {
  /** "native batch", "collect", …: names the route in messages. */
  name: string;
  /** How many events one request may carry (1: single-event route). */
  maxBatch: number;
  /** Whether a repeat of a stored request is recognised (false: the Web Analyzer batch, whose events carry no idempotency key). */
  idempotent: boolean;
  /** A request carrying `n` new events whose ledger keys start with `tag`. */
  call(t: Tenant, tag: string, n: number, at: number): IngestCall;
  /** Pulls the error code out of this route's error body. */
  errorCode(body: any): unknown;
}

/** The visitor the collect events come from (their stored key is `collect:<visitor>:<id>`). */
export const VISITOR = '0f8fad5b-d9cb-469f-a165-70867728950e';

const json = { 'content-type': 'application/json' };
const keysOf = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
const nativeEvent = (key: string) => ({ type: 'conversion', name: 'signup', visitorId: `v-${key}`, value: 10 });
const convultraEvent = (key: string) => ({ event_type: 'purchase', session_id: `s-${key}`, properties: { order_id: key, value: 5, currency: 'EUR' } });
const webanalyzerEvent = (key: string) => ({ name: 'purchase', visitor_id: VISITOR, payload: { ref: key, amount: 5 } });

/** The dialects' error codes: native and collect `{error: {code}}`, optimize `{error: code}`, convultra `{code}`, webanalyzer `{error}` named by status. */
const nested = (b: any) => b?.error?.code;
const flat = (b: any) => b?.error;

export const INGEST_ROUTES: IngestRoute[] = [
  {
    name: 'native single', maxBatch: 1, idempotent: true, errorCode: nested,
    call: (t, tag) => {
      const [key] = keysOf(tag, 1) as [string];
      return { url: '/v1/events', headers: { ...json, authorization: `Bearer ${t.serverKey}`, 'idempotency-key': key }, body: JSON.stringify(nativeEvent(key)), keys: [key] };
    },
  },
  {
    name: 'native batch', maxBatch: 500, idempotent: true, errorCode: nested,
    call: (t, tag, n) => {
      const keys = keysOf(tag, n);
      return { url: '/v1/events', headers: { ...json, authorization: `Bearer ${t.serverKey}` }, body: JSON.stringify({ events: keys.map((k) => ({ ...nativeEvent(k), idempotencyKey: k })) }), keys };
    },
  },
  {
    name: 'optimize /event', maxBatch: 1, idempotent: true, errorCode: flat,
    call: (t, tag, _n, at) => {
      const [key] = keysOf(tag, 1) as [string];
      const body = { customerId: t.id, eventName: 'signup', userDomain: 'crm', userId: `u-${key}`, actionId: key, actionTimestamp: at - 60_000, value: 10 };
      return { url: '/event', headers: { ...json, authorization: `ApiKey ${t.serverKey}` }, body: JSON.stringify(body), keys: [key] };
    },
  },
  {
    name: 'optimize /customer/{id}/event', maxBatch: 1, idempotent: true, errorCode: flat,
    call: (t, tag, _n, at) => {
      const [key] = keysOf(tag, 1) as [string];
      const body = { eventName: 'signup', userDomain: 'crm', userId: `u-${key}`, actionId: key, actionTimestamp: at - 60_000 };
      return { url: `/customer/${t.id}/event`, headers: { ...json, authorization: `ApiKey ${t.serverKey}` }, body: JSON.stringify(body), keys: [key] };
    },
  },
  {
    name: 'convultra track', maxBatch: 1, idempotent: true, errorCode: (b) => b?.code,
    call: (t, tag) => {
      const [key] = keysOf(tag, 1) as [string];
      return { url: '/v1/track', headers: { ...json, authorization: `Bearer ${t.serverKey}` }, body: JSON.stringify(convultraEvent(key)), keys: [key] };
    },
  },
  {
    name: 'convultra batch', maxBatch: 100, idempotent: true, errorCode: (b) => b?.code,
    call: (t, tag, n) => {
      const keys = keysOf(tag, n);
      return { url: '/v1/track/batch', headers: { ...json, authorization: `Bearer ${t.serverKey}` }, body: JSON.stringify({ events: keys.map(convultraEvent) }), keys };
    },
  },
  {
    name: 'webanalyzer track', maxBatch: 1, idempotent: true, errorCode: flat,
    call: (t, tag) => {
      const [key] = keysOf(tag, 1) as [string];
      return { url: `/api/v1/websites/${t.id}/track`, headers: { ...json, authorization: `Bearer ${t.serverKey}`, 'idempotency-key': key }, body: JSON.stringify(webanalyzerEvent(key)), keys: [key] };
    },
  },
  {
    name: 'webanalyzer batch', maxBatch: 25, idempotent: false, errorCode: flat,
    call: (t, tag, n) => {
      const keys = keysOf(tag, n);
      return { url: `/api/v1/websites/${t.id}/track/batch`, headers: { ...json, authorization: `Bearer ${t.serverKey}` }, body: JSON.stringify({ events: keys.map(webanalyzerEvent) }), keys };
    },
  },
  {
    name: 'collect', maxBatch: 100, idempotent: true, errorCode: nested,
    call: (t, tag, n, at) => {
      // Collect ids are 8 to 64 of [A-Za-z0-9_-].
      const ids = keysOf(`c_${tag}`, n).map((k) => k.replace(/[^A-Za-z0-9_-]/g, '_').padEnd(8, '_'));
      const body = { key: t.browserKey, visitorId: VISITOR, sessionId: 's1', sentAt: at, events: ids.map((id) => ({ id, type: 'pageview', time: at - 1000, url: 'https://shop.example/p' })) };
      return { url: '/collect', headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example' }, body: JSON.stringify(body), keys: ids.map((id) => `collect:${VISITOR}:${id}`) };
    },
  },
];

/** The route's error code a store failure gives: Web Analyzer names errors by HTTP status. */
export function unavailableCode(route: IngestRoute): string {
  return route.name.startsWith('webanalyzer') ? 'service_unavailable' : 'store_unavailable';
}

/** The ledger key of a stored event (as the admin API lists it). */
export function storedKey(e: { id: number; idempotencyKey: string | null; properties: Record<string, unknown> | null }): string {
  const ref = e.properties?.ref;
  return e.idempotencyKey ?? (typeof ref === 'string' ? ref : `(no key: event ${e.id})`);
}

/**
 * How many times each ledger key is stored in a workspace, read through the admin API page by
 * page with `get` (in-process or over HTTP).
 */
export async function storedKeyCounts(get: (url: string) => Promise<{ events: Parameters<typeof storedKey>[0][]; next: number | null }>, workspace: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after: number | null = null;
  for (;;) {
    const page = await get(`/admin/v1/workspaces/${workspace}/events?limit=1000${after === null ? '' : `&after=${after}`}`);
    for (const e of page.events) {
      const k = storedKey(e);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    if (page.next === null) return counts;
    after = page.next;
  }
}
