/**
 * Overload of the real process: many connections send 250-event batches, several times what the
 * service can commit. Beyond capacity it answers 503 (or 429) with Retry-After and nothing else
 * goes wrong: no other status, no dropped connection, the requests it admits are answered within
 * a bounded time, its memory stays under a ceiling, and the store holds every acknowledged event
 * once and none that was only ever refused.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { adminRequest, startRealServer, type RealServer } from '../helpers/server.js';
import { Ledger, storedCounts, type Attempt } from './ledger.js';
import { figure, sized } from './profile.js';

const ADMIN_TOKEN = 'cl_admin_overload_test_0123456789abcdefgh';
const WS = 'overload-test';
const MB = 1_048_576;
/** The server's body budget (CLOSELOOP_MAX_INFLIGHT_BYTES); its latency target is the default (500 ms). */
const INFLIGHT = 8 * MB;
/**
 * What the server's resident memory may grow by under this load. The budget bounds the bodies
 * held (each costs several times its bytes until written: buffer, text, parsed value, events, the
 * copy to the writer thread); on top come the garbage of every body read, refused ones included,
 * which the GC frees in batches, and the heap room V8 keeps. Measured on a 2-core machine with
 * this load: 250–320 MB over idle with the budget in most runs, once 442 MB (a clean-clone CI run;
 * the GC's batches vary with the machine), and ~800 MB without a budget — still growing.
 */
const CEILING_OVER_IDLE = 500 * MB;
/** Generous for a busy 2-core machine: an admitted request waits behind about 500 ms of work. */
const P99_BOUND_MS = 5000;

/** The full profile holds the same overload for a minute: more connections would measure the load generator, which shares the machine. */
const CONNECTIONS = 256;
/** Connections sending ~1 MB bodies (they wait Retry-After when refused); the others send ~23 KB, half of them retrying at once. */
const LARGE = (CONNECTIONS * 3) / 4;
const DURATION_MS = sized(8000, 60_000);
const EVENTS_PER_BATCH = 250;

/** Resident memory of a process, from /proc/<pid>/status. */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/** A batch of conversions whose idempotency keys hold `#` where the batch id goes: small (~23 KB) or padded to just under the 1 MB limit. */
function template(large: boolean): string {
  const pad = large ? `,"url":"https://shop.example/${'p'.repeat(2000)}","properties":{"note":"${'n'.repeat(1000)}","more":"${'m'.repeat(900)}"}` : '';
  const events: string[] = [];
  for (let i = 0; i < EVENTS_PER_BATCH; i++) events.push(`{"type":"conversion","name":"signup","visitorId":"v${i}","value":10,"idempotencyKey":"#-${i}"${pad}}`);
  return `{"events":[${events.join(',')}]}`;
}

const keysOf = (batch: string): string[] => Array.from({ length: EVENTS_PER_BATCH }, (_, i) => `${batch}-${i}`);
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function inflightGauge(server: RealServer): Promise<number> {
  const m = /^closeloop_ingest_inflight_bytes (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text());
  assert.ok(m, 'closeloop_ingest_inflight_bytes in /metrics');
  return Number(m[1]);
}

describe('overload (real process)', () => {
  it('refuses beyond capacity with 503 and Retry-After, answers what it admits in bounded time and memory, and keeps every acknowledgement', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-overload-test-'));
    let server: RealServer | undefined;
    try {
      server = await startRealServer({
        dataDir,
        env: { CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN, CLOSELOOP_NOW: String(Date.UTC(2026, 0, 15, 12)), CLOSELOOP_MAX_INFLIGHT_BYTES: String(INFLIGHT) },
      });
      const s = server;
      const pid = s.child.pid!;
      await adminRequest(s, ADMIN_TOKEN, 'POST', '/workspaces', { id: WS, settings: { rateLimitPerMinute: 10_000_000 } });
      const key = (await adminRequest(s, ADMIN_TOKEN, 'POST', `/workspaces/${WS}/keys`, { name: 'load', kind: 'server' })).key as string;
      const url = `${s.url}/v1/events`;
      const headers = { authorization: `Bearer ${key}` };
      const ledger = new Ledger();
      const small = template(false);
      const large = template(true);
      assert.ok(Buffer.byteLength(large) < MB, 'a large batch is within the 1 MB body limit');

      // Warm up (JIT, the writer thread, the file's first pages) and open every connection, as
      // a client's keep-alive pool has them: what is measured is sustained overload, not a storm
      // of new connections. Then take the idle size.
      for (let i = 0; i < 3; i++) assert.equal((await ledger.send(url, keysOf(`warm-${i}`), small.replaceAll('#', `warm-${i}`), { headers })).status, 200);
      await Promise.all(Array.from({ length: CONNECTIONS }, async () => (await fetch(`${s.url}/healthz`)).text()));
      const idle = rss(pid);
      let peak = idle;
      const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 25);

      // Every connection sends one batch after another; a refused batch is sent again with the
      // same keys until it is acknowledged or the time is up.
      const admittedMs: number[] = [];
      const refusals: Attempt[] = [];
      const others: Attempt[] = [];
      let offered = 0;
      const until = Date.now() + DURATION_MS;
      const client = async (c: number): Promise<void> => {
        const isLarge = c < LARGE;
        const patient = isLarge || c % 2 === 0;
        for (let b = 0; Date.now() < until; b++) {
          const id = `c${c}-b${b}`;
          const keys = keysOf(id);
          const body = Buffer.from((isLarge ? large : small).replaceAll('#', id));
          for (;;) {
            offered++;
            const started = performance.now();
            const answer = await ledger.send(url, keys, body, { headers, timeoutMs: 60_000 });
            if (answer.status === 200) {
              admittedMs.push(performance.now() - started);
              break;
            }
            if (answer.status === 503 || answer.status === 429) refusals.push(answer);
            else others.push(answer);
            if (Date.now() >= until || answer.status === null) return;
            if (patient) await new Promise((resolve) => setTimeout(resolve, Number(answer.retryAfter ?? 1) * 1000));
          }
        }
      };
      await Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => client(c)));
      clearInterval(sampler);
      peak = Math.max(peak, rss(pid));

      admittedMs.sort((a, b) => a - b);
      const [p50, p99] = [quantile(admittedMs, 0.5), quantile(admittedMs, 0.99)];
      figure('overload', `${CONNECTIONS} connections × ${DURATION_MS / 1000} s of ${EVENTS_PER_BATCH}-event batches (${LARGE} connections of ~1 MB, ${CONNECTIONS - LARGE} of ~${Math.round(small.length / 1024)} KB), `
        + `maxInflightBytes ${INFLIGHT / MB} MB: ${ledger.summary()}; offered/admitted ${(offered / Math.max(1, admittedMs.length)).toFixed(1)}×; `
        + `admitted p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms; RSS idle ${(idle / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB (ceiling ${((idle + CEILING_OVER_IDLE) / MB).toFixed(0)} MB)`);

      assert.deepEqual(others.map((a) => `${a.status ?? 'no answer'}: ${a.detail.slice(0, 200)}`), [], 'every answer is 200, 429 or 503: no other status, no dropped connection');
      assert.ok(refusals.length >= offered / 4, `the load is beyond capacity: ${refusals.length} of ${offered} requests refused`);
      assert.deepEqual(refusals.filter((a) => !/^[1-9]\d*$/.test(a.retryAfter ?? '')).map((a) => a.detail), [], 'every refusal says when to retry (Retry-After)');
      assert.deepEqual(refusals.filter((a) => !/"code":"(overloaded|store_unavailable|rate_limited)"/.test(a.detail)).map((a) => a.detail), [], 'every refusal names its reason');
      assert.ok(p99 <= P99_BOUND_MS, `admitted requests are answered within ${P99_BOUND_MS} ms at p99; took ${p99.toFixed(0)} ms`);
      assert.ok(peak <= idle + CEILING_OVER_IDLE, `RSS peaked at ${(peak / MB).toFixed(0)} MB, over the ceiling of ${((idle + CEILING_OVER_IDLE) / MB).toFixed(0)} MB`);

      // Once the load is gone: no body is still counted against the budget, and a batch is admitted.
      assert.equal(await inflightGauge(s), 0, 'every admitted body was given back to the budget');
      assert.equal((await ledger.send(url, keysOf('after'), large.replaceAll('#', 'after'), { headers })).status, 200);

      const stored = await storedCounts(s, ADMIN_TOKEN, WS);
      const problems = ledger.verify(stored);
      figure('overload', `store against the ledger: ${stored.size} keys stored, ${problems.length} broken promises`);
      assert.deepEqual(problems.slice(0, 20), [], 'every acknowledged event is stored once, none that was only refused');
      assert.doesNotMatch(s.stderr(), /unhandled error/);
    } finally {
      await server?.kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
