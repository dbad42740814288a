/**
 * The browser snippet's weight: builds /t.js as `npm run build` does and prints its raw,
 * gzipped and brotli sizes, and the gzipped size as a ratio of the 2 KB target.
 * Exits non-zero when the target is missed (`-- --no-fail` to only report).
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { buildTracker } from '../src/tracker/build.js';

const TARGET = 2048;

const code = Buffer.from(await buildTracker());
const gzip = gzipSync(code, { level: 9 }).length;
const brotli = brotliCompressSync(code).length;
const kb = (n: number) => `${n} B (${(n / 1024).toFixed(2)} KB)`;

console.log(`/t.js raw      ${kb(code.length)}`);
console.log(`/t.js gzip -9  ${kb(gzip)}  ← served`);
console.log(`/t.js brotli   ${kb(brotli)}`);
console.log(`gzip / target  ${(gzip / TARGET).toFixed(3)} × the ${TARGET} B target — ${gzip <= TARGET ? 'met' : 'MISSED'}`);
if (gzip > TARGET && !process.argv.includes('--no-fail')) process.exitCode = 1;
