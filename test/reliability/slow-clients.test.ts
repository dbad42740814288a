/**
 * Slow clients against the real process: connections that trickle their headers one byte at a
 * time, trickle a 100 KB body a few bytes at a time, open and say nothing, or keep a connection
 * alive and go quiet. The server cuts each by its timeout (configured small here, so the test
 * takes seconds) while normal clients keep being answered promptly and every acknowledged event
 * is stored. Each slot re-opens its connection as soon as it is cut, so the slow connections
 * keep hanging on for the whole run, as an attacker's would.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { adminRequest, startRealServer, type RealServer } from '../helpers/server.js';
import { Ledger, storedCounts } from './ledger.js';
import { figure, sized } from './profile.js';

const ADMIN_TOKEN = 'cl_admin_slow_clients_test_0123456789abcd';
const WS = 'slow-clients-test';
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const IDLE_TIMEOUT_MS = 2000;
const KEEP_ALIVE_TIMEOUT_MS = 1000;
/** Node closes an idle kept-alive connection this long after the Keep-Alive timeout it announces. */
const KEEP_ALIVE_BUFFER_MS = 1000;
/** Node checks headers and request timeouts on a period (a quarter of the headers timeout here); a busy machine adds its own delay. */
const CUT_SLACK_MS = 3000;
/** Generous for a busy 2-core machine: what a normal request may take while the slow ones hang on. */
const NORMAL_P99_BOUND_MS = 1500;

const SLOW_CONNECTIONS = sized(120, 600);
const DURATION_MS = sized(6000, 30_000);
const NORMAL_CLIENTS = 4;

type Kind = 'header trickle' | 'body trickle' | 'silent' | 'idle keep-alive';
const KINDS: readonly Kind[] = ['header trickle', 'body trickle', 'silent', 'idle keep-alive'];

/** Within how long the server must cut each kind, counted from the connection's opening. */
const CUT_WITHIN: Record<Kind, number> = {
  'header trickle': HEADERS_TIMEOUT_MS + CUT_SLACK_MS,
  'body trickle': REQUEST_TIMEOUT_MS + CUT_SLACK_MS,
  silent: HEADERS_TIMEOUT_MS + CUT_SLACK_MS,
  'idle keep-alive': KEEP_ALIVE_TIMEOUT_MS + KEEP_ALIVE_BUFFER_MS + CUT_SLACK_MS,
};
/** And no sooner than this: it is the timeout that cuts, not something else. */
const CUT_NOT_BEFORE: Record<Kind, number> = {
  'header trickle': HEADERS_TIMEOUT_MS * 0.9,
  'body trickle': REQUEST_TIMEOUT_MS * 0.9,
  silent: HEADERS_TIMEOUT_MS * 0.9,
  'idle keep-alive': KEEP_ALIVE_TIMEOUT_MS * 0.9,
};

const REFUSED = 'HTTP/1.1 503 Service Unavailable';

interface Cut { kind: Kind; ms: number; status: string; retryAfter: boolean }

/**
 * One slow connection of `kind`: resolves when the server closes it (with how long it lasted and
 * the status line it got), or null when `stop` fires first (then the client closes it).
 */
function slowConnection(server: RealServer, kind: Kind, serverKey: string, stop: Promise<void>): Promise<Cut | null> {
  return new Promise((resolve) => {
    const opened = performance.now();
    const socket = net.connect(server.port, '127.0.0.1');
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    /** Writes `text` one slice of `step` characters every `everyMs`. */
    const trickle = (text: string, step: number, everyMs: number): void => {
      let i = 0;
      timer = setInterval(() => {
        if (i >= text.length) return;
        socket.write(text.slice(i, i + step));
        i += step;
      }, everyMs);
    };
    socket.on('connect', () => {
      const host = `Host: 127.0.0.1:${server.port}`;
      switch (kind) {
        case 'header trickle':
          trickle(`POST /v1/events HTTP/1.1\r\n${host}\r\nAuthorization: Bearer ${serverKey}\r\nX-Slow: ${'s'.repeat(10_000)}`, 1, 200);
          break;
        case 'body trickle':
          socket.write(`POST /v1/events HTTP/1.1\r\n${host}\r\nAuthorization: Bearer ${serverKey}\r\nContent-Type: application/json\r\nContent-Length: 102400\r\n\r\n`);
          trickle(`{"events":[${' '.repeat(102_400)}`, 4, 300);
          break;
        case 'silent':
          break;
        case 'idle keep-alive':
          socket.write(`GET /healthz HTTP/1.1\r\n${host}\r\n\r\n`);
          break;
      }
    });
    socket.on('data', (d: Buffer) => { received += d.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      const head = received.split('\r\n\r\n')[0] ?? '';
      resolve(stopped ? null : { kind, ms: performance.now() - opened, status: head.split('\r\n')[0] ?? '', retryAfter: /\r\nretry-after: *[1-9]/i.test(head) });
    });
    void stop.then(() => {
      stopped = true;
      socket.destroy();
    });
  });
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

describe('slow clients (real process)', () => {
  it('cuts trickling, silent and idle connections by their timeouts while normal requests are answered promptly', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-slow-clients-test-'));
    let server: RealServer | undefined;
    try {
      server = await startRealServer({
        dataDir,
        env: {
          CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN, CLOSELOOP_NOW: String(Date.UTC(2026, 0, 15, 12)),
          CLOSELOOP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), CLOSELOOP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
          CLOSELOOP_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS), CLOSELOOP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
        },
      });
      const s = server;
      await adminRequest(s, ADMIN_TOKEN, 'POST', '/workspaces', { id: WS, settings: { rateLimitPerMinute: 10_000_000 } });
      const key = (await adminRequest(s, ADMIN_TOKEN, 'POST', `/workspaces/${WS}/keys`, { name: 'normal', kind: 'server' })).key as string;

      // The slow connections: every slot opens its kind again as soon as the server cuts it.
      let stopSlow!: () => void;
      const stop = new Promise<void>((resolve) => { stopSlow = resolve; });
      const cuts: Cut[] = [];
      let open = 0;
      let fewestOpen = Infinity;
      const slot = async (kind: Kind): Promise<void> => {
        for (;;) {
          open++;
          const cut = await slowConnection(s, kind, key, stop);
          open--;
          if (cut === null) return;
          cuts.push(cut);
        }
      };
      const slots = Array.from({ length: SLOW_CONNECTIONS }, (_, i) => slot(KINDS[i % KINDS.length]!));
      // Let every slow connection open and hang on before the normal clients start.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const counter = setInterval(() => { fewestOpen = Math.min(fewestOpen, open); }, 50);

      // Normal clients: single events and 250-event batches (~25 KB), one request after another;
      // like any client, they send a refused request again after Retry-After.
      const ledger = new Ledger();
      const latencies: number[] = [];
      let unsettled = 0;
      const url = `${s.url}/v1/events`;
      const headers = { authorization: `Bearer ${key}` };
      const until = Date.now() + DURATION_MS;
      const normal = async (c: number): Promise<void> => {
        for (let n = 0; Date.now() < until; n++) {
          const id = `n${c}-${n}`;
          const batch = c % 2 === 1;
          const keys = batch ? Array.from({ length: 250 }, (_, i) => `${id}-${i}`) : [id];
          const body = batch
            ? JSON.stringify({ events: keys.map((k) => ({ type: 'conversion', name: 'signup', visitorId: `v-${k}`, idempotencyKey: k })) })
            : JSON.stringify({ type: 'conversion', name: 'signup', visitorId: `v-${id}`, idempotencyKey: id });
          for (let attempt = 1; ; attempt++) {
            const started = performance.now();
            const answer = await ledger.send(url, keys, body, { headers, timeoutMs: 30_000 });
            latencies.push(performance.now() - started);
            if (answer.status !== 503 || answer.retryAfter === null) break;
            if (attempt === 5) {
              unsettled++;
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, Number(answer.retryAfter) * 1000));
          }
        }
      };
      await Promise.all(Array.from({ length: NORMAL_CLIENTS }, (_, c) => normal(c)));
      clearInterval(counter);
      stopSlow();
      await Promise.all(slots);

      latencies.sort((a, b) => a - b);
      const byKind = KINDS.map((kind) => {
        const ms = cuts.filter((c) => c.kind === kind).map((c) => c.ms).sort((a, b) => a - b);
        const refused = cuts.filter((c) => c.kind === kind && c.status === REFUSED).length;
        return `${kind} ${ms.length} cut after ${(ms[0] ?? NaN).toFixed(0)}–${(ms.at(-1) ?? NaN).toFixed(0)} ms (p50 ${quantile(ms, 0.5).toFixed(0)})${refused > 0 ? `, ${refused} of them answered 503 at once (the ingestion budget in use)` : ''}`;
      });
      figure('slow clients', `${SLOW_CONNECTIONS} slow connections held for ${DURATION_MS / 1000} s (at least ${fewestOpen} open at any time; timeouts: headers ${HEADERS_TIMEOUT_MS} ms, request ${REQUEST_TIMEOUT_MS} ms, keep-alive ${KEEP_ALIVE_TIMEOUT_MS} ms): `
        + `${byKind.join('; ')}. Normal clients: ${ledger.summary()}, p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(0)} ms`);

      // The slow ones were there all along, and each was cut by its own timeout: a request still
      // being sent is told why (408), an idle connection is closed after its answer. A trickled
      // body may instead have been refused before it was read (503 with Retry-After) while others
      // held the ingestion budget; its connection then ends at the request timeout too.
      assert.ok(fewestOpen >= SLOW_CONNECTIONS * 0.8, `slow connections kept hanging on (fewest open at once: ${fewestOpen})`);
      const answers: Record<Kind, string[]> = {
        'header trickle': ['HTTP/1.1 408 Request Timeout'], 'body trickle': ['HTTP/1.1 408 Request Timeout', REFUSED],
        silent: ['HTTP/1.1 408 Request Timeout'], 'idle keep-alive': ['HTTP/1.1 200 OK'],
      };
      for (const kind of KINDS) {
        const mine = cuts.filter((c) => c.kind === kind);
        assert.ok(mine.length >= SLOW_CONNECTIONS / KINDS.length, `every ${kind} connection was cut at least once (${mine.length} cuts)`);
        const wrong = mine.filter((c) => !answers[kind].includes(c.status) || (c.status === REFUSED && !c.retryAfter) || c.ms < CUT_NOT_BEFORE[kind] || c.ms > CUT_WITHIN[kind]);
        assert.deepEqual(wrong.map((c) => `${c.status}${c.retryAfter ? ' (Retry-After)' : ''} after ${Math.round(c.ms)} ms`), [], `${kind} connections are cut (${answers[kind].join(' or ')}) between ${CUT_NOT_BEFORE[kind]} and ${CUT_WITHIN[kind]} ms`);
      }

      // The normal clients hardly noticed. At the instant a wave of trickling clients announces
      // its bodies, they are as much work as a burst of real uploads, and a normal request
      // arriving in that same instant may be told to retry: rarely, and then it gets through.
      const statuses = new Map(ledger.statuses);
      const refused = statuses.get('503') ?? 0;
      statuses.delete('503');
      assert.deepEqual([...statuses.keys()], ['200'], `every normal request answered 200, or 503 with Retry-After: ${ledger.summary()}`);
      assert.ok(refused <= ledger.requests / 100, `at most 1 % of normal requests refused (${refused} of ${ledger.requests})`);
      assert.equal(unsettled, 0, 'every refused normal request was admitted when sent again (within 5 tries)');
      assert.ok(quantile(latencies, 0.99) <= NORMAL_P99_BOUND_MS, `normal requests answered within ${NORMAL_P99_BOUND_MS} ms at p99; took ${quantile(latencies, 0.99).toFixed(0)} ms`);
      const stored = await storedCounts(s, ADMIN_TOKEN, WS);
      assert.deepEqual(ledger.verify(stored), [], 'every acknowledged event stored once; nothing from the trickled bodies');
      const gauge = /^closeloop_ingest_inflight_bytes (\d+)/m.exec(await (await fetch(`${s.url}/metrics`)).text());
      assert.equal(gauge?.[1], '0', 'the cut bodies hold nothing of the ingestion budget');
    } finally {
      await server?.kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
