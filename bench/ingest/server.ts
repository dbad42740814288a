import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { peakRss } from '../lib/rss.js';

/** What a server child reports about a workspace (the bare server fills only the request counts). */
export interface Stats { answered: number; ok: number; stored: number; accepted: number; duplicates: number; rejected: number; commits: number; commitMs: number; commitRows: number }
type Question = { op: 'setup'; ws: string; keyKind: 'server' | 'browser' } | { op: 'stats'; ws: string } | { op: 'profile'; file: string | null } | { op: 'cpu' } | { op: 'resetPeak' };
/** Parent → child. */
export type Ask = (Question | { op: 'stop' }) & { seq: number };
/** Child → parent. */
export type Tell = { op: 'ready'; url: string; note: string } | { seq: number; key: string } | { seq: number; stats: Stats } | { seq: number; cpuMs: number } | { seq: number; done: boolean };

export type Which = 'bare' | 'closeloop';

/** A server child (bench/ingest/serve.ts) and the questions the benchmark asks it over IPC. */
export class Server {
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

  static start(which: Which, opts: { dataDir?: string | undefined; profile: boolean }): Promise<Server> {
    const args = [which, ...(opts.dataDir !== undefined ? [`--data-dir=${opts.dataDir}`] : []), ...(opts.profile ? ['--profile'] : [])];
    const child = fork(fileURLToPath(new URL('./serve.ts', import.meta.url)), args, { stdio: ['ignore', 2, 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the ${which} server exited with ${code} before it was ready`)));
      child.once('message', (m: Tell) => { if ('op' in m && m.op === 'ready') resolve(new Server(child, m.url, m.note)); });
    });
  }

  #ask<T extends Tell>(m: Question): Promise<T> {
    const seq = ++this.#seq;
    return new Promise((resolve) => { this.#waiting.set(seq, resolve as (m: Tell) => void); this.child.send({ ...m, seq }); });
  }
  /** Creates workspace `ws` (closeloop) and returns a key of that kind for it. */
  async setup(ws: string, keyKind: 'server' | 'browser'): Promise<string> { return (await this.#ask<{ seq: number; key: string }>({ op: 'setup', ws, keyKind })).key; }
  async stats(ws: string): Promise<Stats> { return (await this.#ask<{ seq: number; stats: Stats }>({ op: 'stats', ws })).stats; }
  /** CPU time the child has used, user + system, all threads (ms). */
  async cpu(): Promise<number> { return (await this.#ask<{ seq: number; cpuMs: number }>({ op: 'cpu' })).cpuMs; }
  /** Starts the child's CPU profiler (file null), or stops it and writes the profile to `file`. */
  async profile(file: string | null): Promise<void> { await this.#ask({ op: 'profile', file }); }
  /** Resets the child's peak RSS to its current size; false where the kernel refuses. */
  async resetPeak(): Promise<boolean> { return (await this.#ask<{ seq: number; done: boolean }>({ op: 'resetPeak' })).done; }
  /** The child's peak RSS so far (bytes), from /proc/<pid>/status. */
  peakRss(): number | null { return this.child.pid === undefined ? null : peakRss(this.child.pid); }
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
  /** SIGKILL, for an interrupted run. */
  kill(): void {
    this.#stopping = true;
    this.child.kill('SIGKILL');
  }
}
