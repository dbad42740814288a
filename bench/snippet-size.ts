/**
 * The browser snippet's weight: builds /t.js as `npm run build` does and prints its raw,
 * gzipped and brotli sizes, and the gzipped size as a ratio of the 2 KB target.
 * Exits non-zero when the target is missed (`-- --no-fail` to only report; `--json` adds the
 * figures as JSON on stdout, the text going to stderr).
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { buildTracker } from '../src/tracker/build.js';
import { peakRss } from './lib/rss.js';

const TARGET = 2048;
const json = process.argv.includes('--json');
const out = json ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);

const code = Buffer.from(await buildTracker());
const gzip = gzipSync(code, { level: 9 }).length;
const brotli = brotliCompressSync(code).length;
const kb = (n: number) => `${n} B (${(n / 1024).toFixed(2)} KB)`;

out(`/t.js raw      ${kb(code.length)}`);
out(`/t.js gzip -9  ${kb(gzip)}  ← served`);
out(`/t.js brotli   ${kb(brotli)}`);
out(`gzip / target  ${(gzip / TARGET).toFixed(3)} × the ${TARGET} B target — ${gzip <= TARGET ? 'met' : 'MISSED'}`);
if (json) process.stdout.write(`${JSON.stringify({ raw: code.length, gzip, brotli, target: TARGET, met: gzip <= TARGET, benchPeakRss: peakRss() })}\n`);
if (gzip > TARGET && !process.argv.includes('--no-fail')) process.exitCode = 1;
