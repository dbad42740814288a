/**
 * Ingest throughput benchmark: a bare `node:http` server against closeloop's full pipeline
 * (authenticate → validate → dedupe → group commit with synchronous=FULL → answer), both driven
 * by autocannon over loopback with the same bodies, the same connections and the same client.
 *
 *   npm run bench:ingest                      10 s per scenario after a 3 s warm-up
 *   npm run bench:ingest -- --quick           2 s per scenario (smoke run)
 *   npm run bench:ingest -- --only=batch --skip-bare --profile   where closeloop's time goes
 *
 * Options (argv, or the BENCH_* environment variable in brackets): --duration=s [BENCH_DURATION],
 * --warmup=s [BENCH_WARMUP], --connections=n [BENCH_CONNECTIONS], --batch-connections=n
 * [BENCH_BATCH_CONNECTIONS], --batch-size=n, --only=native,optimize,batch, --skip-bare, --quick
 * [BENCH_QUICK=1], --json (figures as JSON on stdout, the table on stderr), --profile
 * [--profile-dir=dir], --data-dir=dir (parent of the temporary data directory; put it on the disk
 * you mean to measure). CLOSELOOP_* variables reach the closeloop child, e.g.
 * CLOSELOOP_COMMIT_MAX_WAIT_MS, so commit tuning can be compared without code changes.
 *
 * Process layout, and why: each server runs alone in a child process (this file with --serve),
 * one after the other, and autocannon runs in this parent. On 2 cores that gives the server's
 * event loop one core and the load generator the other. In one process they would share a single
 * thread, so every request would pay for both and the ratio would say little about either. The
 * layout is the same for the baseline and for closeloop, and the table shows the CPU each side
 * used: a generator near 100 % means that row measured autocannon (with a fresh body per request
 * it tops out near 30k req/s on one core of the 2-core dev VM), not the server.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// --- autocannon (CommonJS, no bundled types): only the part this file uses -------------------
interface CannonRequest { method: string; path: string; headers: Record<string, string>; body?: string; setupRequest?: (r: CannonRequest) => CannonRequest }
interface CannonResult {
  duration: number; errors: number; timeouts: number; non2xx: number; '2xx': number;
  latency: { p50: number; p99: number }; statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number; timeout: number; requests: CannonRequest[] }) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// --- what runs ----------------------------------------------------------------------------------
/**
 * batch: 100 conversions, each with its own idempotency key (the index that makes "never stored
 * twice" possible is paid per event); views: 100 variation views, as the snippet and /collect
 * send browser activity, which carries no idempotency key.
 */
type Kind = 'native' | 'optimize' | 'batch' | 'views';
const KINDS: readonly Kind[] = ['native', 'optimize', 'batch', 'views'];
const isBatch = (k: Kind): boolean => k === 'batch' || k === 'views';
const SINGLE_RATIO_TARGET = 0.7;
const BATCH_EVENTS_TARGET = 250_000;

const { values: argv } = parseArgs({
  options: {
    serve: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' }, 'skip-bare': { type: 'boolean' },
    duration: { type: 'string' }, warmup: { type: 'string' }, connections: { type: 'string' },
    'batch-connections': { type: 'string' }, 'batch-size': { type: 'string' }, only: { type: 'string' },
    profile: { type: 'boolean' }, 'profile-dir': { type: 'string' }, 'data-dir': { type: 'string' },
  },
});
const env = process.env;
const quick = argv.quick === true || env.BENCH_QUICK === '1';
function whole(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, got "${raw}"`);
  return n;
}
const opts = {
  duration: whole('--duration', argv.duration ?? env.BENCH_DURATION, quick ? 2 : 10),
  warmup: whole('--warmup', argv.warmup ?? env.BENCH_WARMUP, quick ? 1 : 3),
  connections: whole('--connections', argv.connections ?? env.BENCH_CONNECTIONS, 400),
  batchConnections: whole('--batch-connections', argv['batch-connections'] ?? env.BENCH_BATCH_CONNECTIONS, 64),
  batchSize: whole('--batch-size', argv['batch-size'], 100),
  kinds: argv.only === undefined ? [...KINDS] : argv.only.split(',').map((k) => k.trim()) as Kind[],
  bare: argv['skip-bare'] !== true,
};
const bad = opts.kinds.find((k) => !KINDS.includes(k));
if (bad !== undefined) throw new Error(`--only takes ${KINDS.join(', ')}, got "${bad}"`);
if (opts.batchSize > 500) throw new Error('--batch-size is at most 500 (the native batch limit)');

/** Request bodies: identical for the bare server and closeloop, so both parse the same bytes. */
function bodies(kind: Kind, ws: string, runId: string): { path: string; scheme: string; next: () => string } {
  let n = 0;
  if (kind === 'optimize') {
    return { path: '/event', scheme: 'ApiKey', next: () => { n++; return `{"customerId":"${ws}","eventName":"signup","userDomain":"crm","userId":"u${n % 1000}","actionId":"${runId}-${n}","actionTimestamp":${Date.now()}}`; } };
  }
  const event = kind === 'views'
    ? (i: number) => `{"type":"view","visitorId":"v${(n * 7 + i) % 100000}","optimization":"hero","variation":"${i % 2 === 0 ? 'control' : 'bold'}","timestamp":${Date.now()}}`
    : (i: number) => `{"type":"conversion","name":"signup","visitorId":"v${(n + i) % 1000}","idempotencyKey":"${runId}-${n}-${i}"}`;
  if (kind === 'native') return { path: '/v1/events', scheme: 'Bearer', next: () => { n++; return event(0); } };
  return {
    path: '/v1/events', scheme: 'Bearer',
    next: () => { n++; const parts: string[] = []; for (let i = 0; i < opts.batchSize; i++) parts.push(event(i)); return `{"events":[${parts.join(',')}]}`; },
  };
}

// --- the child: one server, driven over IPC ------------------------------------------------------
interface Stats { answered: number; ok: number; stored: number; accepted: number; duplicates: number; rejected: number; commits: number; commitMs: number; commitRows: number }
type Question = { op: 'setup' | 'stats'; ws: string } | { op: 'profile'; file: string | null } | { op: 'cpu' };
type Ask = (Question | { op: 'stop' }) & { seq: number };
type Tell = { op: 'ready'; url: string; note: string } | { seq: number; key: string } | { seq: number; stats: Stats } | { seq: number; cpuMs: number } | { seq: number; done: true };

/** Sums the Prometheus samples named `name` whose labels pass `keep`. */
function promSum(text: string, name: string, keep: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([^ ]+)/.exec(line);
    if (m !== null && m[1] === name && keep(m[2] ?? '')) sum += Number(m[3]);
  }
  return sum;
}

async function serve(which: 'bare' | 'closeloop'): Promise<void> {
  const send = (m: Tell) => process.send!(m);
  const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const { newApiKey } = await import('../src/auth/index.js');
  let stop: () => Promise<void>;
  let setup: (ws: string) => Promise<string>;
  let stats: (ws: string) => Promise<Stats>;
  if (which === 'bare') {
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
    send({ op: 'ready', url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`, note: 'node:http, reads the body, answers 200' });
    setup = async () => newApiKey('server').key; // a real-shaped key, so headers are the same size
    stats = async () => ({ answered, ok: answered, stored: 0, accepted: 0, duplicates: 0, rejected: 0, commits: 0, commitMs: 0, commitRows: 0 });
    stop = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  } else {
    const { loadConfig } = await import('../src/config/index.js');
    const { startServer } = await import('../src/server/index.js');
    const dataDir = fs.mkdtempSync(path.join(argv['data-dir'] ?? os.tmpdir(), 'closeloop-bench-'));
    const config = loadConfig(env, {}, { host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent' });
    const running = await startServer(config);
    send({ op: 'ready', url: running.url, note: `data ${dataDir} (${fsType(dataDir)}), commitMaxWaitMs=${config.commitMaxWaitMs}, commitMaxRows=${config.commitMaxRows}` });
    setup = async (ws) => {
      await running.app.admin.createWorkspace({ id: ws, settings: { rateLimitPerMinute: 10_000_000 } });
      return (await running.app.admin.createKey(ws, { name: 'bench', kind: 'server' })).key;
    };
    stats = async (ws) => {
      const text = await (await fetch(`${running.url}/metrics`)).text();
      const ingest = (l: string) => !l.includes('route="/metrics"');
      const ok = promSum(text, 'closeloop_http_requests_total', (l) => ingest(l) && /status="2\d\d"/.test(l));
      return {
        answered: promSum(text, 'closeloop_http_requests_total', ingest), ok,
        stored: await running.store.events.monthlyCount(ws, Date.now()),
        accepted: promSum(text, 'closeloop_events_accepted_total'), duplicates: promSum(text, 'closeloop_events_duplicate_total'),
        rejected: promSum(text, 'closeloop_events_rejected_total'), commits: promSum(text, 'closeloop_commit_seconds_count'),
        commitMs: promSum(text, 'closeloop_commit_seconds_sum') * 1000, commitRows: promSum(text, 'closeloop_commit_rows_sum'),
      };
    };
    stop = async () => { await running.close(); fs.rmSync(dataDir, { recursive: true, force: true }); };
  }
  // The profiler runs in-process (node:inspector) so that it covers the measured run only, not
  // start-up, module loading and warm-up as --cpu-prof would.
  const inspector = argv.profile === true ? new (await import('node:inspector')).Session() : null;
  const post = (method: string) => new Promise<unknown>((resolve, reject) => inspector!.post(method, (err, res) => (err ? reject(err) : resolve(res))));
  if (inspector !== null) { inspector.connect(); await post('Profiler.enable'); }
  process.on('message', (m: Ask) => {
    void (async () => {
      if (m.op === 'setup') send({ seq: m.seq, key: await setup(m.ws) });
      else if (m.op === 'stats') send({ seq: m.seq, stats: await stats(m.ws) });
      else if (m.op === 'cpu') send({ seq: m.seq, cpuMs: cpuMs() });
      else if (m.op === 'profile') {
        if (m.file === null) await post('Profiler.start');
        else fs.writeFileSync(m.file, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
        send({ seq: m.seq, done: true });
      } else { await stop(); process.exit(0); }
    })();
  });
}

/** The file system holding `dir` (tmpfs would make fsync free and the figures meaningless). */
function fsType(dir: string): string {
  try {
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((p) => p.length > 2);
    const real = fs.realpathSync(dir);
    const best = mounts.filter((p) => real === p[1] || real.startsWith(p[1] === '/' ? '/' : `${p[1]}/`)).sort((a, b) => b[1]!.length - a[1]!.length)[0];
    return best === undefined ? 'unknown fs' : `${best[2]} on ${best[0]}`;
  } catch {
    return 'unknown fs';
  }
}

// --- the parent: start a child, drive it, check it ----------------------------------------------
class Server {
  #seq = 0;
  #waiting = new Map<number, (m: Tell) => void>();
  #stopping = false;
  private constructor(readonly child: ChildProcess, readonly url: string, readonly note: string) {
    child.on('message', (m: Tell) => { if ('seq' in m) { this.#waiting.get(m.seq)?.(m); this.#waiting.delete(m.seq); } });
    child.on('exit', (code, signal) => {
      if (this.#stopping) return;
      process.stderr.write(`FAIL the server child died (exit ${code ?? signal}) in the middle of the benchmark\n`);
      process.exit(1);
    });
  }

  static start(which: 'bare' | 'closeloop'): Promise<Server> {
    const args = ['--serve', which, ...(argv['data-dir'] ? [`--data-dir=${argv['data-dir']}`] : []), ...(argv.profile === true ? ['--profile'] : [])];
    const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 2, 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the ${which} server exited with ${code} before it was ready`)));
      child.once('message', (m: Tell) => { if ('op' in m && m.op === 'ready') resolve(new Server(child, m.url, m.note)); });
    });
  }

  #ask<T extends Tell>(m: Question): Promise<T> {
    const seq = ++this.#seq;
    return new Promise((resolve) => { this.#waiting.set(seq, resolve as (m: Tell) => void); this.child.send({ ...m, seq }); });
  }
  async setup(ws: string): Promise<string> { return (await this.#ask<{ seq: number; key: string }>({ op: 'setup', ws })).key; }
  async stats(ws: string): Promise<Stats> { return (await this.#ask<{ seq: number; stats: Stats }>({ op: 'stats', ws })).stats; }
  /** CPU time the child has used, user + system, all threads (ms). */
  async cpu(): Promise<number> { return (await this.#ask<{ seq: number; cpuMs: number }>({ op: 'cpu' })).cpuMs; }
  /** Starts the child's CPU profiler (file null), or stops it and writes the profile to `file`. */
  async profile(file: string | null): Promise<void> { await this.#ask({ op: 'profile', file }); }
  /** Polls until the server has answered everything still in flight when the client stopped. */
  async settled(ws: string): Promise<Stats> {
    let last = await this.stats(ws);
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await this.stats(ws);
      if (now.answered === last.answered && now.stored === last.stored) return now;
      last = now;
    }
    return last;
  }
  stop(): Promise<void> {
    this.#stopping = true;
    return new Promise((resolve) => { this.child.once('exit', () => resolve()); this.child.send({ op: 'stop', seq: 0 }); });
  }
}

interface Row {
  scenario: string; server: 'bare' | 'closeloop'; kind: Kind; connections: number; eventsPerRequest: number;
  reqPerSec: number; eventsPerSec: number; p50: number; p99: number; non2xx: number; errors: number;
  serverCpu: number; loadgenCpu: number; storedEvents: number | null; answered2xx: number;
  commitsPerSec: number | null; rowsPerCommit: number | null; msPerCommit: number | null; problems: string[];
}

const delta = (a: Stats, b: Stats): Stats =>
  Object.fromEntries(Object.keys(a).map((k) => [k, b[k as keyof Stats] - a[k as keyof Stats]])) as unknown as Stats;

async function scenario(server: Server, which: 'bare' | 'closeloop', kind: Kind, runId: string, profile: string | null): Promise<Row> {
  const ws = `bench-${kind}-${runId}`; // same id for bare and closeloop: same body bytes
  const key = await server.setup(ws);
  const connections = isBatch(kind) ? opts.batchConnections : opts.connections;
  const eventsPerRequest = isBatch(kind) ? opts.batchSize : 1;
  const gen = bodies(kind, ws, runId);
  const request: CannonRequest = {
    method: 'POST', path: gen.path, headers: { 'content-type': 'application/json', authorization: `${gen.scheme} ${key}` },
    setupRequest: (r) => { r.body = gen.next(); return r; },
  };
  const drive = (duration: number) => autocannon({ url: server.url, connections, duration, pipelining: 1, timeout: 30, requests: [request] });
  const s0 = await server.stats(ws);
  const warm = await drive(opts.warmup);
  const s1 = await server.stats(ws);
  if (profile !== null) await server.profile(null);
  const srvCpu0 = await server.cpu();
  const genCpu0 = process.cpuUsage();
  const t0 = performance.now();
  const main = await drive(opts.duration);
  const wallMs = performance.now() - t0;
  const genCpu = process.cpuUsage(genCpu0);
  const srvCpu = await server.cpu() - srvCpu0;
  if (profile !== null) await server.profile(profile);
  const end = await server.settled(ws);
  const all = delta(s0, end);
  const measured = delta(s1, end);
  const problems: string[] = [];
  const clientOk = warm['2xx'] + main['2xx'];
  const non2xx = warm.non2xx + main.non2xx;
  if (non2xx > 0) {
    const codes: Record<string, number> = {};
    for (const r of [warm, main]) for (const [code, { count }] of Object.entries(r.statusCodeStats)) codes[code] = (codes[code] ?? 0) + count;
    problems.push(`${non2xx} non-2xx answers, by status ${JSON.stringify(codes)}`);
  }
  if (warm.errors + main.errors + warm.timeouts + main.timeouts > 0) problems.push(`${warm.errors + main.errors} socket errors, ${warm.timeouts + main.timeouts} timeouts`);
  // Requests in flight when autocannon stops (after the warm-up and after the run) are still
  // answered, to a closed socket: at most one per connection per run.
  if (all.ok < clientOk || all.ok > clientOk + 2 * connections) problems.push(`server answered ${all.ok} × 2xx, client counted ${clientOk}`);
  if (which === 'closeloop') {
    // A request in flight when autocannon closes its socket is still committed, but its answer
    // goes nowhere (no onResponse): stored may exceed the answered count by those, never fall short.
    if (all.stored < all.ok * eventsPerRequest || all.stored > (all.ok + 2 * connections) * eventsPerRequest) {
      problems.push(`stored ${all.stored} events for ${all.ok} × 2xx × ${eventsPerRequest}`);
    }
    if (all.duplicates > 0 || all.rejected > 0) problems.push(`${all.duplicates} duplicates, ${all.rejected} rejected`);
  }
  const reqPerSec = main['2xx'] / main.duration; // refusals are not throughput
  return {
    scenario: `${which} ${kind}`, server: which, kind, connections, eventsPerRequest, reqPerSec, eventsPerSec: reqPerSec * eventsPerRequest,
    p50: main.latency.p50, p99: main.latency.p99, non2xx, errors: warm.errors + main.errors,
    serverCpu: srvCpu / wallMs, loadgenCpu: (genCpu.user + genCpu.system) / 1000 / wallMs,
    storedEvents: which === 'closeloop' ? all.stored : null, answered2xx: all.ok,
    commitsPerSec: which === 'closeloop' ? measured.commits / (wallMs / 1000) : null,
    rowsPerCommit: which === 'closeloop' && measured.commits > 0 ? measured.commitRows / measured.commits : null,
    msPerCommit: which === 'closeloop' && measured.commits > 0 ? measured.commitMs / measured.commits : null,
    problems,
  };
}

// --- CPU profile summary ---------------------------------------------------------------------------
interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
function summariseProfile(kind: Kind, file: string, top = 25): string[] {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '').replace(/^.*node_modules\//, '');
    // tsx-compiled sources report generated line numbers, useless against the .ts file.
    const where = url === '' ? '' : url.includes('node_modules/') || url.startsWith('node:') ? ` ${short}:${lineNumber + 1}` : ` ${short}`;
    const domain = /\/src\/([^/]+)\//.exec(url)?.[1];
    const group = url === '' ? (functionName.startsWith('(') ? functionName : 'native (C++: sqlite, crypto, …)')
      : url.startsWith('node:') ? 'node core'
        : url.includes('node_modules/') ? short.split('/')[0]!
          : domain !== undefined ? `src/${domain}` : 'other';
    const name = `${functionName || '(anonymous)'}${where}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    area.set(group, (area.get(group) ?? 0) + us);
    total += us;
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const sorted = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `closeloop ${kind}: CPU profile of the measured run, ${file} (${(total / 1e6).toFixed(1)} s of wall time on the event loop; the profiler slows the server)`,
    'self time by area:', ...sorted(area, 14).map(([k, us]) => `  ${pct(us)}  ${k}`),
    `top ${top} functions by self time:`, ...sorted(fn, top).map(([k, us]) => `  ${pct(us)}  ${k}`),
  ];
}

// --- main ------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const out = argv.json === true ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);
  const runId = Date.now().toString(36);
  const cpus = os.cpus();
  const machine = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg: os.loadavg().map((l) => Number(l.toFixed(2))) };
  out(`closeloop ingest benchmark — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.platform}, load average ${machine.loadavg.join(' ')}`);
  out(`${opts.duration} s per scenario after ${opts.warmup} s warm-up; ${opts.connections} connections for single events, ${opts.batchConnections} for batches of ${opts.batchSize}; autocannon in the parent, each server alone in a child process`);
  const profileDir = argv.profile === true ? argv['profile-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-prof-')) : '';
  const rows: Row[] = [];
  for (const which of ['bare', 'closeloop'] as const) {
    if (which === 'bare' && !opts.bare) continue;
    const server = await Server.start(which);
    out(`${which}: ${server.url} — ${server.note}`);
    const cleanup = () => { server.child.kill('SIGKILL'); process.exit(130); };
    process.once('SIGINT', cleanup);
    try {
      for (const kind of opts.kinds) rows.push(await scenario(server, which, kind, runId, which === 'closeloop' && profileDir !== '' ? path.join(profileDir, `${kind}.cpuprofile`) : null));
    } finally {
      process.off('SIGINT', cleanup);
      await server.stop();
    }
  }

  const bareOf = (k: Kind) => rows.find((r) => r.server === 'bare' && r.kind === k);
  const verdicts = rows.map((r) => {
    if (r.problems.length > 0) return { ratio: null as number | null, pass: false as boolean | null, text: 'INVALID (see FAIL below)' };
    if (r.server === 'bare') return { ratio: null, pass: null, text: 'baseline' };
    const ratio = bareOf(r.kind) === undefined ? null : r.reqPerSec / bareOf(r.kind)!.reqPerSec;
    if (isBatch(r.kind)) {
      const pass = r.eventsPerSec >= BATCH_EVENTS_TARGET;
      return { ratio, pass, text: `${(r.eventsPerSec / 1000).toFixed(0)}k/${BATCH_EVENTS_TARGET / 1000}k ev/s ${pass ? 'PASS' : 'MISS'}${ratio === null ? '' : ` (${ratio.toFixed(2)}× bare)`}` };
    }
    const pass = ratio === null ? null : ratio >= SINGLE_RATIO_TARGET;
    return { ratio, pass, text: ratio === null ? 'no baseline' : `${ratio.toFixed(2)}× bare (≥${SINGLE_RATIO_TARGET}) ${pass ? 'PASS' : 'MISS'}` };
  });
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const table = [
    ['scenario', 'conns', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'stored', 'srv cpu', 'gen cpu', 'commits/s', 'rows/commit', 'ms/commit', 'vs target'],
    ...rows.map((r, i) => [
      r.scenario, String(r.connections), fmt(r.reqPerSec), fmt(r.eventsPerSec), fmt(r.p50, 1), fmt(r.p99, 1), String(r.non2xx),
      r.storedEvents === null ? '-' : fmt(r.storedEvents), `${fmt(100 * r.serverCpu)}%`, `${fmt(100 * r.loadgenCpu)}%`,
      r.commitsPerSec === null ? '-' : fmt(r.commitsPerSec), r.rowsPerCommit === null ? '-' : fmt(r.rowsPerCommit, 1),
      r.msPerCommit === null ? '-' : fmt(r.msPerCommit, 2), verdicts[i]!.text,
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  out('');
  for (const row of table) out(row.map((cell, c) => (c === 0 || c === row.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
  if (rows.some((r) => r.loadgenCpu > 0.9)) out('note: the load generator used >90 % of a core in some scenarios, so those figures are bounded by autocannon, not the server.');

  const problems = rows.flatMap((r) => r.problems.map((p) => `${r.scenario}: ${p}`));
  for (const p of problems) out(`FAIL ${p}`);
  for (const kind of profileDir === '' ? [] : opts.kinds) {
    out('');
    for (const line of summariseProfile(kind, path.join(profileDir, `${kind}.cpuprofile`))) out(line);
  }

  const summary = {
    machine, options: opts, ok: problems.length === 0, problems,
    scenarios: rows.map((r, i) => ({ ...r, ratioToBare: verdicts[i]!.ratio, targetMet: verdicts[i]!.pass })),
  };
  const pick = (k: Kind) => summary.scenarios.find((s) => s.server === 'closeloop' && s.kind === k);
  out(`\nRESULT ${KINDS.filter((k) => pick(k) !== undefined).map((k) => (isBatch(k)
    ? `${k}${opts.batchSize}=${fmt(pick(k)!.eventsPerSec)} ev/s`
    : `${k}=${fmt(pick(k)!.reqPerSec)} req/s${pick(k)!.ratioToBare === null ? '' : ` (${pick(k)!.ratioToBare!.toFixed(2)}× bare)`}`)).join(', ')} — ${problems.length === 0 ? 'all requests stored exactly once' : `${problems.length} problem(s)`}`);
  if (argv.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

if (argv.serve === 'bare' || argv.serve === 'closeloop') await serve(argv.serve);
else await main();
