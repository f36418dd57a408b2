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
  'src/bfd/packet.ts',
  'src/bfd/fsm.ts',
  'src/bfd/demux.ts',
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
  'src/cluster/selector.ts',
  'src/cluster/resources.ts',
  'src/cluster/etcd-keys.ts',
  'src/cluster/model.ts',
  'src/cluster/merge.ts',
  'src/cluster/kube-objects.ts',
];

/** The layers of DESIGN.md's "only src/daemon/ may import two of ..." rule. */
const LAYERS = ['src/bgp/session', 'src/rib', 'src/fib', 'src/api', 'src/cluster', 'src/bfd'];
const layerOf = (rel: string): string | undefined => LAYERS.find((l) => rel.startsWith(l + '/'));

/** Strongly connected components of more than one file (Tarjan), each sorted; the import cycles. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const comp: string[] = [];
    for (;;) {
      const w = stack.pop()!;
      onStack.delete(w);
      comp.push(w);
      if (w === v) break;
    }
    if (comp.length > 1) out.push(comp.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

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
        // BFD is a service of its own: the daemon couples it to BGP (src/daemon/bfd-coupling.ts).
        if (rel.startsWith('src/bfd/') && ['src/bgp', 'src/rib', 'src/fib', 'src/api', 'src/daemon'].some((d) => local.startsWith(d)))
          offenders.push(`${rel} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('nothing sits at src/ root but cli.ts', () => {
    const root_ = files.map((f) => relative(root, f)).filter((rel) => !rel.slice('src/'.length).includes('/'));
    expect(root_).toEqual(['src/cli.ts']);
  });

  it('only src/daemon/ imports two of bgp/session, rib, fib, api, cluster, bfd', () => {
    const offenders: string[] = [];
    for (const f of files) {
      const rel = relative(root, f);
      if (rel.startsWith('src/daemon/')) continue;
      const layers = new Set<string>();
      const own = layerOf(rel);
      if (own) layers.add(own);
      for (const spec of importsOf(f)) {
        const l = layerOf(resolveLocal(f, spec) ?? '');
        if (l) layers.add(l);
      }
      if (layers.size > 1) offenders.push(`${rel} touches ${[...layers].join(', ')}`);
    }
    expect(offenders).toEqual([]);
  });

  it('no import cycles anywhere in src/ (type-only imports count)', () => {
    const rels = new Set(files.map((f) => relative(root, f)));
    const graph = new Map<string, string[]>();
    for (const f of files) {
      const deps: string[] = [];
      for (const spec of importsOf(f)) {
        const local = resolveLocal(f, spec);
        const ts = local?.replace(/\.js$/, '.ts');
        if (ts && rels.has(ts)) deps.push(ts);
      }
      graph.set(relative(root, f), deps);
    }
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('the cycle finder finds a cycle', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(cyclesOf(g)).toEqual([['a', 'b', 'c']]);
  });

  it('the scanner itself catches a forbidden import', () => {
    // Guards against a regex that silently matches nothing.
    const probe = join(root, 'test', 'architecture.test.ts');
    expect(importsOf(probe)).toContain('node:fs');
  });
});
