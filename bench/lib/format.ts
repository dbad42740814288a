/** Number and table formatting shared by the benchmark scripts. */

/** 12,345 (en-US grouping, `digits` decimals). */
export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A byte count as MB below a gigabyte, GB above. */
export function bytes(n: number | null): string {
  if (n === null) return '?';
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GB` : `${Math.round(n / 2 ** 20)} MB`;
}

/** A ratio with the precision its size deserves: 0.47×, 1.3×, 12×. */
export function times(r: number): string {
  if (!Number.isFinite(r)) return '–';
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** Aligned plain-text columns: the first column left, the others right, unless `left` says so. */
export function textTable(rows: string[][], left: readonly number[] = [0]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return rows.map((row) => row.map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
}

/** A GitHub-flavoured markdown table; pipes inside cells are escaped. */
export function markdownTable(header: string[], rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)];
}
