/**
 * The dashboard in real Chromium against the real server (the built CLI on port 0, its clock
 * started at T0). Builds the dashboard bundle into dist/ with esbuild first, so a test run without
 * `npm run build` works once dist/ holds the compiled server, and never drives a stale bundle.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, startRealServer, type RealServer } from '../helpers/server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN_TOKEN = 'cl_admin_dashboard_test_0123456789abcdefghij';
/** The server's clock starts here (CLOSELOOP_NOW); every seeded time is relative to it. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'dashboard');

/** Why the browser tests cannot run, or false. Under CI=true they always run (and fail loudly without Chromium). */
export function skipReason(): string | false {
  if (fs.existsSync(CHROMIUM) || process.env.CI === 'true') return false;
  return `Chromium not found at ${CHROMIUM}: dashboard browser tests skipped (apt-get install chromium to run them; under CI=true they run and fail instead)`;
}

/**
 * dist/ must hold the compiled server. The dashboard bundle is (re)built into it from source with
 * esbuild, so the tests never drive a missing or stale one (it takes a fraction of a second).
 */
async function ensureBuilt(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'server', 'dashboard-routes.js'))) {
    throw new Error('dist/ does not hold the dashboard routes: run `npm run build` (npm test does) before the dashboard tests.');
  }
  const { writeDashboard } = await import('../../src/dashboard/build.js');
  await writeDashboard();
}

export interface Harness {
  server: RealServer;
  browser: Browser;
  admin(method: string, url: string, body?: unknown): Promise<any>;
  /** Sends events to POST /v1/events with a server key; fails on a non-200. */
  send(key: string, events: unknown[]): Promise<any>;
  /** A fresh browser profile with a page whose console errors and uncaught exceptions are collected. */
  open(viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** Starts the server on a fresh data folder, after `prepare` (CLI commands, say) has run on it. */
export async function startHarness(prepare: (dataDir: string) => Promise<void> = async () => {}): Promise<Harness> {
  await ensureBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-dashboard-test-'));
  await prepare(dataDir);
  const server = await startRealServer({ dataDir, env: { CLOSELOOP_NOW: new Date(T0).toISOString(), CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN } });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }).catch(async (err: unknown) => {
    // A browser that cannot start must fail the suite, not leave the server holding the test process open.
    await server.kill();
    throw err;
  });
  const contexts: BrowserContext[] = [];
  const admin: Harness['admin'] = async (method, url, body) => {
    const res = await fetch(`${server.url}/admin/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json: unknown = await res.json();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    server, browser, admin,
    async send(key, events) {
      const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
      const json: unknown = await res.json();
      if (res.status !== 200) throw new Error(`POST /v1/events: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async open(viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport, baseURL: server.url });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
      // A 404 the page asked for on purpose (an unknown key) is logged by Chromium as a failed load; anything else is a fault.
      page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
      return { context, page, errors };
    },
    async close() {
      for (const c of contexts) await c.close();
      await browser.close();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
}

/** Saves a full-page screenshot under test-artifacts/dashboard/. */
export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The text of every cell of the first table matching `caption`, row by row. */
export async function tableText(page: Page, caption: string): Promise<string[][]> {
  const table = page.locator('table', { has: page.locator('caption', { hasText: caption }) }).first();
  await table.waitFor();
  return table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').trim())));
}
