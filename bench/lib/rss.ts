import fs from 'node:fs';

/**
 * Peak resident memory (VmHWM in /proc/<pid>/status), in bytes; null where it cannot be read
 * (the process is gone, or this is not Linux).
 */
export function peakRss(pid: number | 'self' = 'self'): number | null {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/**
 * Resets this process's peak to its current resident size (`5` to /proc/self/clear_refs), so a
 * long-lived process can report the peak of one phase. False where the kernel refuses: the
 * peak then covers the process's whole life.
 */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** One process of a watched tree: its command line and the highest peak seen. */
export interface WatchedProcess {
  pid: number;
  command: string;
  peak: number;
}

/** Parent pid of every process, from /proc/<pid>/stat (the field after the parenthesised name). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Polls the peak RSS of a process and of all its descendants until stopped. A child's peak can
 * only be read while it runs (an exited process has no status), so the figure is the last one
 * seen, at most `intervalMs` before it ended; processes that live shorter than that are missed.
 */
export class TreeWatch {
  readonly #seen = new Map<number, WatchedProcess>();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly root: number, intervalMs = 200) {
    this.#poll();
    this.#timer = setInterval(() => this.#poll(), intervalMs);
    this.#timer.unref();
  }

  #poll(): void {
    const byParent = new Map<number, number[]>();
    for (const [pid, ppid] of parents()) byParent.set(ppid, [...(byParent.get(ppid) ?? []), pid]);
    const tree = [this.root];
    for (let i = 0; i < tree.length; i++) tree.push(...(byParent.get(tree[i]!) ?? []));
    for (const pid of tree) {
      const peak = peakRss(pid);
      if (peak === null) continue;
      const known = this.#seen.get(pid);
      if (known !== undefined) known.peak = Math.max(known.peak, peak);
      else this.#seen.set(pid, { pid, command: command(pid), peak });
    }
  }

  /** Stops polling; the root first, then its descendants in the order they were first seen. */
  stop(): WatchedProcess[] {
    clearInterval(this.#timer);
    return [...this.#seen.values()].sort((a, b) => (a.pid === this.root ? -1 : b.pid === this.root ? 1 : 0));
  }
}

function command(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '').join(' ');
  } catch {
    return '';
  }
}
