import net from 'node:net';

/**
 * Keeps only the network part of an address: /24 for IPv4, /48 for IPv6 — enough for
 * geography and bot filtering, not enough to single out a household.
 * Returns null for anything that is not an IP address.
 */
export function truncateIp(raw: string): string | null {
  const ip = raw.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (net.isIPv4(ip)) {
    const [a, b, c] = ip.split('.');
    return `${a}.${b}.${c}.0`;
  }
  if (net.isIPv6(ip)) {
    const bytes = ipv6Bytes(ip);
    const groups: string[] = [];
    for (let i = 0; i < 6; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    return `${groups.join(':')}::`;
  }
  return null;
}

function ipv6Bytes(ip: string): number[] {
  const [head = '', tail = ''] = ip.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').flatMap((g) => {
    if (g.includes('.')) return g.split('.').map(Number);
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  }));
  const h = parse(head);
  const t = ip.includes('::') ? parse(tail) : [];
  return [...h, ...new Array<number>(16 - h.length - t.length).fill(0), ...t];
}
