// package.json's `engines` must say what is true of the whole dependency tree
// (issue 13: `npm ci` warned EBADENGINE for cookie@2, which wants Node 22,
// while engines said >=20). Every package in package-lock.json, dev tools
// included, must accept the oldest Node our engines admit, and the running
// Node must satisfy our engines. The range check below covers the forms npm
// packages use (>=, ^, ~, x, ||, spaces); anything else fails loudly.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Version = readonly [number, number, number];

const parse = (v: string): Version => {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(v.trim());
  if (!m) throw new Error(`unrecognised version "${v}"`);
  const n = (s: string | undefined) => (s === undefined || s === 'x' || s === '*' ? 0 : Number(s));
  return [Number(m[1]), n(m[2]), n(m[3])];
};
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `version` satisfies the npm range `range`. */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((alt) => {
    const parts = alt.trim().replace(/(>=|<=|>|<|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return parts.every((c) => {
      if (c === '*' || c === 'x') return true;
      const m = /^(>=|<=|>|<|\^|~)?(.+)$/.exec(c)!;
      const op = m[1] ?? '';
      const raw = m[2]!;
      const b = parse(raw);
      if (op === '>=') return cmp(v, b) >= 0;
      if (op === '>') return cmp(v, b) > 0;
      if (op === '<=') return cmp(v, b) <= 0;
      if (op === '<') return cmp(v, b) < 0;
      if (op === '^') return cmp(v, b) >= 0 && (b[0] > 0 ? v[0] === b[0] : v[1] === b[1]);
      if (op === '~' || /x|\*|^\d+(\.\d+)?$/.test(raw)) {
        const parts = raw.split('.').filter((p) => p !== 'x' && p !== '*').length;
        return cmp(v, b) >= 0 && v[0] === b[0] && (parts < 2 && op !== '~' ? true : v[1] === b[1]);
      }
      return cmp(v, b) === 0;
    });
  });
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; dev?: boolean }>;
};

describe('engines', () => {
  it('the range check itself', () => {
    expect(satisfies('20.19.0', '>=20')).toBe(true);
    expect(satisfies('20.19.0', '>=22')).toBe(false);
    expect(satisfies('20.19.0', '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies('20.18.9', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('20.19.0', '>= 12.0.0')).toBe(true);
    expect(satisfies('20.19.0', '>= 10.x')).toBe(true);
    expect(satisfies('20.19.0', '^10 || ^12 || ^13.7 || ^14 || >=15.0.1')).toBe(true);
    expect(satisfies('24.1.0', '^20.0.0 || ^22.0.0')).toBe(false);
    expect(satisfies('20.19.0', '*')).toBe(true);
  });

  it('the running Node satisfies package.json engines', () => {
    expect(satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  it('every locked package accepts the oldest Node our engines admit', () => {
    const floor = /^>=\s*(\S+)$/.exec(pkg.engines.node)?.[1];
    expect(floor, 'engines.node is a ">=" floor').toBeDefined();
    const refusing = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && p.engines && !Array.isArray(p.engines) && p.engines.node !== undefined)
      .filter(([, p]) => !satisfies(floor!, (p.engines as { node: string }).node))
      .map(([name, p]) => `${name} wants node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
