import fs from 'node:fs';
import os from 'node:os';

/** The machine a benchmark ran on, as the README's Performance section states it. */
export interface Machine {
  cpu: string;
  cores: number;
  ramBytes: number;
  node: string;
  os: string;
  /** 1, 5 and 15 minute load averages when the run started: a busy machine makes every figure lower. */
  loadavg: number[];
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** CPU model and core count from /proc/cpuinfo, RAM from /proc/meminfo (os.* where /proc is missing). */
export function machine(): Machine {
  const cpuinfo = read('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  const processors = cpuinfo.match(/^processor\s*:/gm)?.length ?? 0;
  const memKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(read('/proc/meminfo'))?.[1] ?? NaN);
  return {
    cpu: model ?? os.cpus()[0]?.model ?? 'unknown CPU',
    cores: processors > 0 ? processors : os.availableParallelism(),
    ramBytes: Number.isFinite(memKb) ? memKb * 1024 : os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

/** "Intel(R) Xeon(R) Processor, 2 cores, 23.5 GB RAM, Node v20.20.2, Linux 6.1" */
export function describeMachine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${(m.ramBytes / 2 ** 30).toFixed(1)} GB RAM, Node ${m.node}, ${m.os}`;
}

/** The file system holding `dir` (tmpfs would make fsync free and the figures meaningless). */
export function fsType(dir: string): string {
  try {
    const mounts = read('/proc/mounts').split('\n').map((l) => l.split(' ')).filter((p) => p.length > 2);
    const real = fs.realpathSync(dir);
    const best = mounts.filter((p) => real === p[1] || real.startsWith(p[1] === '/' ? '/' : `${p[1]}/`)).sort((a, b) => b[1]!.length - a[1]!.length)[0];
    return best === undefined ? 'unknown fs' : `${best[2]} on ${best[0]}`;
  } catch {
    return 'unknown fs';
  }
}
