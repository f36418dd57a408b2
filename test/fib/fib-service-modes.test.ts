// The FIB service in the daemon's two non-kernel modes. Disabled (fib.enabled
// false): no desired table, no writes, only a count; reconciled for
// readiness; the daemon has the RIB build no FIB changes at all. Dry run: the
// bounded recorder keeps the last writes, and the API shows the desired
// routes as installed (failed when unresolvable) with counts and paging.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { FibService } from '../../src/fib/fib-service.js';
import { DisabledWriter, DryRunRecorder } from '../../src/fib/dryrun.js';
import { createFibWriter, type FibBackend } from '../../src/fib/factory.js';
import { HostContext } from '../../src/fib/host-context.js';
import type { BestPathChange } from '../../src/fib/types.js';
import { fibStatsOf, fibView } from '../../src/daemon/fib-view.js';
import { prefixParse, v4Key, type PrefixKey } from '../../src/lib/prefix.js';

const P = (t: string): PrefixKey => prefixParse(t)!;
const silent = pino({ level: 'silent' });
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function config(fib: string, extra = '') {
  const r = parseConfig(['routerId: 10.0.0.1', 'asn: 64512', 'ipPools:', '  - { cidr: 10.244.0.0/16, mode: ipip }', fib, extra].join('\n'));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function backendOf(mode: 'dry-run' | 'disabled', writer: FibBackend['writer'], tunnel = true): FibBackend {
  const host = new HostContext();
  return {
    mode,
    writer,
    host,
    start: async () => {
      if (mode === 'disabled') return;
      host.handle({ kind: 'link', change: 'new', link: { index: 2, name: 'eth0', up: true, lowerUp: true, flags: 1 } });
      if (tunnel) host.handle({ kind: 'link', change: 'new', link: { index: 3, name: 'tunl0', up: true, lowerUp: true, flags: 1 } });
    },
    createTunnel: async () => ({ ok: false, errno: 1, code: 'EPERM' }),
    close: async () => undefined,
  };
}

const view = (f: FibService, q: Parameters<typeof fibView>[1]) => fibView(f.viewState(), q);
const stats = (f: FibService) => fibStatsOf(f.viewState().backend, f.viewState().table);
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

describe('FIB service, fib.enabled false', () => {
  it('keeps no routes, counts the changes it is handed, is reconciled and ready', async () => {
    const bridge = new FibService({ config: config('fib: { enabled: false }'), logger: silent, backend: backendOf('disabled', new DisabledWriter()) });
    expect(bridge.wantsBestPathChanges).toBe(false);
    await bridge.start({ keepStale: false });
    bridge.bestPathChanges([{ prefix: P('10.244.1.0/26'), nextHops: [{ address: '10.0.1.2' }] }, { prefix: P('10.244.2.0/26'), local: { blackhole: true } }]);
    await settle();
    expect(bridge.status()).toMatchObject({ mode: 'disabled', reconciled: true, converging: false, tunnel: 'not-needed', desired: 0, ignoredChanges: 2 });
    expect(bridge.desiredRoutes().size).toBe(0);
    expect(bridge.readyReasons()).toEqual([]);
    expect(view(bridge, { limit: 10 })).toMatchObject({ mode: 'disabled', reconciled: true, counts: { installed: 0, pending: 0, failed: 0 }, routes: [] });
    expect(stats(bridge)).toMatchObject({ installed: 0, failures: 0, queueDepth: 0 });
  });

  it('the factory picks the disabled writer without reading the host', async () => {
    const b = await createFibWriter(config('fib: { enabled: false }'), { logger: silent });
    expect(b.mode).toBe('disabled');
    expect(b.writer).toBeInstanceOf(DisabledWriter);
    await b.start();
    expect(b.host.input().links.size).toBe(0);
  });

  it('the factory picks the bounded recorder without privileges', async () => {
    const b = await createFibWriter(config('fib: { enabled: true }'), { logger: silent, privileged: false });
    expect(b.mode).toBe('dry-run');
    expect(b.writer).toBeInstanceOf(DryRunRecorder);
  });

  it('the daemon has the RIB build no FIB changes; originated routes still reach the RIB', async () => {
    const c = config('fib: { enabled: false }', 'listen: { enabled: false }\napi: { listen: none }\noriginate:\n  - { prefix: 10.244.7.0/26 }');
    const d = await startDaemon(c, { logger: silent });
    daemons.push(d);
    // What the driver takes from the RIB after each slice: nothing, the RIB built none.
    const taken: number[] = [];
    const take = d.rib.takeFibChanges.bind(d.rib);
    d.rib.takeFibChanges = () => {
      const out = take();
      taken.push(out.length);
      return out;
    };
    const before = d.rib.totals().bestPathChanges;
    expect(d.announce('10.244.8.0/26')).toEqual({ ok: true });
    for (let i = 0; i < 50 && d.rib.totals().bestPathChanges === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(d.rib.totals().bestPathChanges).toBeGreaterThan(before);
    expect(taken.length).toBeGreaterThan(0);
    expect(taken.every((n) => n === 0)).toBe(true);
    expect(d.fib.status()).toMatchObject({ mode: 'disabled', ignoredChanges: 0, desired: 0 });
  });

  it('with debug logging the changes are still built, for the best-path-changed lines', async () => {
    const c = config('fib: { enabled: false }', 'listen: { enabled: false }\napi: { listen: none }\noriginate:\n  - { prefix: 10.244.7.0/26 }');
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const d = await startDaemon(c, { logger });
    daemons.push(d);
    const changed = () => lines.find((l) => l['event'] === 'best-path-changed' && l['prefix'] === '10.244.7.0/26');
    for (let i = 0; i < 50 && !changed(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(changed()).toMatchObject({ local: true });
    expect(d.fib.status()).toMatchObject({ mode: 'disabled' });
  });

  it('with an onBestPathChanges listener the changes are still built and delivered', async () => {
    const c = config('fib: { enabled: false }', 'listen: { enabled: false }\napi: { listen: none }\noriginate:\n  - { prefix: 10.244.7.0/26 }');
    const seen: unknown[] = [];
    const d = await startDaemon(c, { logger: silent, onBestPathChanges: (x) => seen.push(...x) });
    daemons.push(d);
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toContainEqual({ prefix: P('10.244.7.0/26'), local: { blackhole: true } });
  });
});

describe('FIB service, dry run with the bounded recorder', () => {
  it('shows resolvable desired routes as installed, unresolvable ones as failed, and keeps N records', async () => {
    const writer = new DryRunRecorder({ maxRecords: 100 });
    const bridge = new FibService({ config: config('fib: { enabled: true }'), logger: silent, backend: backendOf('dry-run', writer, false) });
    expect(bridge.wantsBestPathChanges).toBe(true);
    await bridge.start({ keepStale: false });
    const changes: BestPathChange[] = [];
    for (let i = 0; i < 300; i++) changes.push({ prefix: v4Key(0x0a090000 + i * 256, 24), nextHops: [{ address: '10.0.0.2' }] }); // outside the pools: direct
    changes.push({ prefix: P('10.244.1.0/26'), nextHops: [{ address: '10.0.1.2' }] }); // ipip pool, no tunl0
    bridge.bestPathChanges(changes);
    await settle();
    expect(writer.written).toBe(301);
    expect(writer.records()).toHaveLength(100);
    expect(writer.records().at(-1)!.op).toMatchObject({ kind: 'delete', route: { prefix: P('10.244.1.0/26') } });
    const v = view(bridge, { limit: 2 });
    expect(v).toMatchObject({ mode: 'dry-run', counts: { installed: 300, pending: 0, failed: 1 }, nextCursor: '2' });
    expect(v.routes[0]).toEqual({ prefix: '10.9.0.0/24', kind: 'unicast', nextHops: [{ gateway: '10.0.0.2' }], state: 'installed' });
    expect(view(bridge, { limit: 10, state: 'failed' }).routes).toEqual([{ prefix: '10.244.1.0/26', kind: 'unicast', nextHops: [], state: 'failed', error: 'tunnel-missing' }]);
    expect(stats(bridge)).toMatchObject({ installed: 300, queueDepth: 0 });
    bridge.bestPathChanges([{ prefix: v4Key(0x0a090000, 24), nextHops: [] }]);
    await settle();
    expect(stats(bridge).installed).toBe(299);
    expect(writer.snapshot().counters).toMatchObject({ adds: 300, deletes: 2 });
  });
});
