// DESIGN.md, Layout: the import direction is the architecture. Pure modules
// never reach for I/O, and the layers only point one way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function walk(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of src.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

const IO_MODULES = [
  'node:net', 'net', 'node:dgram', 'node:fs', 'fs', 'node:fs/promises', 'node:child_process',
  'node:timers', 'node:timers/promises', 'timers', 'node:http', 'node:https', 'node:os',
  'fastify', 'prom-client', 'pino',
];

const PURE_DIRS = ['src/bgp/wire', 'src/bgp/fsm', 'src/rib'];
const PURE_FILES = [
  'src/fib/types.ts',
  'src/fib/modes.ts',
  'src/fib/desired.ts',
  'src/fib/queue.ts',
  'src/fib/dryrun.ts',
  'src/fib/reconcile.ts',
  'src/fib/netlink/messages.ts',
  'src/fib/netlink/constants.ts',
  'src/fib/netlink/writer.ts',
  'src/fib/netlink/interfaces.ts',
  'src/fib/netlink/events.ts',
];

function resolveLocal(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(root, join(file, '..', spec));
}

describe('architecture', () => {
  const files = walk(join(root, 'src'));

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('pure modules import no I/O, timers, logging or HTTP', () => {
    const offenders: string[] = [];
    for (const f of files) {
      const rel = relative(root, f);
      const pure = PURE_DIRS.some((d) => rel.startsWith(d + '/')) || PURE_FILES.includes(rel);
      if (!pure) continue;
      for (const spec of importsOf(f)) {
        if (IO_MODULES.includes(spec)) offenders.push(`${rel} imports ${spec}`);
        const local = resolveLocal(f, spec);
        if (local && (local.startsWith('src/bgp/session') || local.startsWith('src/api') || local.startsWith('src/lib/log')))
          offenders.push(`${rel} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('layers point one way: bgp knows nothing of rib, rib nothing of fib or api', () => {
    const offenders: string[] = [];
    for (const f of files) {
      const rel = relative(root, f);
      for (const spec of importsOf(f)) {
        const local = resolveLocal(f, spec);
        if (!local) continue;
        if (rel.startsWith('src/bgp/') && (local.startsWith('src/rib') || local.startsWith('src/fib') || local.startsWith('src/api')))
          offenders.push(`${rel} imports ${spec}`);
        if (rel.startsWith('src/rib/') && (local.startsWith('src/fib') || local.startsWith('src/api') || local.startsWith('src/bgp/session')))
          offenders.push(`${rel} imports ${spec}`);
        if (rel.startsWith('src/fib/') && local.startsWith('src/api')) offenders.push(`${rel} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the scanner itself catches a forbidden import', () => {
    // Guards against a regex that silently matches nothing.
    const probe = join(root, 'test', 'architecture.test.ts');
    expect(importsOf(probe)).toContain('node:fs');
  });
});
