// The fan-out benchmark's table (bench/lib/fanout-report.ts): medians with
// their range, the ratio of medians, runs without a figure shown as such.

import { describe, expect, it } from 'vitest';
import { medianRange, ratio, table } from '../../bench/lib/fanout-report.js';

describe('fan-out report', () => {
  it('shows the median and the min–max of the runs, or one value when they agree', () => {
    expect(medianRange([3.2, 1.1, 2.0], 2)).toBe('2.00 [1.10–3.20]');
    expect(medianRange([5, 5, 5], 0)).toBe('5');
    expect(medianRange([NaN, 2, 4], 1)).toBe('3.0 [2.0–4.0]');
    expect(medianRange([NaN], 1)).toBe('–');
    expect(medianRange([2_685_312, 2_100_000], 0)).toBe('2,392,656 [2,100,000–2,685,312]');
  });

  it('gives the ratio of the medians, and none against a zero or a missing figure', () => {
    expect(ratio([46, 70, 60], [3.4, 4.8, 4.0])).toBe('15×');
    expect(ratio([1.5], [1.0])).toBe('1.50×');
    expect(ratio([1], [0])).toBe('–');
    expect(ratio([NaN], [1])).toBe('–');
  });

  it('lays out one row per figure with the ratio column unless told not to', () => {
    const lines = table(['figure', 'bgp-ts', 'BIRD 2'], [
      { label: 'converge (s)', values: [[2, 4], [1, 1]], digits: 1 },
      { label: 'sessions lost', values: [[0], [0]], digits: 0, noRatio: true },
    ], true);
    expect(lines[0]).toMatch(/^figure\s+bgp-ts\s+BIRD 2\s+bgp-ts\/BIRD 2$/);
    expect(lines[2]).toMatch(/^converge \(s\)\s+3\.0 \[2\.0–4\.0\]\s+1\.0\s+3\.00×$/);
    expect(lines[3]).toMatch(/^sessions lost\s+0\s+0$/);
  });
});
