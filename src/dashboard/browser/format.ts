/** How numbers and times read on the page. Times are UTC, as in the API and its explanations. */

const int = new Intl.NumberFormat('en-US');

export const fmtInt = (n: number): string => int.format(n);

/** 0.1234 → "12.34 %". */
export const fmtPct = (rate: number | null | undefined, digits = 2): string => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(digits)} %`);

/** A difference of rates in percentage points, signed: 0.021 → "+2.10 pp". */
export function fmtPp(diff: number | null | undefined): string {
  if (diff === null || diff === undefined) return '—';
  const pp = diff * 100;
  return `${pp > 0 ? '+' : pp < 0 ? '−' : '±'}${Math.abs(pp).toFixed(2)} pp`;
}

/** A p-value: four decimals, or "< 0.0001". */
export const fmtP = (p: number | null | undefined): string => (p === null || p === undefined ? '—' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));

export const fmtMoney = (v: number): string => v.toFixed(2);

/** 1768478400000 → "2026-01-15 12:00:00Z". */
export const fmtTime = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'));

export const fmtDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** 95000 → "1 min 35 s"; 3_600_000 → "1 h". */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return m % 60 === 0 ? `${hr} h` : `${hr} h ${m % 60} min`;
  return `${(hr / 24).toFixed(1)} days`;
}
