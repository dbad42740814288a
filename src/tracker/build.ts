/**
 * Builds the browser snippet (browser/main.ts) into one small minified script with esbuild.
 * `npm run build` runs this file (built, as dist/tracker/build.js) to write dist/tracker/t.js;
 * the server run from source (tests) and bench/snippet-size.ts build in memory with the same options.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root: two levels up from src/tracker/ and from dist/tracker/ alike. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ENTRY = path.join(ROOT, 'src', 'tracker', 'browser', 'main.ts');
export const OUTPUT = path.join(ROOT, 'dist', 'tracker', 't.js');

/** The snippet's source, minified; ES2021 (browsers from 2020 on: optional chaining, ??=). */
export async function buildTracker(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2021',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
    // An IIFE needs no "use strict" prologue: every byte counts towards the 2 KB target.
    tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
  });
  return result.outputFiles[0]!.text;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await buildTracker();
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  fs.writeFileSync(OUTPUT, code);
  process.stdout.write(`browser snippet: ${path.relative(ROOT, OUTPUT)} (${Buffer.byteLength(code)} bytes)\n`);
}
