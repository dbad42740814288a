import fs from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }

/** Where a server's CPU time went, from a .cpuprofile: self time by area and the top functions. */
export function summariseProfile(label: string, file: string, top = 25): string[] {
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
    `closeloop ${label}: CPU profile of the measured run, ${file} (${(total / 1e6).toFixed(1)} s of wall time on the event loop; the profiler slows the server)`,
    'self time by area:', ...sorted(area, 14).map(([k, us]) => `  ${pct(us)}  ${k}`),
    `top ${top} functions by self time:`, ...sorted(fn, top).map(([k, us]) => `  ${pct(us)}  ${k}`),
  ];
}
