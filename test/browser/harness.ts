/**
 * Real Chromium against the real server: the built service on port 0, and a second tiny HTTP
 * server on another port for the test pages, so every snippet request is a real cross-origin one.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { snippetTag } from '../../src/cli/examples.js';
import { QUEUE_STUB } from '../../src/tracker/index.js';
import { startRealServer, type RealServer } from '../helpers/server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN_TOKEN = 'cl_admin_browser_test_0123456789abcdefghijk';
/** The server's clock starts here (CLOSELOOP_NOW). */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/**
 * Why the browser tests cannot run, or false. Without Chromium they are skipped — except under
 * CI=true, where they must run (and fail loudly if the browser is missing).
 */
export function skipReason(): string | false {
  if (fs.existsSync(CHROMIUM) || process.env.CI === 'true') return false;
  return `Chromium not found at ${CHROMIUM}: browser tests skipped (apt-get install chromium to run them; under CI=true they run and fail instead)`;
}

export interface Tenant { id: string; serverKey: string; browserKey: string }

export interface Harness {
  server: RealServer;
  browser: Browser;
  /** The test pages' origin, e.g. http://127.0.0.1:41234. */
  pageOrigin: string;
  /** Serves `html` at `path` on the page server; returns its URL. */
  page(path: string, html: string): string;
  admin(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  tenant(id: string, settings?: Record<string, unknown>): Promise<Tenant>;
  /** A workspace's stored events, oldest first. */
  events(ws: string, type?: string): Promise<any[]>;
  /**
   * A workspace's events once `done` holds for them, asking the server again after each answer
   * (no timer): for what a page sends as it goes away (sendBeacon), which Playwright does not report.
   */
  eventsWhen(ws: string, done: (events: any[]) => boolean): Promise<any[]>;
  /**
   * A fresh browser profile (empty localStorage), with a page opened; `init` (script text: a
   * function would carry tsx's helpers along) runs in every document before its own scripts.
   */
  open(init?: string): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** A page with the snippet: the queue stub, what runs before the tag loads, the tag, what runs after. */
export function snippetPage(h: Harness, key: string, opts: { before?: string; body?: string; stub?: boolean } = {}): string {
  return `<!doctype html><html><head><title>test</title>${opts.stub === false ? '' : QUEUE_STUB}
${opts.before ? `<script>${opts.before}</script>` : ''}
${snippetTag(h.server.url, key)}</head><body>${opts.body ?? ''}</body></html>`;
}

export async function startHarness(): Promise<Harness> {
  const server = await startRealServer({ env: { CLOSELOOP_NOW: new Date(T0).toISOString(), CLOSELOOP_ADMIN_TOKEN: ADMIN_TOKEN } });
  const pages = new Map<string, string>();
  const pageServer = http.createServer((req, res) => {
    const html = pages.get((req.url ?? '').split('?')[0]!);
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' }).end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  // A browser that cannot start must fail the suite, not leave the servers holding the test process open.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }).catch(async (err: unknown) => {
    pageServer.close();
    await server.kill();
    throw err;
  });
  const admin: Harness['admin'] = async (method, url, body) => {
    const res = await fetch(`${server.url}/admin/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  };
  const h: Harness = {
    server, browser, pageOrigin, admin,
    page(path, html) {
      pages.set(path, html);
      return `${pageOrigin}${path}`;
    },
    async tenant(id, settings) {
      const ws = await admin('POST', '/workspaces', { id, ...(settings ? { settings } : {}) });
      if (ws.status !== 201) throw new Error(JSON.stringify(ws.body));
      const key = async (kind: string) => (await admin('POST', `/workspaces/${id}/keys`, { name: kind, kind })).body.key as string;
      return { id, serverKey: await key('server'), browserKey: await key('browser') };
    },
    async events(ws, type) {
      const res = await admin('GET', `/workspaces/${ws}/events?limit=1000${type ? `&type=${type}` : ''}`);
      return (res.body.events as any[]).reverse();
    },
    async eventsWhen(ws, done) {
      for (let i = 0; i < 5000; i++) {
        const events = await h.events(ws);
        if (done(events)) return events;
      }
      throw new Error(`workspace ${ws}: the awaited events never arrived`);
    },
    async open(init) {
      const context = await browser.newContext();
      if (init !== undefined) await context.addInitScript({ content: init });
      return { context, page: await context.newPage() };
    },
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => pageServer.close(() => resolve()));
      await server.stop();
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** The page's snippet, as page.evaluate sees it (tests are type-checked without the DOM lib). */
declare const window: { closeloop: { ready(fn: (value: unknown) => void): void; flush(): Promise<void> } };

/** Waits until the snippet has its config, then until everything it buffered is acknowledged. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => window.closeloop.ready(resolve)));
  await page.evaluate(() => window.closeloop.flush());
}
