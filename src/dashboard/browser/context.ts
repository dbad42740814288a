import type { Api } from './api.js';
import type { El } from './env.js';
import type { Route } from './router.js';

/** What a page is given to draw itself. */
export interface Ctx {
  api: Api;
  ws: string;
  route: Route;
  /** Draws the current page again, after it changed something. */
  reload(): void;
  /** Runs `fn` when the page is left: stops its timers. */
  onLeave(fn: () => void): void;
}

/** A page: fetches what it shows through the admin API and answers its content. */
export type Page = (ctx: Ctx) => Promise<El>;
