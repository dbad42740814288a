/**
 * What the ingest benchmark sends: one scenario per dialect endpoint, single events and batches.
 * Bodies are built fresh for every request (unique idempotency keys, so nothing is a repeat) and
 * are byte for byte the same for the bare server and for closeloop.
 */

export type Kind =
  | 'native' | 'native-batch' | 'native-views' | 'optimize' | 'convultra' | 'convultra-batch'
  | 'webanalyzer' | 'webanalyzer-batch' | 'collect' | 'collect-batch';

export const KINDS: readonly Kind[] = [
  'native', 'native-batch', 'native-views', 'optimize', 'convultra', 'convultra-batch',
  'webanalyzer', 'webanalyzer-batch', 'collect', 'collect-batch',
];

/** Earlier names, still accepted by --only. */
const ALIASES: Record<string, Kind> = { batch: 'native-batch', views: 'native-views' };

/** The kinds `--only` names, or every kind; throws naming the first unknown one. */
export function kindsFrom(only: string | undefined): Kind[] {
  if (only === undefined) return [...KINDS];
  return only.split(',').map((raw) => {
    const k = raw.trim();
    const kind = ALIASES[k] ?? ((KINDS as readonly string[]).includes(k) ? k as Kind : null);
    if (kind === null) throw new Error(`--only takes ${KINDS.join(', ')}, got "${k}"`);
    return kind;
  });
}

export interface Traffic {
  path: string;
  headers: Record<string, string>;
  /** The next request's body. */
  next: () => string;
}

export interface Scenario {
  kind: Kind;
  /** As the summary names it: "native `POST /v1/events`, 100 conversions per request". */
  title: string;
  /** Events per request. */
  events: number;
  batch: boolean;
  keyKind: 'server' | 'browser';
  traffic: (ws: string, key: string, runId: string) => Traffic;
}

const PAGE = 'https://shop.example';
const json = { 'content-type': 'application/json' };

/** A UUID-shaped visitor id for visitor number `n` (the snippet's and Web Analyzer's ot_vid). */
const uuid = (n: number): string => `0f8fad5b-d9cb-469f-a165-${(n % 1_000_000).toString(16).padStart(12, '0')}`;

/** Builds `count` events for request `n` with `event(n, i, now)`. */
function many(count: number, event: (n: number, i: number, now: number) => string): (n: number, now: number) => string {
  return (n, now) => {
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(event(n, i, now));
    return parts.join(',');
  };
}

const nativeConversion = (id: string) => (n: number, i: number) =>
  `{"type":"conversion","name":"signup","visitorId":"v${(n + i) % 1000}","idempotencyKey":"${id}-${n}-${i}"}`;
const nativeView = (n: number, i: number, now: number) =>
  `{"type":"view","visitorId":"v${(n * 7 + i) % 100000}","optimization":"hero","variation":"${i % 2 === 0 ? 'control' : 'bold'}","timestamp":${now}}`;
/** reference/convultra-server-api.txt's /v1/track example, with its own order id. */
const convultraPurchase = (id: string) => (n: number, i: number, now: number) =>
  `{"event_type":"purchase","timestamp":"${new Date(now - 60_000).toISOString()}","session_id":"sess_${(n + i) % 1000}","user_id":"user_${(n + i) % 1000}",`
  + `"properties":{"order_id":"${id}-${n}-${i}","value":99.99,"currency":"USD"},"user_data":{"email":"customer${(n + i) % 1000}@example.com","phone":"+1555${String((n + i) % 1_000_000).padStart(7, '0')}"},`
  + `"context":{"ip":"203.0.113.77","user_agent":"Mozilla/5.0 (bench)","page_url":"${PAGE}/checkout"}}`;
const webAnalyzerEvent = (id: string) => (n: number, i: number) =>
  `{"name":"purchase","payload":{"order_id":"${id}-${n}-${i}","amount":"49.90","currency":"EUR"},"visitor_id":"${uuid(n + i)}","url":"${PAGE}/checkout"}`;
/** A pageview or a variation view, as the snippet sends them. */
const browserEvent = (id: string) => (n: number, i: number, now: number) => (i % 2 === 0
  ? `{"id":"${id}-${n}-${i}","type":"pageview","time":${now - 50},"url":"${PAGE}/pricing"}`
  : `{"id":"${id}-${n}-${i}","type":"view","time":${now - 40},"optimization":"hero","variation":"${n % 2 === 0 ? 'control' : 'bold'}"}`);

/** A stream of bodies: `wrap` the events of request n. */
function stream(wrap: (n: number, now: number) => string): () => string {
  let n = 0;
  return () => wrap(++n, Date.now());
}

/**
 * Every scenario, with `batchSize` events per batch request (capped at each dialect's own
 * limit: native 500, Convultra 100, Web Analyzer 25, /collect 100).
 */
export function scenarios(batchSize: number): Record<Kind, Scenario> {
  const size = (max: number) => Math.min(batchSize, max);
  const native = size(500);
  const convultra = size(100);
  const webanalyzer = size(25);
  const collect = size(100);
  return {
    native: {
      kind: 'native', title: 'native `POST /v1/events`, 1 conversion per request', events: 1, batch: false, keyKind: 'server',
      traffic: (_ws, key, id) => ({ path: '/v1/events', headers: { ...json, authorization: `Bearer ${key}` }, next: stream((n) => nativeConversion(id)(n, 0)) }),
    },
    'native-batch': {
      kind: 'native-batch', title: `native \`POST /v1/events\`, ${native} conversions per request`, events: native, batch: true, keyKind: 'server',
      traffic: (_ws, key, id) => ({ path: '/v1/events', headers: { ...json, authorization: `Bearer ${key}` }, next: stream((n, now) => `{"events":[${many(native, nativeConversion(id))(n, now)}]}`) }),
    },
    'native-views': {
      kind: 'native-views', title: `native \`POST /v1/events\`, ${native} variation views per request`, events: native, batch: true, keyKind: 'server',
      traffic: (_ws, key) => ({ path: '/v1/events', headers: { ...json, authorization: `Bearer ${key}` }, next: stream((n, now) => `{"events":[${many(native, nativeView)(n, now)}]}`) }),
    },
    optimize: {
      kind: 'optimize', title: 'Optimize `POST /event`, 1 conversion per request', events: 1, batch: false, keyKind: 'server',
      traffic: (ws, key, id) => ({
        path: '/event', headers: { ...json, authorization: `ApiKey ${key}` },
        next: stream((n, now) => `{"customerId":"${ws}","eventName":"signup","userDomain":"crm","userId":"u${n % 1000}","actionId":"${id}-${n}","actionTimestamp":${now}}`),
      }),
    },
    convultra: {
      kind: 'convultra', title: 'Convultra `POST /v1/track`, 1 purchase per request', events: 1, batch: false, keyKind: 'server',
      traffic: (_ws, key, id) => ({ path: '/v1/track', headers: { ...json, authorization: `Bearer ${key}` }, next: stream((n, now) => convultraPurchase(id)(n, 0, now)) }),
    },
    'convultra-batch': {
      kind: 'convultra-batch', title: `Convultra \`POST /v1/track/batch\`, ${convultra} purchases per request`, events: convultra, batch: true, keyKind: 'server',
      traffic: (_ws, key, id) => ({ path: '/v1/track/batch', headers: { ...json, authorization: `Bearer ${key}` }, next: stream((n, now) => `{"events":[${many(convultra, convultraPurchase(id))(n, now)}]}`) }),
    },
    webanalyzer: {
      kind: 'webanalyzer', title: 'Web Analyzer `POST /api/v1/websites/{id}/track`, 1 event per request', events: 1, batch: false, keyKind: 'server',
      traffic: (ws, key, id) => ({ path: `/api/v1/websites/${ws}/track`, headers: { ...json, authorization: `Bearer ${key}` }, next: stream((n) => webAnalyzerEvent(id)(n, 0)) }),
    },
    'webanalyzer-batch': {
      kind: 'webanalyzer-batch', title: `Web Analyzer \`POST /api/v1/websites/{id}/track/batch\`, ${webanalyzer} events per request`, events: webanalyzer, batch: true, keyKind: 'server',
      traffic: (ws, key, id) => ({ path: `/api/v1/websites/${ws}/track/batch`, headers: { ...json, authorization: `Bearer ${key}` }, next: stream((n, now) => `{"events":[${many(webanalyzer, webAnalyzerEvent(id))(n, now)}]}`) }),
    },
    collect: {
      kind: 'collect', title: 'browser `POST /collect`, 1 pageview per request', events: 1, batch: false, keyKind: 'browser',
      traffic: (_ws, key, id) => ({
        path: '/collect', headers: { 'content-type': 'text/plain;charset=UTF-8', origin: PAGE },
        next: stream((n, now) => `{"key":"${key}","visitorId":"${uuid(n)}","sessionId":"s${n}","sentAt":${now},"events":[${browserEvent(id)(n, 0, now)}]}`),
      }),
    },
    'collect-batch': {
      kind: 'collect-batch', title: `browser \`POST /collect\`, ${collect} pageviews and views per request`, events: collect, batch: true, keyKind: 'browser',
      traffic: (_ws, key, id) => ({
        path: '/collect', headers: { 'content-type': 'text/plain;charset=UTF-8', origin: PAGE },
        next: stream((n, now) => `{"key":"${key}","visitorId":"${uuid(n)}","sessionId":"s${n}","sentAt":${now},"events":[${many(collect, browserEvent(id))(n, now)}]}`),
      }),
    },
  };
}
