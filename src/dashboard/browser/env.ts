/**
 * The browser globals and elements the dashboard touches, typed here rather than through the
 * DOM lib: the server's type-check (`tsc -p tsconfig.json`, no DOM lib) covers this folder too,
 * and must not see DOM globals. `src/dashboard/tsconfig.json` (DOM lib) proves these types are
 * what browsers have: see `_browserFits` below. Same approach as src/tracker/browser/env.ts.
 */

/** What an event listener is given (keys for keyboard events). */
export interface Ev {
  preventDefault(): void;
  readonly key?: string;
}

/** Any node: what append() takes besides text (every element is one). */
export interface DomNode {
  readonly nodeType: number;
}

/** An element as the dashboard uses it. */
export interface El extends DomNode {
  textContent: string | null;
  hidden: boolean;
  id: string;
  className: string;
  readonly clientWidth: number;
  readonly style: { setProperty(property: string, value: string): void };
  readonly classList: { toggle(token: string, force?: boolean): boolean };
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  removeAttribute(name: string): void;
  append(...nodes: (DomNode | string)[]): void;
  replaceChildren(...nodes: (DomNode | string)[]): void;
  remove(): void;
  focus(): void;
  addEventListener(type: string, listener: (event: Ev) => void): void;
}

/** A form control: input, select, textarea, button. */
export interface Field extends El {
  value: string;
  disabled: boolean;
}

export interface Input extends Field {
  checked: boolean;
  select(): void;
}

export interface HttpResponse {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface BrowserGlobals {
  document: {
    createElement(tagName: string): El;
    getElementById(elementId: string): El | null;
    title: string;
  };
  location: { hash: string; origin: string };
  history: { replaceState(data: unknown, unused: string, url?: string | null): void };
  localStorage: KeyValueStorage;
  sessionStorage: KeyValueStorage;
  navigator: { clipboard?: { writeText(data: string): Promise<void> } };
  addEventListener(type: string, listener: (event: Ev) => void): void;
  removeEventListener(type: string, listener: (event: Ev) => void): void;
  requestAnimationFrame(callback: () => void): number;
  fetch(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<HttpResponse>;
  setInterval(handler: () => void, ms: number): number;
  clearInterval(id: number | undefined): void;
}

/** The page's globals. */
export const w = globalThis as unknown as BrowserGlobals;

// Under the DOM lib, `typeof globalThis` has `document` and the element constructors, and each
// must fit the type declared here; a member typed here that browsers lack (or type otherwise)
// fails the dashboard's type-check. Without the DOM lib the conditions are vacuous.
type Browser = typeof globalThis extends { document: unknown } ? typeof globalThis : BrowserGlobals;
type Proto<K extends string, Fallback> = typeof globalThis extends { [P in K]: { prototype: infer T } } ? T : Fallback;
type Elements = [Proto<'HTMLElement', El>, Proto<'HTMLInputElement', Input>, Proto<'HTMLSelectElement', Field>, Proto<'HTMLTextAreaElement', Field>, Proto<'HTMLButtonElement', Field>, Proto<'KeyboardEvent', Ev>];
export const _browserFits: Browser extends BrowserGlobals ? (Elements extends [El, Input, Field, Field, Field, Ev] ? true : never) : never = true;
