/**
 * The browser snippet, seen from the server: the built script to serve as /t.js, and the queue
 * stub pages paste before it. The snippet itself is browser/ (its own bundle and tsconfig); it
 * imports nothing from the server, and nothing here runs in a browser.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';

export interface TrackerBundle {
  code: Buffer;
  gzip: Buffer;
  /** A strong ETag of the code. */
  etag: string;
}

/**
 * Keeps calls made before /t.js has loaded (the tag is async), in order; the snippet runs them
 * when it loads. Also names the API `intellimize` and `wf`, so the Optimize docs' calls work as written.
 */
export const QUEUE_STUB = '<script>!function(w,c){c=w.closeloop=w.closeloop||{q:[]};"ready setUserId view track".split(" ").forEach(function(m){c[m]=c[m]||function(){c.q.push([m,arguments])}});w.intellimize=w.intellimize||c;w.wf=w.wf||c}(window)</script>';

let loading: Promise<TrackerBundle | null> | null = null;

/**
 * The snippet to serve. Built (dist/), it is the t.js `npm run build` wrote beside this module,
 * or null when that file is missing. Run from source (tests, tsx), it is built now from
 * browser/, so it is never stale; esbuild, a development dependency, is loaded only then.
 */
export function trackerBundle(): Promise<TrackerBundle | null> {
  loading ??= (async () => {
    let code: Buffer;
    if (import.meta.url.endsWith('.ts')) {
      const { buildTracker } = await import('./build.js');
      code = Buffer.from(await buildTracker());
    } else {
      const file = new URL('./t.js', import.meta.url);
      if (!fs.existsSync(file)) return null;
      code = fs.readFileSync(file);
    }
    const etag = `"${createHash('sha256').update(code).digest('base64url').slice(0, 27)}"`;
    return { code, gzip: gzipSync(code, { level: 9 }), etag };
  })();
  return loading;
}
