/**
 * Whether a browser page's Origin header is one a workspace admits (setting allowedOrigins):
 * any origin when the list is empty; otherwise an exact match (scheme, host and port, case
 * aside), or a subdomain of an entry written "https://*.example.com".
 */
export function originAllowed(origin: string | null, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  if (origin === null) return false;
  const o = origin.toLowerCase();
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    const star = e.indexOf('://*.');
    if (star === -1) return o === e;
    const scheme = e.slice(0, star + 3);
    return o.startsWith(scheme) && o.endsWith(e.slice(star + 4)) && o.length > e.length - 1;
  });
}
