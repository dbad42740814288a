/**
 * The ingest benchmark's server process: a bare `node:http` server or closeloop, alone in its
 * process, driven by the benchmark over IPC (bench/ingest/server.ts starts it).
 *
 *   node --import tsx bench/ingest/serve.ts bare|closeloop [--data-dir=dir] [--profile]
 *
 * closeloop runs as `closeloop serve` runs it (startServer: the real SQLite store with its writer
 * thread, group commit and synchronous=FULL, on a fresh data directory), with the process's
 * CLOSELOOP_* environment.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fsType } from '../lib/machine.js';
import { resetPeakRss } from '../lib/rss.js';
import type { Ask, Stats, Tell } from './server.js';

const { values: argv, positionals } = parseArgs({ allowPositionals: true, options: { 'data-dir': { type: 'string' }, profile: { type: 'boolean' } } });
const which = positionals[0];
if (which !== 'bare' && which !== 'closeloop') throw new Error(`serve.ts takes "bare" or "closeloop", got "${which ?? ''}"`);

/** Sums the Prometheus samples named `name` whose labels pass `keep`. */
function promSum(text: string, name: string, keep: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([^ ]+)/.exec(line);
    if (m !== null && m[1] === name && keep(m[2] ?? '')) sum += Number(m[3]);
  }
  return sum;
}

interface Side {
  url: string;
  note: string;
  setup: (ws: string, kind: 'server' | 'browser') => Promise<string>;
  stats: (ws: string) => Promise<Stats>;
  stop: () => Promise<void>;
}

async function bare(): Promise<Side> {
  const { newApiKey } = await import('../../src/auth/index.js');
  let answered = 0;
  const reply = Buffer.from('{"ok":true}');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Buffer.concat(chunks);
      answered++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': reply.length }).end(reply);
    });
  });
  server.keepAliveTimeout = 72_000; // as closeloop's Fastify options
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
    note: 'node:http, reads the body, answers 200',
    setup: async (_ws, kind) => newApiKey(kind).key, // a real-shaped key, so bodies and headers are the same size
    stats: async () => ({ answered, ok: answered, stored: 0, accepted: 0, duplicates: 0, rejected: 0, commits: 0, commitMs: 0, commitRows: 0 }),
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function closeloop(): Promise<Side> {
  const { loadConfig } = await import('../../src/config/index.js');
  const { startServer } = await import('../../src/server/index.js');
  const dataDir = fs.mkdtempSync(path.join(argv['data-dir'] ?? os.tmpdir(), 'closeloop-bench-'));
  const config = loadConfig(process.env, {}, { host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent' });
  const running = await startServer(config);
  return {
    url: running.url,
    note: `data ${dataDir} (${fsType(dataDir)}), commitMaxWaitMs=${config.commitMaxWaitMs}, commitMaxRows=${config.commitMaxRows}`,
    setup: async (ws, kind) => {
      await running.app.admin.createWorkspace({ id: ws, settings: { rateLimitPerMinute: 10_000_000 } });
      return (await running.app.admin.createKey(ws, { name: 'bench', kind })).key;
    },
    stats: async (ws) => {
      const text = await (await fetch(`${running.url}/metrics`)).text();
      const ingest = (l: string) => !l.includes('route="/metrics"');
      return {
        answered: promSum(text, 'closeloop_http_requests_total', ingest),
        ok: promSum(text, 'closeloop_http_requests_total', (l) => ingest(l) && /status="2\d\d"/.test(l)),
        stored: await running.store.events.monthlyCount(ws, Date.now()),
        accepted: promSum(text, 'closeloop_events_accepted_total'), duplicates: promSum(text, 'closeloop_events_duplicate_total'),
        rejected: promSum(text, 'closeloop_events_rejected_total'), commits: promSum(text, 'closeloop_commit_seconds_count'),
        commitMs: promSum(text, 'closeloop_commit_seconds_sum') * 1000, commitRows: promSum(text, 'closeloop_commit_rows_sum'),
      };
    },
    stop: async () => { await running.close(); fs.rmSync(dataDir, { recursive: true, force: true }); },
  };
}

const side = which === 'bare' ? await bare() : await closeloop();
const send = (m: Tell) => process.send!(m);
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
// The profiler runs in-process (node:inspector) so that it covers the measured run only, not
// start-up, module loading and warm-up as --cpu-prof would.
const inspector = argv.profile === true ? new (await import('node:inspector')).Session() : null;
const post = (method: string) => new Promise<unknown>((resolve, reject) => inspector!.post(method, (err, res) => (err ? reject(err) : resolve(res))));
if (inspector !== null) { inspector.connect(); await post('Profiler.enable'); }
process.on('message', (m: Ask) => {
  void (async () => {
    if (m.op === 'setup') send({ seq: m.seq, key: await side.setup(m.ws, m.keyKind) });
    else if (m.op === 'stats') send({ seq: m.seq, stats: await side.stats(m.ws) });
    else if (m.op === 'cpu') send({ seq: m.seq, cpuMs: cpuMs() });
    else if (m.op === 'resetPeak') send({ seq: m.seq, done: resetPeakRss() });
    else if (m.op === 'profile') {
      if (m.file === null) await post('Profiler.start');
      else fs.writeFileSync(m.file, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
      send({ seq: m.seq, done: true });
    } else { await side.stop(); process.exit(0); }
  })();
});
send({ op: 'ready', url: side.url, note: side.note });
