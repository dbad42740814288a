/**
 * Ingest throughput benchmark: a bare `node:http` server against closeloop's full pipeline
 * (authenticate → validate → dedupe → group commit with synchronous=FULL → answer), for every
 * dialect endpoint, single events and batches (bench/ingest/dialects.ts), both driven by autocannon
 * over loopback with the same bodies, the same connections and the same client.
 *
 *   npm run bench:ingest                      10 s per scenario after a 3 s warm-up
 *   npm run bench:ingest -- --quick           1 s per scenario (smoke run)
 *   npm run bench:ingest -- --only=native-batch --skip-bare --profile   where closeloop's time goes
 *
 * Options (argv, or the BENCH_* environment variable in brackets): --duration=s [BENCH_DURATION],
 * --warmup=s [BENCH_WARMUP], --connections=n [BENCH_CONNECTIONS], --batch-connections=n
 * [BENCH_BATCH_CONNECTIONS], --batch-size=n (capped at each dialect's limit),
 * --only=native,optimize,… (kinds in bench/ingest/dialects.ts), --skip-bare, --quick
 * [BENCH_QUICK=1], --reuse-servers (one server process per side for all scenarios; the default
 * with --quick, which --fresh-servers undoes), --json (figures as JSON on stdout, the table on stderr), --profile
 * [--profile-dir=dir], --data-dir=dir (parent of the temporary data directory; put it on the disk
 * you mean to measure). CLOSELOOP_* variables reach the closeloop child, e.g.
 * CLOSELOOP_COMMIT_MAX_WAIT_MS, so commit tuning can be compared without code changes.
 *
 * Process layout, and why: each server runs alone in a child process (bench/ingest/serve.ts), a
 * fresh one per scenario (closeloop on a fresh data directory, so no scenario inherits another's
 * database or memory; --quick reuses one per side, as starting closeloop from source takes a few
 * seconds), the bare server and closeloop one after the other for each scenario so
 * that the baseline is measured as close in time as possible; autocannon runs in this parent.
 * On 2 cores that gives the server's event loop one core and the load generator the other. In
 * one process they would share a single thread, so every request would pay for both and the
 * ratio would say little about either. The table shows the CPU each side used: a generator near
 * 100 % means that row measured autocannon, not the server. Peak RSS is the server process's
 * VmHWM and this process's, reset at the start of each scenario.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { kindsFrom, scenarios, type Kind, type Scenario } from './ingest/dialects.js';
import { summariseProfile } from './ingest/profile.js';
import { Server, type Stats, type Which } from './ingest/server.js';
import { bytes, fmt, textTable } from './lib/format.js';
import { describeMachine, machine } from './lib/machine.js';
import { peakRss, resetPeakRss } from './lib/rss.js';

// --- autocannon (CommonJS, no bundled types): only the part this file uses -------------------
interface CannonRequest { method: string; path: string; headers: Record<string, string>; body?: string; setupRequest?: (r: CannonRequest) => CannonRequest }
interface CannonResult {
  duration: number; errors: number; timeouts: number; non2xx: number; '2xx': number;
  latency: { p50: number; p99: number }; statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number; timeout: number; requests: CannonRequest[] }) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Targets from the ingest issue: single native/Optimize events ≥ 0.70 × bare; native batches of 100 ≥ 250k events/s. */
const SINGLE_RATIO_TARGET = 0.7;
const BATCH_EVENTS_TARGET = 250_000;
const TARGETED: Partial<Record<Kind, 'ratio' | 'events'>> = { native: 'ratio', optimize: 'ratio', 'native-batch': 'events', 'native-views': 'events' };

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean' }, json: { type: 'boolean' }, 'skip-bare': { type: 'boolean' }, 'reuse-servers': { type: 'boolean' }, 'fresh-servers': { type: 'boolean' },
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
  duration: whole('--duration', argv.duration ?? env.BENCH_DURATION, quick ? 1 : 10),
  warmup: whole('--warmup', argv.warmup ?? env.BENCH_WARMUP, quick ? 1 : 3),
  connections: whole('--connections', argv.connections ?? env.BENCH_CONNECTIONS, 400),
  batchConnections: whole('--batch-connections', argv['batch-connections'] ?? env.BENCH_BATCH_CONNECTIONS, 64),
  batchSize: whole('--batch-size', argv['batch-size'], 100),
  kinds: kindsFrom(argv.only),
  bare: argv['skip-bare'] !== true,
  /** One server process per side for the whole run (quick), rather than a fresh one per scenario. */
  reuseServers: argv['reuse-servers'] === true || (quick && argv['fresh-servers'] !== true),
};
const SCENARIOS = scenarios(opts.batchSize);

interface Row {
  scenario: string; title: string; server: Which; kind: Kind; connections: number; eventsPerRequest: number;
  reqPerSec: number; eventsPerSec: number; p50: number; p99: number; non2xx: number; /** Share of requests answered 503 (refused load, with Retry-After). */ refusedShare: number; errors: number;
  serverCpu: number; loadgenCpu: number; storedEvents: number | null; answered2xx: number;
  commitsPerSec: number | null; rowsPerCommit: number | null; msPerCommit: number | null;
  /**
   * VmHWM of the server process and of this one (bytes), reset as the scenario starts unless
   * peakReset is false (then since each process started).
   */
  serverPeakRss: number | null; benchPeakRss: number | null; peakReset: boolean;
  problems: string[];
}

const delta = (a: Stats, b: Stats): Stats =>
  Object.fromEntries(Object.keys(a).map((k) => [k, b[k as keyof Stats] - a[k as keyof Stats]])) as unknown as Stats;

async function measure(server: Server, which: Which, s: Scenario, runId: string, profile: string | null): Promise<Row> {
  const ws = `bench-${s.kind}-${runId}`; // same id for bare and closeloop: same body bytes
  const key = await server.setup(ws, s.keyKind);
  const connections = s.batch ? opts.batchConnections : opts.connections;
  const traffic = s.traffic(ws, key, runId);
  const request: CannonRequest = { method: 'POST', path: traffic.path, headers: traffic.headers, setupRequest: (r) => { r.body = traffic.next(); return r; } };
  const drive = (duration: number) => autocannon({ url: server.url, connections, duration, pipelining: 1, timeout: 30, requests: [request] });
  const problems: string[] = [];
  // One request first: it starts what the first write starts (closeloop's writer thread), and a
  // body the dialect refuses shows here with its error rather than as a wall of non-2xx.
  const primed = await fetch(`${server.url}${traffic.path}`, { method: 'POST', headers: traffic.headers, body: traffic.next() });
  const primedBody = await primed.text();
  if (primed.status >= 300) problems.push(`the first request was answered ${primed.status}: ${primedBody.slice(0, 300)}`);
  const peakReset = [resetPeakRss(), await server.resetPeak()].every(Boolean);
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
  const clientOk = warm['2xx'] + main['2xx'];
  const non2xx = warm.non2xx + main.non2xx;
  const codes: Record<string, number> = {};
  for (const r of [warm, main]) for (const [code, { count }] of Object.entries(r.statusCodeStats)) codes[code] = (codes[code] ?? 0) + count;
  // 503 is closeloop refusing load beyond what it commits (admission control, with Retry-After):
  // a figure of the run, not a fault; any other non-2xx is.
  const refused = which === 'closeloop' ? codes['503'] ?? 0 : 0;
  if (non2xx - refused > 0) problems.push(`${non2xx - refused} non-2xx answers other than 503, by status ${JSON.stringify(codes)}`);
  if (warm.errors + main.errors + warm.timeouts + main.timeouts > 0) problems.push(`${warm.errors + main.errors} socket errors, ${warm.timeouts + main.timeouts} timeouts`);
  // Requests in flight when autocannon stops (after the warm-up and after the run) are still
  // answered, to a closed socket: at most one per connection per run.
  if (all.ok < clientOk || all.ok > clientOk + 2 * connections) problems.push(`server answered ${all.ok} × 2xx, client counted ${clientOk}`);
  if (which === 'closeloop') {
    // A request in flight when autocannon closes its socket is still committed, but its answer
    // goes nowhere (no onResponse): stored may exceed the answered count by those, never fall short.
    if (all.stored < all.ok * s.events || all.stored > (all.ok + 2 * connections) * s.events) {
      problems.push(`stored ${all.stored} events for ${all.ok} × 2xx × ${s.events}`);
    }
    if (all.duplicates > 0 || all.rejected > 0) problems.push(`${all.duplicates} duplicates, ${all.rejected} rejected`);
  }
  const reqPerSec = main['2xx'] / main.duration; // refusals are not throughput
  const hasCommits = which === 'closeloop' && measured.commits > 0;
  return {
    scenario: `${which} ${s.kind}`, title: s.title, server: which, kind: s.kind, connections, eventsPerRequest: s.events,
    reqPerSec, eventsPerSec: reqPerSec * s.events, p50: main.latency.p50, p99: main.latency.p99, non2xx, refusedShare: refused / Math.max(1, clientOk + non2xx), errors: warm.errors + main.errors,
    serverCpu: srvCpu / wallMs, loadgenCpu: (genCpu.user + genCpu.system) / 1000 / wallMs,
    storedEvents: which === 'closeloop' ? all.stored : null, answered2xx: all.ok,
    commitsPerSec: which === 'closeloop' ? measured.commits / (wallMs / 1000) : null,
    rowsPerCommit: hasCommits ? measured.commitRows / measured.commits : null,
    msPerCommit: hasCommits ? measured.commitMs / measured.commits : null,
    serverPeakRss: server.peakRss(), benchPeakRss: peakRss(), peakReset,
    problems,
  };
}

/** The row's ratio to the bare server's row for the same scenario, and how it stands against the issue's target. */
function verdict(r: Row, bare: Row | undefined): { ratio: number | null; pass: boolean | null; text: string } {
  if (r.problems.length > 0) return { ratio: null, pass: false, text: 'INVALID (see FAIL below)' };
  if (r.server === 'bare') return { ratio: null, pass: null, text: 'baseline' };
  const ratio = bare === undefined || bare.problems.length > 0 ? null : r.reqPerSec / bare.reqPerSec;
  const rel = ratio === null ? 'no baseline' : `${ratio.toFixed(2)}× bare`;
  const target = TARGETED[r.kind];
  if (target === 'events') {
    const pass = r.eventsPerSec >= BATCH_EVENTS_TARGET;
    return { ratio, pass, text: `${rel}; ${(r.eventsPerSec / 1000).toFixed(0)}k/${BATCH_EVENTS_TARGET / 1000}k ev/s ${pass ? 'PASS' : 'MISS'}` };
  }
  if (target === 'ratio' && ratio !== null) {
    const pass = ratio >= SINGLE_RATIO_TARGET;
    return { ratio, pass, text: `${rel} (≥${SINGLE_RATIO_TARGET}) ${pass ? 'PASS' : 'MISS'}` };
  }
  return { ratio, pass: null, text: rel };
}

async function main(): Promise<void> {
  const out = argv.json === true ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);
  const runId = Date.now().toString(36);
  const m = machine();
  out(`closeloop ingest benchmark — ${describeMachine(m)}, load average ${m.loadavg.join(' ')}`);
  out(`${opts.duration} s per scenario after ${opts.warmup} s warm-up; ${opts.connections} connections for single events, ${opts.batchConnections} for batches; autocannon in this process, each server alone in a child process, ${opts.reuseServers ? 'one per side for all scenarios (a workspace each)' : 'a fresh one per scenario'}`);
  const profileDir = argv.profile === true ? argv['profile-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'closeloop-prof-')) : '';
  const rows: Row[] = [];
  const live = new Map<Which, Server>();
  const cleanup = () => { for (const server of live.values()) server.kill(); process.exit(130); };
  process.once('SIGINT', cleanup);
  try {
    for (const kind of opts.kinds) {
      for (const which of ['bare', 'closeloop'] as const) {
        if (which === 'bare' && !opts.bare) continue;
        let server = live.get(which);
        if (server === undefined) {
          server = await Server.start(which, { dataDir: argv['data-dir'], profile: argv.profile === true });
          live.set(which, server);
          out(`${which}${opts.reuseServers ? '' : ` ${kind}`}: ${server.url} — ${server.note}`);
        }
        rows.push(await measure(server, which, SCENARIOS[kind], runId, which === 'closeloop' && profileDir !== '' ? path.join(profileDir, `${kind}.cpuprofile`) : null));
        if (!opts.reuseServers) {
          live.delete(which);
          await server.stop();
        }
      }
    }
  } finally {
    process.off('SIGINT', cleanup);
    for (const server of live.values()) await server.stop();
  }

  const bareOf = (k: Kind) => rows.find((r) => r.server === 'bare' && r.kind === k);
  const verdicts = rows.map((r) => verdict(r, bareOf(r.kind)));
  const table = [
    ['scenario', 'conns', 'req/s', 'events/s', 'p50 ms', 'p99 ms', 'non-2xx', 'stored', 'srv cpu', 'gen cpu', 'commits/s', 'rows/commit', 'ms/commit', 'srv peak', 'gen peak', 'vs bare / target'],
    ...rows.map((r, i) => [
      r.scenario, String(r.connections), fmt(r.reqPerSec), fmt(r.eventsPerSec), fmt(r.p50, 1), fmt(r.p99, 1), String(r.non2xx),
      r.storedEvents === null ? '-' : fmt(r.storedEvents), `${fmt(100 * r.serverCpu)}%`, `${fmt(100 * r.loadgenCpu)}%`,
      r.commitsPerSec === null ? '-' : fmt(r.commitsPerSec), r.rowsPerCommit === null ? '-' : fmt(r.rowsPerCommit, 1),
      r.msPerCommit === null ? '-' : fmt(r.msPerCommit, 2), bytes(r.serverPeakRss), bytes(r.benchPeakRss), verdicts[i]!.text,
    ]),
  ];
  out('');
  for (const line of textTable(table, [0, table[0]!.length - 1])) out(line);
  if (rows.some((r) => r.loadgenCpu > 0.9)) out('note: the load generator used >90 % of a core in some scenarios, so those figures are bounded by autocannon, not the server.');
  if (rows.some((r) => !r.peakReset)) out('note: this kernel refused to reset the peak RSS, so the peaks cover each process\'s life so far.');

  const problems = rows.flatMap((r) => r.problems.map((p) => `${r.scenario}: ${p}`));
  for (const p of problems) out(`FAIL ${p}`);
  for (const kind of profileDir === '' ? [] : opts.kinds) {
    out('');
    for (const line of summariseProfile(kind, path.join(profileDir, `${kind}.cpuprofile`))) out(line);
  }

  const summary = {
    machine: m, options: opts, ok: problems.length === 0, problems, benchPeakRss: peakRss(),
    scenarios: rows.map((r, i) => ({ ...r, ratioToBare: verdicts[i]!.ratio, targetMet: verdicts[i]!.pass })),
  };
  const pick = (k: Kind) => summary.scenarios.find((s) => s.server === 'closeloop' && s.kind === k);
  out(`\nRESULT ${opts.kinds.filter((k) => pick(k) !== undefined).map((k) => {
    const p = pick(k)!;
    return `${k}=${SCENARIOS[k].batch ? `${fmt(p.eventsPerSec)} ev/s` : `${fmt(p.reqPerSec)} req/s`}${p.ratioToBare === null ? '' : ` (${p.ratioToBare.toFixed(2)}× bare)`}`;
  }).join(', ')} — ${problems.length === 0 ? 'all requests stored exactly once' : `${problems.length} problem(s)`}`);
  if (argv.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

await main();
