// Every event name the code logs is one of LOG_EVENTS (src/lib/log.ts), so the
// union the docs, the API and metrics share is the whole truth. Template
// literals (`route-refresh-${action}`) are expanded by hand in the list and
// checked by their prefix here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../src/lib/log.js';

const root = join(import.meta.dirname, '..', '..');
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });

describe('log events', () => {
  const files = walk(join(root, 'src'));
  const known = new Set<string>(LOG_EVENTS);

  it('every literal event name in src/ is in LOG_EVENTS', () => {
    const unknown: string[] = [];
    for (const f of files)
      for (const m of readFileSync(f, 'utf8').matchAll(/event: '([a-z0-9-]+)'/g)) if (!known.has(m[1]!)) unknown.push(`${relative(root, f)}: ${m[1]}`);
    expect(unknown).toEqual([]);
  });

  it('every templated event name has its expansions in LOG_EVENTS', () => {
    const missing: string[] = [];
    for (const f of files)
      for (const m of readFileSync(f, 'utf8').matchAll(/event: `([a-z0-9-]+)\$\{/g))
        if (!LOG_EVENTS.some((e) => e.startsWith(m[1]!))) missing.push(`${relative(root, f)}: ${m[1]}*`);
    expect(missing).toEqual([]);
  });

  it('has no duplicates and only kebab-case names', () => {
    expect(new Set(LOG_EVENTS).size).toBe(LOG_EVENTS.length);
    for (const e of LOG_EVENTS) expect(e).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});
