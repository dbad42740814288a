/**
 * The real process over real HTTP: hostile input is refused in each dialect's own error shape
 * and the process keeps serving; concurrent retries store once; tenants never see each other;
 * the operations endpoints answer.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRealServer, type RealServer } from '../helpers/server.js';

const ADMIN_TOKEN = 'cl_admin_http_test_0123456789abcdefghijklmn';
/** The server's clock is pinned here (CLOSELOOP_NOW); event times are relative to it. */
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const MB = 1_048_576;

type DialectName = 'native' | 'optimize' | 'convultra' | 'webanalyzer';
const DIALECTS: DialectName[] = ['native', 'optimize', 'convultra', 'webanalyzer'];

interface Answer { status: number; body: any; headers: Headers }

let server: RealServer;
let dataDir: string;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

async function request(method: string, url: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const res = await fetch(`${server.url}${url}`, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

const admin = async (method: string, url: string, body?: unknown): Promise<Answer> => request(method, `/admin/v1${url}`, {
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
});

interface Tenant { id: string; serverKey: string; browserKey: string }

async function tenant(id: string): Promise<Tenant> {
  assert.equal((await admin('POST', '/workspaces', { id })).status, 201);
  const key = async (kind: string) => (await admin('POST', `/workspaces/${id}/keys`, { name: kind, kind })).body.key as string;
  return { id, serverKey: await key('server'), browserKey: await key('browser') };
}

// ---- one valid request per dialect, and the dialects' error shapes ---------------------------

interface Call { url: string; headers: Record<string, string>; body: Record<string, unknown> }

/** A request each dialect accepts (200), for workspace `ws`, authenticated with `key`. */
function validCall(dialect: DialectName, ws: string, key: string): Call {
  const json = { 'content-type': 'application/json' };
  switch (dialect) {
    case 'native':
      return { url: '/v1/events', headers: { ...json, authorization: `Bearer ${key}` }, body: { type: 'conversion', name: 'signup', visitorId: 'v1', idempotencyKey: unique('n') } };
    case 'optimize':
      return {
        url: '/event', headers: { ...json, authorization: `ApiKey ${key}` },
        body: { customerId: ws, eventName: 'signup', userDomain: 'crm', userId: 'u1', actionId: unique('o'), actionTimestamp: T0 - 60_000, value: 10 },
      };
    case 'convultra':
      return { url: '/v1/track', headers: { ...json, authorization: `Bearer ${key}` }, body: { event_type: 'purchase', session_id: 's1', properties: { order_id: unique('c'), value: 5 } } };
    case 'webanalyzer':
      return { url: `/api/v1/websites/${ws}/track`, headers: { ...json, authorization: `Bearer ${key}` }, body: { name: 'purchase', payload: { order_id: unique('w') } } };
  }
}

const send = (c: Call, body: string | Buffer = JSON.stringify(c.body), headers: Record<string, string> = {}) =>
  request('POST', c.url, { headers: { ...c.headers, ...headers }, body });

/** Web Analyzer names errors by HTTP status (reference §9), the others by the catalog code. */
const WEBANALYZER_CODE: Record<number, string> = { 400: 'validation_error', 401: 'unauthorized', 404: 'website_not_found', 413: 'payload_too_large', 415: 'unsupported_media_type' };

/** Asserts the answer is `status` with `code`, in exactly the dialect's error shape; `field` when the rule is about one. */
function assertDialectError(dialect: DialectName, res: Answer, status: number, code: string, field?: string): void {
  const message: unknown = dialect === 'native' ? res.body?.error?.message : dialect === 'convultra' ? res.body?.error : res.body?.message;
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.ok(typeof message === 'string' && /\S.*\.$/s.test(message), `one sentence: ${String(message)}`);
  const f = field === undefined ? {} : { field };
  const expected = {
    native: { ok: false, error: { code, message, ...f } },
    optimize: { error: code, message, ...f },
    convultra: { success: false, error: message, code },
    webanalyzer: { ok: false, error: WEBANALYZER_CODE[status], message, ...f },
  }[dialect];
  assert.deepEqual(res.body, expected);
}

/** The process still serves: a normal event is stored and /healthz is ok. */
async function assertStillServing(t: Tenant): Promise<void> {
  const res = await send(validCall('native', t.id, t.serverKey));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(await request('GET', '/healthz').then((r) => [r.status, r.body]), [200, { ok: true }]);
}

/** Sends headers announcing `announced` bytes and only `sent` of them, and reads the answer that comes anyway. */
async function partialUpload(url: string, headers: Record<string, string>, announced: number, sent: number): Promise<{ status: number; body: any; bytesSent: number }> {
  const { port } = server;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no answer within 10 s while the body was still unsent')); }, 10_000);
    let raw = Buffer.alloc(0);
    let bytesSent = 0;
    const finish = () => {
      const text = raw.toString('utf8');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) return false;
      const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? NaN);
      const body = text.slice(headEnd + 4);
      if (Number.isNaN(length) || Buffer.byteLength(body) < length) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(text.slice(9, 12)), body: JSON.parse(body), bytesSent });
      return true;
    };
    socket.on('data', (d: Buffer) => { raw = Buffer.concat([raw, d]); finish(); });
    socket.on('error', () => { if (!finish()) { clearTimeout(timer); reject(new Error(`socket error before a full answer: ${raw.toString()}`)); } });
    socket.on('connect', () => {
      const head = [`POST ${url} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${announced}`, '', ''].join('\r\n');
      socket.write(head);
      const chunk = Buffer.alloc(sent, 0x20);
      bytesSent = sent;
      socket.write(Buffer.concat([Buffer.from('{"pad":"'), chunk]));
    });
  });
}

// ---- the tests -------------------------------------------------------------------------------

describe('HTTP (real process)', () => {
  let A: Tenant;
  let B: Tenant;
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-http-test-'));
    server = await startRealServer({ dataDir, env: { CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN, CLOSELOOP_NOW: String(T0) } });
    A = await tenant('acme');
    B = await tenant('globex');
  });
  after(async () => {
    try {
      if ((server as RealServer | undefined) !== undefined) assert.equal(await server.stop(), 0);
    } finally {
      if (path.basename(dataDir).includes('test')) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  describe('hostile input', () => {
    for (const dialect of DIALECTS) {
      describe(dialect, () => {
        const call = () => validCall(dialect, A.id, A.serverKey);
        /** The dialect's valid body as JSON text with `prefix` spliced in as its first member. */
        const withFirst = (prefix: string) => JSON.stringify(call().body).replace(/^\{/, `{${prefix},`);

        it('accepts its valid request (the baseline the refusals below differ from)', async () => {
          assert.equal((await send(call())).status, 200);
        });

        it('refuses a __proto__ key with 400 forbidden_key and keeps serving', async () => {
          const c = call();
          assertDialectError(dialect, await send(c, withFirst('"__proto__":{"polluted":true}')), 400, 'forbidden_key');
          assertDialectError(dialect, await send(c, JSON.stringify({ ...c.body, nested: 1 }).replace('"nested":1', '"nested":{"__proto__":{"polluted":true}}')), 400, 'forbidden_key');
          await assertStillServing(A);
        });

        it('refuses a constructor.prototype key with 400 forbidden_key and keeps serving', async () => {
          assertDialectError(dialect, await send(call(), withFirst('"constructor":{"prototype":{"polluted":true}}')), 400, 'forbidden_key');
          await assertStillServing(A);
        });

        it('refuses 10,000-deep nesting with 400 nesting_too_deep and keeps serving', async () => {
          assertDialectError(dialect, await send(call(), withFirst(`"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}`)), 400, 'nesting_too_deep');
          assertDialectError(dialect, await send(call(), `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`), 400, 'nesting_too_deep');
          await assertStillServing(A);
        });

        it('refuses invalid UTF-8 with 400 invalid_utf8 and keeps serving', async () => {
          const text = JSON.stringify(call().body);
          const cut = text.indexOf('"', 2) + 1;
          const bytes = Buffer.concat([Buffer.from(text.slice(0, cut)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(text.slice(cut))]);
          assertDialectError(dialect, await send(call(), bytes), 400, 'invalid_utf8');
          await assertStillServing(A);
        });

        it('refuses bodies that are not JSON by content type with 415 and keeps serving', async () => {
          const c = call();
          for (const type of ['text/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
            assertDialectError(dialect, await send(c, JSON.stringify(c.body), { 'content-type': type }), 415, 'unsupported_media_type');
          }
          await assertStillServing(A);
        });

        it('answers 413 to a 50 MB body before it has been sent, and keeps serving', async () => {
          const c = call();
          const res = await partialUpload(c.url, { authorization: c.headers.authorization!, 'content-type': 'application/json' }, 50 * MB, 64 * 1024);
          assert.ok(res.bytesSent < MB);
          assertDialectError(dialect, { status: res.status, body: res.body, headers: new Headers() }, 413, 'body_too_large');
          await assertStillServing(A);
        });
      });
    }

    it('refuses a whole body just over 1 MB with 413', async () => {
      const c = validCall('native', A.id, A.serverKey);
      const big = JSON.stringify({ ...c.body, properties: { note: 'x'.repeat(MB) } });
      assertDialectError('native', await send(c, big), 413, 'body_too_large');
      await assertStillServing(A);
    });

    describe('integers above 2^53', () => {
      const TOO_BIG = '9007199254740993';
      /** The valid body as text with `field`'s value replaced by the literal TOO_BIG (JSON.stringify would round it). */
      const withBig = (c: Call, at: (b: Record<string, unknown>) => void) => {
        const body = structuredClone(c.body);
        at(body);
        return JSON.stringify(body).replace('"__BIG__"', TOO_BIG);
      };
      const cases: { dialect: DialectName; what: string; set: (b: any) => void; code: string; field?: string }[] = [
        { dialect: 'native', what: 'timestamp', set: (b) => { b.timestamp = '__BIG__'; }, code: 'timestamp_invalid', field: 'timestamp' },
        { dialect: 'native', what: 'value', set: (b) => { b.value = '__BIG__'; }, code: 'field_invalid', field: 'value' },
        { dialect: 'optimize', what: 'actionTimestamp', set: (b) => { b.actionTimestamp = '__BIG__'; }, code: 'timestamp_invalid', field: 'actionTimestamp' },
        { dialect: 'optimize', what: 'value', set: (b) => { b.value = '__BIG__'; }, code: 'field_invalid', field: 'value' },
        { dialect: 'convultra', what: 'timestamp', set: (b) => { b.timestamp = '__BIG__'; }, code: 'timestamp_invalid' },
        { dialect: 'convultra', what: 'properties.value', set: (b) => { b.properties.value = '__BIG__'; }, code: 'field_invalid' },
      ];
      for (const k of cases) {
        it(`refuses ${k.dialect} ${k.what} = 2^53 + 1 with 400 naming the field`, async () => {
          const c = validCall(k.dialect, A.id, A.serverKey);
          const res = await send(c, withBig(c, k.set));
          assertDialectError(k.dialect, res, 400, k.code, k.field);
          const message: string = k.dialect === 'native' ? res.body.error.message : k.dialect === 'convultra' ? res.body.error : res.body.message;
          assert.ok(message.startsWith(k.what), message);
          await assertStillServing(A);
        });
      }
    });
  });

  describe('concurrent retries', () => {
    const storedWithKey = async (ws: string, key: string) =>
      ((await admin('GET', `/workspaces/${ws}/events?limit=1000`)).body.events as { idempotencyKey: string }[])
        .filter((e) => e.idempotencyKey === key);

    it('answers 20 simultaneous native requests with one Idempotency-Key with the same id, and stores one event', async () => {
      const key = unique('same-native');
      const c = validCall('native', A.id, A.serverKey);
      delete c.body.idempotencyKey;
      const answers = await Promise.all(Array.from({ length: 20 }, () => send(c, JSON.stringify(c.body), { 'idempotency-key': key })));
      const id = answers[0]!.body.ids[0] as number;
      assert.deepEqual(answers.map((a) => [a.status, a.body.ok, a.body.ids]), Array(20).fill([200, true, [id]]));
      assert.deepEqual(answers.map((a) => a.body.duplicates).sort(), [0, ...Array(19).fill(1)], 'the first is stored, the rest are answered as its duplicates');
      assert.equal((await storedWithKey(A.id, key)).length, 1);
    });

    it('answers 20 simultaneous optimize requests with one actionId with the same echo, and stores one event', async () => {
      const c = validCall('optimize', A.id, A.serverKey);
      const answers = await Promise.all(Array.from({ length: 20 }, () => send(c)));
      assert.deepEqual(answers.map((a) => [a.status, a.body]), Array(20).fill([200, c.body]));
      assert.equal((await storedWithKey(A.id, c.body.actionId as string)).length, 1);
    });
  });

  describe('tenant isolation', () => {
    it('answers 404 website_not_found to B\'s key on A\'s website id', async () => {
      for (const suffix of ['', '/batch']) {
        const c = validCall('webanalyzer', A.id, B.serverKey);
        const body = suffix === '' ? c.body : { events: [c.body] };
        assertDialectError('webanalyzer', await request('POST', `${c.url}${suffix}`, { headers: c.headers, body: JSON.stringify(body) }), 404, 'website_not_found');
      }
    });

    it('answers 404 to B\'s key with A\'s customerId, in the body or the path', async () => {
      const c = validCall('optimize', A.id, B.serverKey);
      assertDialectError('optimize', await send(c), 404, 'workspace_mismatch');
      const { customerId: _, ...rest } = c.body;
      assertDialectError('optimize', await request('POST', `/customer/${A.id}/event`, { headers: c.headers, body: JSON.stringify(rest) }), 404, 'workspace_mismatch');
    });

    it('never lists B\'s events in A\'s admin listing', async () => {
      const bKeys: string[] = [];
      for (const dialect of DIALECTS) {
        const c = validCall(dialect, B.id, B.serverKey);
        assert.equal((await send(c)).status, 200);
      }
      const listB = (await admin('GET', `/workspaces/${B.id}/events?limit=1000`)).body.events as { workspaceId: string; idempotencyKey: string | null }[];
      for (const e of listB) if (e.idempotencyKey !== null) bKeys.push(e.idempotencyKey);
      assert.ok(listB.length >= 4 && listB.every((e) => e.workspaceId === B.id));
      const listA = (await admin('GET', `/workspaces/${A.id}/events?limit=1000`)).body.events as { workspaceId: string; idempotencyKey: string | null }[];
      assert.ok(listA.length > 0);
      assert.deepEqual(listA.filter((e) => e.workspaceId !== A.id || (e.idempotencyKey !== null && bKeys.includes(e.idempotencyKey))), []);
    });

    it('refuses a revoked key with 401 on every dialect, and through ?api_key=', async () => {
      const made = (await admin('POST', `/workspaces/${A.id}/keys`, { name: 'soon revoked', kind: 'server' })).body as { id: string; key: string };
      for (const dialect of DIALECTS) assert.equal((await send(validCall(dialect, A.id, made.key))).status, 200, `${dialect} accepts the key before`);
      const viaQuery = validCall('convultra', A.id, made.key);
      delete viaQuery.headers.authorization;
      assert.equal((await request('POST', `/v1/track?api_key=${made.key}`, { headers: viaQuery.headers, body: JSON.stringify(viaQuery.body) })).status, 200);

      assert.equal((await admin('DELETE', `/workspaces/${A.id}/keys/${made.id}`)).status, 200);
      for (const dialect of DIALECTS) assertDialectError(dialect, await send(validCall(dialect, A.id, made.key)), 401, 'unauthorized');
      assertDialectError('convultra', await request('POST', `/v1/track?api_key=${made.key}`, { headers: viaQuery.headers, body: JSON.stringify(viaQuery.body) }), 401, 'unauthorized');
      assertDialectError('convultra', await request('POST', `/v1/track/batch?api_key=${made.key}`, { headers: viaQuery.headers, body: JSON.stringify({ events: [viaQuery.body] }) }), 401, 'unauthorized');
    });

    it('refuses a browser key with 401 on every server dialect', async () => {
      for (const dialect of DIALECTS) assertDialectError(dialect, await send(validCall(dialect, A.id, A.browserKey)), 401, 'unauthorized');
    });
  });

  describe('operations endpoints', () => {
    it('answers /healthz and /readyz', async () => {
      assert.deepEqual(await request('GET', '/healthz').then((r) => [r.status, r.body]), [200, { ok: true }]);
      assert.deepEqual(await request('GET', '/readyz').then((r) => [r.status, r.body]), [200, { ok: true, store: 'sqlite' }]);
    });

    it('serves Prometheus metrics that count accepted events', async () => {
      assert.equal((await send(validCall('convultra', A.id, A.serverKey))).status, 200);
      const res = await request('GET', '/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = res.body as string;
      assert.match(text, /^# TYPE closeloop_events_accepted_total counter$/m);
      const accepted = Number(/^closeloop_events_accepted_total\{dialect="convultra"\} (\d+)$/m.exec(text)?.[1]);
      assert.ok(accepted >= 1, text.slice(0, 500));
    });

    it('serves an OpenAPI document with the ingestion and admin paths', async () => {
      const res = await request('GET', '/openapi.json');
      assert.equal(res.status, 200);
      assert.equal(typeof res.body, 'object', 'valid JSON');
      assert.match(res.body.openapi, /^3\./);
      const paths = Object.keys(res.body.paths);
      for (const p of [
        '/v1/events', '/event', '/customer/{customerId}/event', '/v1/track', '/v1/track/batch',
        '/api/v1/websites/{websiteId}/track', '/api/v1/websites/{websiteId}/track/batch',
        '/admin/v1/workspaces', '/admin/v1/workspaces/{ws}/keys', '/admin/v1/workspaces/{ws}/events', '/healthz', '/metrics',
      ]) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    });

    it('serves human-readable API docs as HTML', async () => {
      const res = await request('GET', '/docs');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.body as string, /<html/i);
    });
  });
});
