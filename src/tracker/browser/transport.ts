import { w } from './env.js';
import { getJson, setJson } from './storage.js';

/** An event as buffered and sent (the /collect event shape, plus its visitor). */
export interface QueuedEvent {
  id: string;
  type: string;
  time: number;
  visitorId?: string;
  sessionId?: string;
  [field: string]: unknown;
}

const QUEUE = 'cl_q';
/** Oldest events are dropped past this: a page that can never reach the server must not fill the storage. */
const MAX_QUEUED = 500;
/** Per request; well under the 64 KB a keepalive request or a beacon may carry. */
const BATCH = 20;

let endpoint = '';
let key = '';
let backoff = 0;
let timer: unknown = 0;
let draining: Promise<void> | null = null;

export function configure(url: string, browserKey: string): void {
  endpoint = url;
  key = browserKey;
}

const queue = (): QueuedEvent[] => getJson<QueuedEvent[]>(QUEUE) ?? [];

/** The body of one request. Each event names its visitor and session: a buffer can span several. */
const body = (events: QueuedEvent[]): string => JSON.stringify({ key, sentAt: Date.now(), events });

/** Buffers an event (in localStorage: it survives a failed request or the page going away) and schedules a send. */
export function enqueue(e: QueuedEvent): void {
  const q = queue();
  q.push(e);
  setJson(QUEUE, q.slice(-MAX_QUEUED));
  schedule(1000);
}

function schedule(ms: number): void {
  if (timer === 0) timer = w.setTimeout(() => { timer = 0; void flush(); }, ms);
}

// Bodies go as text/plain (fetch's default for a string, and what sendBeacon sends): a "simple"
// cross-origin request, so no CORS preflight, and the server reads it as JSON.

/**
 * Sends buffered events until none are left, and forgets each batch only once the server has
 * answered for it (stored, a duplicate, or refused for good: a 4xx other than 408 and 429).
 * Otherwise retries later with exponential backoff (1 s doubling to 5 min). The server's
 * idempotency (event ids) makes a repeat harmless.
 */
export function flush(): Promise<void> {
  draining ??= (async () => {
    for (let batch = queue().slice(0, BATCH); batch.length > 0; batch = queue().slice(0, BATCH)) {
      let status = 0;
      try {
        status = (await w.fetch(endpoint, { method: 'POST', body: body(batch), keepalive: true })).status;
      } catch {
        // network error, or an answer CORS does not let this page read: retry
      }
      if (status < 200 || status > 499 || status === 408 || status === 429) {
        backoff = Math.min(backoff * 2 || 1000, 300_000);
        schedule(backoff);
        return;
      }
      backoff = 0;
      const sent = new Set(batch.map((e) => e.id));
      setJson(QUEUE, queue().filter((e) => !sent.has(e.id)));
    }
  })().finally(() => (draining = null));
  return draining;
}

/**
 * The page is going away (or may be killed in the background): hand what is buffered to the
 * browser with sendBeacon, which outlives the page. The events stay buffered until a later
 * page sees them acknowledged; if the beacon arrived, that resend is answered as a duplicate.
 */
export function beacon(): void {
  const q = queue();
  for (let i = 0; i < q.length; i += BATCH) w.navigator.sendBeacon(endpoint, body(q.slice(i, i + BATCH)));
}
