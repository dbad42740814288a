/**
 * Durability of the real process: an answered 200 means the events are on disk. SIGKILL in the
 * middle of a stream of writes loses nothing that was acknowledged and stores nothing twice;
 * SIGTERM lets the requests in flight finish, writes them, and exits 0.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { adminRequest, type RealServer, removeTestDir, startRealServer } from '../helpers/server.js';

const ADMIN_TOKEN = 'cl_admin_crash_test_0123456789abcdefghijkl';
/** The server's clock starts at 2026-01-15T12:00:00Z (CLOSELOOP_NOW), not at the wall clock's time. */
const ENV = { CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN, CLOSELOOP_NOW: String(Date.UTC(2026, 0, 15, 12)) };
const WS = 'crash-test';

function testDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-crash-test-'));
}

const admin = (server: RealServer, method: string, url: string, body?: unknown) => adminRequest(server, ADMIN_TOKEN, method, url, body);

/** A workspace whose rate limit the load cannot reach; returns its server key. */
async function workspaceKey(server: RealServer): Promise<string> {
  await admin(server, 'POST', '/workspaces', { id: WS, settings: { rateLimitPerMinute: 10_000_000 } });
  return (await admin(server, 'POST', `/workspaces/${WS}/keys`, { name: 'load', kind: 'server' })).key as string;
}

const conversion = (key: string) => ({ type: 'conversion', name: 'signup', visitorId: `v-${key}`, idempotencyKey: key, value: 10 });

/** One request: a single event (key in the Idempotency-Key header) or a batch. Resolves to the acknowledged keys and ids, or null. */
async function send(url: string, serverKey: string, keys: string[]): Promise<Map<string, number> | null> {
  const single = keys.length === 1;
  const body = single ? { ...conversion(keys[0]!), idempotencyKey: undefined } : { events: keys.map(conversion) };
  let res: Response;
  try {
    res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json', ...(single ? { 'idempotency-key': keys[0]! } : {}) },
      body: JSON.stringify(body),
    });
  } catch {
    return null;
  }
  const text = await res.text().catch(() => null);
  if (res.status !== 200 || text === null) return null;
  const answer = JSON.parse(text) as { ok: boolean; ids: (number | null)[]; duplicates: number };
  assert.deepEqual([answer.ok, answer.duplicates, answer.ids.length], [true, 0, keys.length]);
  return new Map(keys.map((k, i) => [k, answer.ids[i]!]));
}

/** Every stored event of the workspace, read back through the admin API page by page. */
async function storedKeys(server: RealServer): Promise<Map<string, number[]>> {
  const byKey = new Map<string, number[]>();
  let after: number | null = null;
  for (;;) {
    const page: { events: { id: number; idempotencyKey: string }[]; next: number | null } =
      await admin(server, 'GET', `/workspaces/${WS}/events?limit=1000${after === null ? '' : `&after=${after}`}`);
    for (const e of page.events) byKey.set(e.idempotencyKey, [...(byKey.get(e.idempotencyKey) ?? []), e.id]);
    if (page.next === null) return byKey;
    after = page.next;
  }
}

/** Each acknowledged key is stored exactly once, under the id it was acknowledged with, and no key twice. */
function assertStoredOnce(acked: Map<string, number>, stored: Map<string, number[]>): void {
  const missing = [...acked].filter(([k, id]) => stored.get(k)?.[0] !== id);
  assert.deepEqual(missing, [], 'every acknowledged event is stored under its acknowledged id');
  const twice = [...stored].filter(([, ids]) => ids.length > 1);
  assert.deepEqual(twice, [], 'no event is stored twice');
}

/** Runs `fn` with a fresh data folder and a way to start servers on it; kills them all and removes the folder, whatever happens. */
async function inDataDir(fn: (start: () => Promise<RealServer>) => Promise<void>): Promise<void> {
  const dataDir = testDataDir();
  const started: RealServer[] = [];
  try {
    await fn(async () => {
      const server = await startRealServer({ dataDir, env: ENV });
      started.push(server);
      return server;
    });
  } finally {
    for (const server of started) await server.kill();
    removeTestDir(dataDir);
  }
}

/** Fails when `p` has not settled within `s` seconds (a bound on a wait, not a measurement). */
async function withinSeconds<T>(s: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${s} s: kept-alive connections holding shutdown open?`)), s * 1000);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe('crash durability (real process)', () => {
  it('keeps every acknowledged event exactly once after kill -9 in the middle of a write stream', () => inDataDir(async (start) => {
    const server = await start();
    const serverKey = await workspaceKey(server);
    const acked = new Map<string, number>();
    const KILL_AFTER = 2000;
    const MAX_REQUESTS_PER_WORKER = 400;
    let killing: Promise<void> | null = null;
    let outstanding = 0;
    let outstandingAtKill = 0;
    const worker = async (w: number) => {
      for (let i = 0; i < MAX_REQUESTS_PER_WORKER && killing === null; i++) {
        const keys = i % 3 === 0 ? [`w${w}-${i}`] : Array.from({ length: 20 }, (_, j) => `w${w}-${i}-${j}`);
        outstanding++;
        const got = await send(server.url, serverKey, keys);
        outstanding--;
        if (got === null) {
          assert.ok(killing !== null, 'a request failed before the kill');
          return;
        }
        for (const [k, id] of got) acked.set(k, id);
        if (acked.size >= KILL_AFTER && killing === null) {
          outstandingAtKill = outstanding;
          killing = server.kill();
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    assert.ok(killing !== null, `the stream reached ${KILL_AFTER} acknowledged events before it ended`);
    await killing;
    assert.equal(server.child.signalCode, 'SIGKILL');

    const restarted = await start();
    const stored = await storedKeys(restarted);
    assertStoredOnce(acked, stored);
    assert.ok(stored.size >= acked.size);

    // Idempotency survives the crash: a retry of an acknowledged event is a duplicate of it.
    const [key, id] = [...acked].find(([k]) => !/-\d+-\d+$/.test(k))!;
    const retry = await fetch(`${restarted.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serverKey}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ ...conversion(key), idempotencyKey: undefined }),
    });
    assert.deepEqual([retry.status, await retry.json()], [200, { ok: true, ids: [id], duplicates: 1 }]);
    assert.ok(outstandingAtKill > 0, 'requests were in flight when the process was killed');
  }));

  it('finishes the requests in flight on SIGTERM, stores every acknowledged event, and exits 0', () => inDataDir(async (start) => {
    const server = await start();
    const serverKey = await workspaceKey(server);
    const acked = new Map<string, number>();
    const REQUESTS = 300;
    let settled = 0;
    let settledAtSignal = -1;
    let stopping: Promise<number | null> | null = null;
    const requests = Array.from({ length: REQUESTS }, async (_, r) => {
      const got = await send(server.url, serverKey, Array.from({ length: 5 }, (_, j) => `t${r}-${j}`));
      settled++;
      if (got !== null) for (const [k, id] of got) acked.set(k, id);
      if (settled === 20) {
        settledAtSignal = settled;
        stopping = server.stop();
      }
    });
    await Promise.all(requests);
    assert.ok(stopping !== null && settledAtSignal < REQUESTS, 'SIGTERM was sent while requests were outstanding');
    assert.equal(await withinSeconds(30, stopping!), 0, `exit code; stderr:\n${server.stderr()}`);
    assert.ok(acked.size >= 20 * 5);

    assertStoredOnce(acked, await storedKeys(await start()));
  }));
});
