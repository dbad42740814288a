import { w } from './env.js';

/**
 * Calls `onChange(previousUrl)` whenever a single-page app changes the URL: pushState and
 * replaceState (wrapped), and back/forward (popstate). A replaceState to the same URL is no change.
 */
export function watchHistory(onChange: (previousUrl: string) => void): void {
  let last = w.location.href;
  const check = (): void => {
    const now = w.location.href;
    if (now === last) return;
    const previous = last;
    last = now;
    onChange(previous);
  };
  const h = w.history as unknown as Record<string, (...args: unknown[]) => void>;
  for (const method of ['pushState', 'replaceState']) {
    const original = h[method]!;
    h[method] = function (this: unknown, ...args: unknown[]) {
      original.apply(this, args);
      check();
    };
  }
  w.addEventListener('popstate', check);
}
