import fs from 'node:fs';

/**
 * When process `pid` started, in clock ticks since boot (Linux: field 22 of /proc/<pid>/stat),
 * or null where that cannot be read. Two processes that had the same pid at different times
 * (a container restarted: the server is pid 1 again) have different start times.
 */
function startTicks(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** This process, as `pid:start` (`pid:-` where the start time cannot be read): the same in every thread. */
export function processIdentity(): string {
  return `${process.pid}:${startTicks(process.pid) ?? '-'}`;
}

/**
 * Whether the process named by processIdentity() (or by a bare pid, as older leases were
 * written) is still running: its pid exists and, where known, started when it did then.
 */
export function processAlive(identity: string): boolean {
  const [pidText, start] = identity.split(':');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (start === undefined || start === '-' || !/^\d+$/.test(start)) return true;
  const now = startTicks(pid);
  return now === null || now === start;
}
