import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { hashSecret } from '../../src/auth/index.js';
import { loadConfig, type Config, type WorkspaceSettingsInput } from '../../src/config/index.js';
import { ManualClock } from '../../src/core/index.js';
import { buildApp, Metrics, type App } from '../../src/server/index.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/index.js';

/** 2026-01-15T12:00:00Z: tests run at a fixed instant, never the wall clock. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
export const ADMIN_TOKEN = 'cl_admin_test_token_0123456789abcdefghijklmnop';

export interface TestApp {
  app: App;
  store: SqliteStore;
  clock: ManualClock;
  config: Readonly<Config>;
  dir: string;
  /** Sends a request in-process and parses the JSON answer. */
  call(opts: InjectOptions): Promise<{ status: number; body: any; headers: LightMyRequestResponse['headers']; raw: string }>;
  /** Calls the admin API with the admin token. */
  admin(method: InjectOptions['method'], url: string, payload?: unknown): Promise<{ status: number; body: any }>;
  /** Creates a workspace with one server key and one browser key. */
  workspace(id: string, settings?: WorkspaceSettingsInput): Promise<{ id: string; serverKey: string; browserKey: string; serverKeyId: string }>;
  close(): Promise<void>;
}

/** A fresh service on its own SQLite file in a temporary folder, with a manual clock at T0. */
export async function testApp(overrides: Partial<Config> = {}, storeOptions: { threadedReadFrom?: number } = {}): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-test-'));
  const config = loadConfig({}, { data: dir }, { logLevel: 'silent', ...overrides });
  const clock = new ManualClock(T0);
  const metrics = new Metrics();
  const store = openSqliteStore({
    file: path.join(dir, 'closeloop.db'),
    commit: { maxWaitMs: 0, maxRows: config.commitMaxRows, maxPending: config.maxPendingCommits },
    quarantineMaxPerWorkspace: config.quarantineMaxPerWorkspace,
    now: clock.now(),
    onCommit: (rows, ms) => metrics.commit(rows, ms),
    ...storeOptions,
  });
  const app = await buildApp({ config, store, clock, metrics, adminTokenHash: hashSecret(ADMIN_TOKEN) });
  await app.fastify.ready();
  const call: TestApp['call'] = async (opts) => {
    const res = await app.fastify.inject(opts);
    let body: unknown = res.body;
    try {
      body = JSON.parse(res.body);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body, headers: res.headers, raw: res.body };
  };
  const admin: TestApp['admin'] = (method, url, payload) =>
    call({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return {
    app, store, clock, config, dir, call, admin,
    async workspace(id, settings) {
      await app.admin.createWorkspace({ id, ...(settings ? { settings } : {}) });
      const server = await app.admin.createKey(id, { name: 'server', kind: 'server' });
      const browser = await app.admin.createKey(id, { name: 'browser', kind: 'browser' });
      return { id, serverKey: server.key, browserKey: browser.key, serverKeyId: server.record.id };
    },
    async close() {
      await app.fastify.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How many events a workspace holds, counted page by page through the admin API. */
export async function eventCount(t: TestApp, workspaceId: string): Promise<number> {
  let n = 0;
  let cursor: number | null = null;
  for (;;) {
    const page: { events: unknown[]; next: number | null } = (await t.admin('GET', `/admin/v1/workspaces/${workspaceId}/events?limit=1000${cursor === null ? '' : `&after=${cursor}`}`)).body;
    n += page.events.length;
    if (page.next === null) return n;
    cursor = page.next;
  }
}
