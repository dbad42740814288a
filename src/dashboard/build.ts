/**
 * Builds the dashboard (browser/main.ts and the CSS it imports, uPlot's included) into one
 * script and one stylesheet with esbuild. `npm run build` runs this file (built, as
 * dist/dashboard/build.js) to write dist/dashboard/app.js and app.css; the server run from source
 * (tests, tsx) builds in memory with the same options.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root: two levels up from src/dashboard/ and from dist/dashboard/ alike. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ENTRY = path.join(ROOT, 'src', 'dashboard', 'browser', 'main.ts');
export const OUT_DIR = path.join(ROOT, 'dist', 'dashboard');

export interface BuiltDashboard {
  js: string;
  css: string;
}

/** The dashboard, minified, for browsers from 2020 on (ES2020: optional chaining, ??). */
export async function buildDashboard(): Promise<BuiltDashboard> {
  const result = await build({
    entryPoints: { app: ENTRY },
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    outdir: OUT_DIR,
    write: false,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const text = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  return { js: text('.js'), css: text('.css') };
}

/** Builds and writes dist/dashboard/app.js and app.css; answers their sizes. */
export async function writeDashboard(): Promise<{ js: number; css: number }> {
  const built = await buildDashboard();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  // Written aside and renamed: a server starting meanwhile reads the old file or the new one, never half of one.
  for (const [name, text] of [['app.js', built.js], ['app.css', built.css]] as const) {
    const tmp = path.join(OUT_DIR, `.${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, path.join(OUT_DIR, name));
  }
  return { js: Buffer.byteLength(built.js), css: Buffer.byteLength(built.css) };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await writeDashboard();
  process.stdout.write(`dashboard: ${path.relative(ROOT, OUT_DIR)}/app.js (${sizes.js} bytes), app.css (${sizes.css} bytes)\n`);
}
