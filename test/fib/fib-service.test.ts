// The FIB service over the dry-run writer and a host context fed with link
// events: best-path batches become kernel routes in their pool's form, in
// bounded slices; stale routes of a previous run are kept until End-of-RIB
// from every graceful-restart peer (or the restart timer) and then swept;
// a missing tunl0 is reported (log once, status, readiness) and the routes
// come once it appears; the API view and metric sources.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { BgpConfig } from '../../src/config/schema.js';
import { FibService } from '../../src/fib/fib-service.js';
import { GracefulRestart, restartPeers } from '../../src/daemon/graceful-restart.js';
import { fibStatsOf, fibView } from '../../src/daemon/fib-view.js';
import { buildApiDeps, type ApiParts } from '../../src/daemon/api-adapter.js';
import { PeerHistory } from '../../src/daemon/peer-history.js';
import type { Rib } from '../../src/rib/index.js';
import { DryRunWriter } from '../../src/fib/dryrun.js';
import type { FibBackend } from '../../src/fib/factory.js';
import { HostContext } from '../../src/fib/host-context.js';
import type { BestPathChange, FibOp, KernelRoute } from '../../src/fib/types.js';
import { FakeClock } from '../../src/lib/clock.js';
import { prefixParse, v4Key, type PrefixKey } from '../../src/lib/prefix.js';

const P = (t: string): PrefixKey => prefixParse(t)!;
const link = (index: number, name: string, up = true) => ({ kind: 'link' as const, change: 'new' as const, link: { index, name, up, lowerUp: up, flags: up ? 1 : 0 } });
const addr = (index: number, address: string, len: number, subnet: string) => ({
  kind: 'addr' as const,
  change: 'new' as const,
  address: { family: 'ipv4-unicast' as const, index, address, prefixLength: len, subnet: P(subnet), scope: 0 },
});

function config(extra = '', fib = 'fib: { enabled: true, protocol: 201 }'): BgpConfig {
  const r = parseConfig(
    ['routerId: 10.0.0.1', 'asn: 64512', 'ipPools:', '  - { cidr: 10.244.0.0/16, mode: ipip }', '  - { cidr: 10.245.0.0/16, mode: crossSubnet }', fib, extra].join('\n'),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function setup(opts: { extra?: string; fib?: string; realClock?: boolean; initial?: KernelRoute[]; tunnel?: boolean; refuse?: (op: FibOp) => number | undefined } = {}) {
  const clock = new FakeClock(1000);
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  const host = new HostContext();
  const writer = new DryRunWriter({ table: 254, protocol: 201, now: () => clock.now(), ...(opts.initial ? { initial: opts.initial } : {}), ...(opts.refuse ? { refuse: opts.refuse } : {}) });
  const backend: FibBackend = {
    mode: 'dry-run',
    reason: 'test',
    writer,
    host,
    start: async () => {
      host.handle(link(2, 'eth0'));
      host.handle(addr(2, '10.0.0.1', 24, '10.0.0.0/24'));
      if (opts.tunnel ?? true) host.handle(link(3, 'tunl0'));
    },
    createTunnel: async () => ({ ok: false, errno: 95, code: 'EOPNOTSUPP' }),
    close: async () => undefined,
  };
  const cfg = config(opts.extra, opts.fib);
  const bridge = new FibService({ config: cfg, logger, backend });
  // The restarting speaker's wait (src/daemon/graceful-restart.ts) decides when the FIB sweeps.
  const restart = new GracefulRestart({ clock, logger, sweepFib: (why) => bridge.sweepStale(why), restartStateChanged: () => undefined, staleTimerFired: () => undefined });
  const start = async () => {
    await bridge.start({ keepStale: restartPeers(cfg).length > 0 });
    restart.begin(cfg, bridge.isConverging, bridge.preservedFamilies());
  };
  const kernel = () => new Map(writer.kernelRoutes().map((r) => [r.prefix, r]));
  const view = (q: Parameters<typeof fibView>[1]) => fibView(bridge.viewState(), q);
  const stats = () => fibStatsOf(backend, bridge.viewState().table);
  return { clock, logs, host, writer, bridge, kernel, restart, start, view, stats };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
/** Two routes handed to the FIB, the kernel refusing the second (ENETUNREACH). */
async function twoRoutesOneRefused() {
  const t = setup({ refuse: (op) => (op.route.prefix === P('10.244.2.0/26') ? 101 : undefined) });
  await t.start();
  t.bridge.bestPathChanges([
    { prefix: P('10.244.1.0/26'), nextHops: [{ address: '10.0.1.2' }] },
    { prefix: P('10.244.2.0/26'), nextHops: [{ address: '10.0.1.3' }] },
  ]);
  await settle();
  return t;
}
const ours = (prefix: string, gateway: string): KernelRoute => ({ prefix: P(prefix), table: 254, protocol: 201, metric: 0, type: 'unicast', nextHops: [{ gateway, onlink: false }] });

describe('FIB service', () => {
  it('turns best-path batches into routes of their pool form, ECMP and blackholes', async () => {
    const { bridge, kernel, start } = setup();
    await start();
    bridge.bestPathChanges([
      { prefix: P('10.244.1.0/26'), nextHops: [{ address: '10.0.1.2' }] },
      { prefix: P('10.245.1.0/26'), nextHops: [{ address: '10.0.0.2' }] },
      { prefix: P('10.245.2.0/26'), nextHops: [{ address: '10.0.9.2' }] },
      { prefix: P('10.244.9.0/26'), local: { blackhole: true } },
      { prefix: P('10.9.0.0/24'), nextHops: [{ address: '10.0.0.3' }, { address: '10.0.0.2' }] },
    ]);
    await settle();
    const k = kernel();
    expect(k.get(P('10.244.1.0/26'))!.nextHops).toEqual([{ gateway: '10.0.1.2', ifindex: 3, onlink: true }]);
    expect(k.get(P('10.245.1.0/26'))!.nextHops).toEqual([{ gateway: '10.0.0.2', ifindex: undefined, onlink: false }]); // same subnet: direct
    expect(k.get(P('10.245.2.0/26'))!.nextHops[0]).toMatchObject({ gateway: '10.0.9.2', ifindex: 3, onlink: true }); // other subnet: ipip
    expect(k.get(P('10.244.9.0/26'))!.type).toBe('blackhole');
    expect(k.get(P('10.9.0.0/24'))!.nextHops.map((h) => h.gateway)).toEqual(['10.0.0.2', '10.0.0.3']);
    bridge.bestPathChanges([{ prefix: P('10.244.1.0/26'), nextHops: [] }]);
    await settle();
    expect(kernel().has(P('10.244.1.0/26'))).toBe(false);
  });

  it('a reload switching a pool ipip -> crossSubnet -> ipip re-programs its installed routes (an IPPool ipipMode change from the datastore)', async () => {
    const { bridge, kernel, start, logs } = setup();
    await start();
    bridge.bestPathChanges([
      { prefix: P('10.244.1.0/26'), nextHops: [{ address: '10.0.0.2' }] }, // next hop in our subnet
      { prefix: P('10.244.2.0/26'), nextHops: [{ address: '10.0.9.2' }] }, // next hop in another subnet
    ]);
    await settle();
    expect(kernel().get(P('10.244.1.0/26'))!.nextHops).toEqual([{ gateway: '10.0.0.2', ifindex: 3, onlink: true }]);
    const withMode = (mode: string) => {
      const r = parseConfig(['routerId: 10.0.0.1', 'asn: 64512', 'ipPools:', `  - { cidr: 10.244.0.0/16, mode: ${mode} }`, 'fib: { enabled: true, protocol: 201 }'].join('\n'));
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.config;
    };
    bridge.reload(withMode('crossSubnet'));
    await settle();
    expect(kernel().get(P('10.244.1.0/26'))!.nextHops).toEqual([{ gateway: '10.0.0.2', ifindex: undefined, onlink: false }]); // same subnet: direct now
    expect(kernel().get(P('10.244.2.0/26'))!.nextHops[0]).toMatchObject({ gateway: '10.0.9.2', ifindex: 3, onlink: true }); // other subnet: still ipip
    expect(logs.some((l) => l['event'] === 'fib-forms-changed' && l['reason'] === 'reload')).toBe(true);
    bridge.reload(withMode('ipip'));
    await settle();
    expect(kernel().get(P('10.244.1.0/26'))!.nextHops).toEqual([{ gateway: '10.0.0.2', ifindex: 3, onlink: true }]);
  });

  it('processes a large batch in several slices, yielding to the event loop', async () => {
    const { bridge, kernel, start } = setup({ realClock: true });
    await start();
    const changes: BestPathChange[] = [];
    for (let i = 0; i < 60_000; i++) changes.push({ prefix: v4Key(0x0a000000 + i * 64, 26), nextHops: [{ address: '10.0.0.2' }] });
    let ticks = 0;
    let sizeAtFirstTick = -1;
    const tick = (): void => {
      ticks++;
      if (sizeAtFirstTick < 0) sizeAtFirstTick = kernel().size;
      if (kernel().size < 60_000 && ticks < 10_000) setImmediate(tick);
    };
    bridge.bestPathChanges(changes);
    setImmediate(tick);
    while (kernel().size < 60_000) await new Promise((r) => setTimeout(r, 5));
    expect(ticks).toBeGreaterThan(1);
    expect(sizeAtFirstTick).toBeLessThan(60_000);
  });

  it('keeps stale routes of the last run until End-of-RIB from every GR peer, then sweeps', async () => {
    const t = setup({
      extra: 'neighbors:\n  - { address: 10.0.0.2, asn: 64512, gracefulRestart: { restartTime: 90 } }\n  - { address: 10.0.0.3, asn: 64512 }',
      initial: [ours('10.245.7.0/26', '10.0.0.2'), ours('10.245.8.0/26', '10.0.0.2')],
    });
    await t.start();
    expect(t.bridge.status()).toMatchObject({ converging: true, reconciled: true });
    expect(t.kernel().size).toBe(2);
    t.restart.peerEstablished('10.0.0.2', ['ipv4-unicast', 'ipv6-unicast']);
    t.bridge.bestPathChanges([{ prefix: P('10.245.7.0/26'), nextHops: [{ address: '10.0.0.2' }] }]);
    await settle();
    t.restart.endOfRib('10.0.0.2', 'ipv4-unicast');
    t.restart.endOfRib('10.0.0.2', 'ipv6-unicast'); // the RIB has work again: the routes before the End-of-RIB
    await settle();
    expect(t.kernel().has(P('10.245.8.0/26'))).toBe(true); // the RIB is still busy
    t.restart.setRibIdle(true);
    await settle();
    expect(t.bridge.status().converging).toBe(false);
    expect([...t.kernel().keys()]).toEqual([P('10.245.7.0/26')]);
    expect(t.logs.find((l) => l['event'] === 'fib-stale-sweep')).toMatchObject({ reason: 'end-of-rib' });
  });

  it('sweeps on the restart timer when a GR peer never sends End-of-RIB', async () => {
    const t = setup({ extra: 'neighbors:\n  - { address: 10.0.0.2, asn: 64512, gracefulRestart: { restartTime: 30 } }', initial: [ours('10.245.8.0/26', '10.0.0.2')] });
    await t.start();
    t.clock.advance(29_000);
    await settle();
    expect(t.kernel().size).toBe(1);
    t.clock.advance(1000);
    await settle();
    expect(t.kernel().size).toBe(0);
  });

  it('without GR peers the first reconcile already removes routes nobody wants', async () => {
    const t = setup({ extra: 'neighbors:\n  - { address: 10.0.0.2, asn: 64512 }', initial: [ours('10.245.8.0/26', '10.0.0.2')] });
    await t.start();
    expect(t.bridge.status().converging).toBe(false);
    expect(t.kernel().size).toBe(0);
  });

  it('reports a missing tunl0 once, in status and readiness, and installs when it appears', async () => {
    const t = setup({ tunnel: false, fib: 'fib: { enabled: true, manageTunnel: true }' });
    await t.start();
    t.bridge.bestPathChanges([{ prefix: P('10.244.1.0/26'), nextHops: [{ address: '10.0.1.2' }] }]);
    await settle();
    expect(t.bridge.status().tunnel).toBe('missing');
    expect(t.bridge.readyReasons()).toEqual(['tunnel tunl0 is missing: ipip routes cannot be installed']);
    expect(t.writer.snapshot().unresolvable).toEqual([{ prefix: P('10.244.1.0/26'), reason: 'tunnel-missing' }]);
    expect(t.logs.filter((l) => l['event'] === 'fib-tunnel-unavailable')).toHaveLength(1);
    expect(t.logs.find((l) => l['event'] === 'fib-tunnel-create-failed')).toMatchObject({ code: 'EOPNOTSUPP' });
    expect(t.view({ limit: 10 }).routes).toEqual([{ prefix: '10.244.1.0/26', kind: 'unicast', nextHops: [], state: 'failed', error: 'tunnel-missing' }]);
    t.host.handle(link(7, 'tunl0'));
    await settle();
    expect(t.kernel().get(P('10.244.1.0/26'))!.nextHops[0]).toMatchObject({ ifindex: 7, onlink: true });
    expect(t.bridge.readyReasons()).toEqual([]);
    expect(t.logs.find((l) => l['event'] === 'fib-tunnel-available')).toBeDefined();
  });

  it('shows refused routes as failed with errno and attempts; stats count them', async () => {
    const t = await twoRoutesOneRefused();
    const v = t.view({ limit: 1 });
    expect(v).toMatchObject({ mode: 'dry-run', table: 254, protocol: 201, reconciled: true, counts: { installed: 1, pending: 0, failed: 1 }, nextCursor: '1' });
    const failed = t.view({ limit: 10, state: 'failed' }).routes;
    expect(failed).toEqual([{ prefix: '10.244.2.0/26', kind: 'unicast', nextHops: [{ gateway: '10.0.1.3', dev: 'tunl0', onlink: true }], state: 'failed', op: 'add', error: 'ENETUNREACH', attempts: 1 }]);
    const s = t.stats();
    expect(s).toMatchObject({ installed: 1, failures: 1 });
    expect(s.operations.find((o) => o.op === 'add')!.count).toBe(1);
  });
});

describe('FIB figures in /api/v1/status', () => {
  it('count installed, pending and failed from the writer, as /api/v1/fib does', async () => {
    const t = await twoRoutesOneRefused();
    const c = config();
    const rib = { totals: () => ({ routes: {}, paths: {} }) } as unknown as Rib;
    const deps = buildApiDeps({
      clock: t.clock,
      rib,
      history: new PeerHistory(t.clock),
      restart: t.restart,
      fib: t.bridge,
      version: 'test',
      config: () => c,
      sessions: () => [],
      peer: () => undefined,
      control: {} as ApiParts['control'],
    });
    const status = await deps.status();
    // The simulation writer (DryRunWriter) keeps a kernel of its own, so its counts are real; status names the mode too.
    expect(status.fib).toEqual({ installed: 1, pending: 0, failed: 1, mode: 'dry-run', reason: 'test' });
    const { mode: _mode, reason: _reason, ...counts } = status.fib;
    expect(counts).toEqual((await deps.fib({ limit: 10 })).counts);
  });
});
