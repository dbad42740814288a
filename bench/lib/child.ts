import { spawn } from 'node:child_process';
import { TreeWatch, type WatchedProcess } from './rss.js';

export interface PartRun {
  /** Exit code (null when killed by a signal, named in `signal`). */
  code: number | null;
  signal: string | null;
  /** Everything the script printed on stdout. */
  stdout: string;
  /** The last stdout line that parsed as a JSON object (a script run with --json prints its figures so). */
  json: unknown;
  /** The script's process and its descendants, with the highest peak RSS seen for each. */
  processes: WatchedProcess[];
  seconds: number;
}

/**
 * Runs a benchmark script as `node <this process's flags> script args` (so under tsx as this
 * one is), echoing its output as it comes — except a JSON figures line — and watching the peak
 * RSS of its process tree.
 */
export function runPart(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<PartRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const watch = new TreeWatch(child.pid!);
  let stdout = '';
  let partial = '';
  let json: unknown = null;
  const line = (text: string) => {
    if (text.startsWith('{')) {
      try {
        json = JSON.parse(text);
        return;
      } catch {
        // not JSON after all: echo it
      }
    }
    process.stdout.write(`${text}\n`);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    lines.forEach(line);
  });
  child.stderr.pipe(process.stderr, { end: false });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (partial !== '') line(partial);
      resolve({ code, signal, stdout, json, processes: watch.stop(), seconds: (performance.now() - started) / 1000 });
    });
  });
}
