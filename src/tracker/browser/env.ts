/**
 * The browser globals the snippet touches, typed here rather than through the DOM lib: the
 * server's type-check (`tsc -p tsconfig.json`, no DOM lib) covers this folder too, and must not
 * see DOM globals. `src/tracker/tsconfig.json` (DOM lib) proves these types are what browsers
 * have: see `_browserFits` below.
 */

export interface Attributes {
  getAttribute(name: string): string | null;
  dataset: { key?: string };
}

/** localStorage, read and written as properties (our keys, cl_* and ot_vid, shadow none of Storage's methods). */
export type KeyValueStorage = Record<string, unknown>;

export interface HttpResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

export interface BrowserGlobals {
  document: {
    currentScript: Attributes | null;
    querySelector(selector: string): Attributes | null;
    referrer: string;
    visibilityState: string;
    addEventListener(type: string, listener: () => void): void;
  };
  location: { href: string };
  history: { pushState(data: unknown, unused: string, url?: string | null): void; replaceState(data: unknown, unused: string, url?: string | null): void };
  navigator: { sendBeacon(url: string, data: string): boolean };
  localStorage: KeyValueStorage;
  crypto: { getRandomValues(array: Uint8Array): Uint8Array };
  addEventListener(type: string, listener: () => void): void;
  fetch(url: string, init: { method?: string; body?: string; keepalive?: boolean }): Promise<HttpResponse>;
  setTimeout(handler: () => void, ms: number): unknown;
}

/** The page's globals, plus the names the snippet publishes and reads. */
export const w = globalThis as unknown as BrowserGlobals & Record<string, unknown> & {
  navigator: { globalPrivacyControl?: boolean };
};

// Under the DOM lib, `typeof globalThis` has `document`, and must then be a BrowserGlobals: a
// member typed here that browsers lack (or type otherwise) fails the tracker's type-check.
// Without the DOM lib the condition is vacuous.
type Browser = typeof globalThis extends { document: unknown } ? typeof globalThis : BrowserGlobals;
export const _browserFits: Browser extends BrowserGlobals ? true : never = true;
