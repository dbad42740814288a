/**
 * Hash routes, so that every page has a URL that can be bookmarked, shared and reloaded, and
 * the server serves one page: `#/` picks a workspace; `#/w/{ws}/{page}/{…rest}?{query}` is a page.
 */
import { queryString, type Query } from './api.js';
import { w } from './env.js';

export interface Route {
  /** null on the workspace picker. */
  ws: string | null;
  page: string;
  rest: string[];
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  if (parts[0] !== 'w' || parts[1] === undefined) return { ws: null, page: '', rest: [], query: new URLSearchParams(search) };
  return { ws: parts[1], page: parts[2] ?? 'optimizations', rest: parts.slice(3), query: new URLSearchParams(search) };
}

/** The hash of a workspace page. */
export function href(ws: string, page: string, rest: readonly string[] = [], query: Query = {}): string {
  return `#/w/${[ws, page, ...rest].map(encodeURIComponent).join('/')}${queryString(query)}`;
}

/** Shows a page: a new history entry, so Back returns to the previous one. */
export function go(hash: string): void {
  w.location.hash = hash;
}
