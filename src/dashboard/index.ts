/**
 * The dashboard, seen from the server: the built page, script and stylesheet to serve. The
 * dashboard itself is browser/ (its own bundle and tsconfig); it imports nothing from the server
 * and reads everything through the admin API. Nothing here runs in a browser.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { indexHtml } from './page.js';

export interface DashboardAsset {
  /** The name it is served under: content-hashed for the script and stylesheet. */
  name: string;
  contentType: string;
  body: Buffer;
  gzip: Buffer;
  /** A strong ETag of the body. */
  etag: string;
}

export interface DashboardBundle {
  html: DashboardAsset;
  /** By name: app.<hash>.js and app.<hash>.css. */
  assets: Map<string, DashboardAsset>;
}

const digest = (body: Buffer) => createHash('sha256').update(body).digest('base64url');

function asset(name: string, contentType: string, body: Buffer): DashboardAsset {
  return { name, contentType, body, gzip: gzipSync(body, { level: 9 }), etag: `"${digest(body).slice(0, 27)}"` };
}

/** Names a file by its content, so it can be cached for ever: a new build is a new URL. */
function hashed(base: string, ext: string, contentType: string, body: Buffer): DashboardAsset {
  const hash = digest(body).replace(/[-_]/g, '').slice(0, 12);
  return asset(`${base}.${hash}.${ext}`, contentType, body);
}

let loading: Promise<DashboardBundle | null> | null = null;

/**
 * The dashboard to serve. Built (dist/), it is the app.js and app.css `npm run build` wrote
 * beside this module, or null when they are missing. Run from source (tests, tsx), it is built
 * now from browser/, so it is never stale; esbuild, a development dependency, is loaded only then.
 */
export function dashboardBundle(): Promise<DashboardBundle | null> {
  loading ??= (async () => {
    let js: Buffer;
    let css: Buffer;
    if (import.meta.url.endsWith('.ts')) {
      const { buildDashboard } = await import('./build.js');
      const built = await buildDashboard();
      [js, css] = [Buffer.from(built.js), Buffer.from(built.css)];
    } else {
      const files = [new URL('./app.js', import.meta.url), new URL('./app.css', import.meta.url)];
      if (!files.every((f) => fs.existsSync(f))) return null;
      [js, css] = files.map((f) => fs.readFileSync(f)) as [Buffer, Buffer];
    }
    const script = hashed('app', 'js', 'text/javascript; charset=utf-8', js);
    const style = hashed('app', 'css', 'text/css; charset=utf-8', css);
    const html = asset('index.html', 'text/html; charset=utf-8', Buffer.from(indexHtml(script.name, style.name)));
    return { html, assets: new Map([[script.name, script], [style.name, style]]) };
  })();
  return loading;
}
