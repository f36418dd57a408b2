// The fan-out benchmark's table: one row per figure, per DUT the median over
// R runs with the min–max beside it, and the ratio of the medians bgp-ts/BIRD.
// PURE: figures in, lines of text out.

import { median } from './fanout-tally.js';

export interface Row {
  readonly label: string;
  /** Per DUT column, the value of each run (NaN where a run has none). */
  readonly values: readonly (readonly number[])[];
  /** Decimals shown. */
  readonly digits?: number;
  /** No ratio column (e.g. counts that should be zero). */
  readonly noRatio?: boolean;
}

export function formatNumber(v: number, digits: number): string {
  if (Number.isNaN(v)) return '–';
  if (Math.abs(v) >= 10_000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

/** "median [min–max]" over the runs, or the one value when all agree. */
export function medianRange(values: readonly number[], digits: number): string {
  const v = values.filter((x) => !Number.isNaN(x));
  if (v.length === 0) return '–';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const m = formatNumber(median(v), digits);
  return lo === hi ? m : `${m} [${formatNumber(lo, digits)}–${formatNumber(hi, digits)}]`;
}

export function ratio(a: readonly number[], b: readonly number[]): string {
  const ma = median(a);
  const mb = median(b);
  if (Number.isNaN(ma) || Number.isNaN(mb) || mb === 0) return '–';
  const r = ma / mb;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

/** A left-aligned text table: the figure, one column per DUT, then the ratio of the first to the second. */
export function table(headers: readonly string[], rows: readonly Row[], withRatio: boolean): string[] {
  const cells = rows.map((r) => [
    r.label,
    ...r.values.map((v) => medianRange(v, r.digits ?? 2)),
    ...(withRatio ? [r.noRatio ? '' : ratio(r.values[0] ?? [], r.values[1] ?? [])] : []),
  ]);
  const head = [...headers, ...(withRatio ? [`${headers[1]}/${headers[2]}`] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}
