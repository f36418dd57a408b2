// A fake daemon core for API tests: serves canned plain data and records every
// control call, so tests can assert what the API asked the core to do (and
// that a rejected request asked nothing).
import type { ActionResult, ApiDeps, ApiPeer, ApiRoute, FibStats, ReloadResult, RoutesQuery } from '../../src/api/deps.js';
import type { BgpConfig } from '../../src/config/schema.js';

export function peer(over: Partial<ApiPeer> = {}): ApiPeer {
  const zero = { open: 0, update: 0, notification: 0, keepalive: 0, 'route-refresh': 0 };
  return {
    address: '192.0.2.2',
    asn: 64512,
    description: 'node-b',
    state: 'Established',
    uptimeSeconds: 3725,
    since: '2024-05-01T10:00:00.000Z',
    dynamic: false,
    routeReflectorClient: false,
    adminShutdown: false,
    holdTime: { configured: 90, negotiated: 90 },
    keepaliveTime: 30,
    localAsn: 64512,
    capabilities: { families: ['ipv4-unicast'], fourOctetAs: true, routeRefresh: true, enhancedRouteRefresh: false, extendedMessage: false, gracefulRestart: true },
    establishedTransitions: 2,
    prefixes: { received: 12, accepted: 10, advertised: 3 },
    prefixesByFamily: {
      'ipv4-unicast': { received: 12, accepted: 10, advertised: 3 },
      'ipv6-unicast': { received: 0, accepted: 0, advertised: 0 },
    },
    messages: { received: { ...zero, open: 2, update: 40, keepalive: 100 }, sent: { ...zero, open: 2, update: 7, keepalive: 101, notification: 1 } },
    notifications: { sent: [{ code: 6, subcode: 2, count: 1 }], received: [] },
    ...over,
  };
}

export function route(over: Partial<ApiRoute> = {}): ApiRoute {
  return {
    prefix: '10.244.1.0/26',
    family: 'ipv4-unicast',
    peer: '192.0.2.2',
    peerAsn: 64512,
    best: true,
    nextHop: '192.0.2.2',
    asPath: '',
    origin: 'igp',
    localPref: 100,
    communities: ['64512:100'],
    ...over,
  };
}

export const CONFIG = {
  routerId: '192.0.2.1',
  asn: 64512,
  neighbors: [{ address: '192.0.2.2', asn: 64512, password: 'md5-secret' }],
  api: { listen: '127.0.0.1:9179', token: 'a-very-secret-token-123', tokenFile: '/etc/bgp-ts/token' },
} as unknown as BgpConfig;

export interface Calls {
  routes: (RoutesQuery & { limit: number })[];
  explain: string[];
  announce: [string, readonly string[]][];
  withdraw: string[];
  reset: [string, 'in' | 'out' | undefined][];
  shutdown: [string, string | undefined][];
  enable: string[];
  reload: number;
}

export function fakeDeps(opts: { result?: ActionResult; reload?: ReloadResult; ready?: boolean; peers?: ApiPeer[] } = {}) {
  const calls: Calls = { routes: [], explain: [], announce: [], withdraw: [], reset: [], shutdown: [], enable: [], reload: 0 };
  const peers = opts.peers ?? [peer(), peer({ address: '2001:db8::3', asn: 65001, description: undefined, state: 'Active', uptimeSeconds: 0, establishedTransitions: 0, prefixes: { received: 0, accepted: 0, advertised: 0 }, lastError: 'connect-failed: ECONNREFUSED' })];
  const result = opts.result ?? { ok: true };
  const durations: number[] = [0.002, 0.3];
  const fibStats: FibStats = {
    installed: 42,
    operations: [{ op: 'add', result: 'ok', count: 40 }, { op: 'delete', result: 'error', count: 1 }],
    failures: 1,
    driftRepairs: 3,
    queueDepth: 5,
    drainReconcileDurations: () => durations.splice(0),
  };
  const deps: ApiDeps = {
    status: () => ({
      routerId: '192.0.2.1', asn: 64512, version: '0.1.0', uptimeSeconds: 61, startedAt: '2024-05-01T09:59:00.000Z',
      peers: { configured: 2, dynamic: 0, established: 1 },
      routes: { 'ipv4-unicast': 10, 'ipv6-unicast': 0 },
      paths: { 'ipv4-unicast': 12, 'ipv6-unicast': 0 },
      fib: { installed: 42, pending: 1, failed: 0 },
    }),
    peers: () => peers,
    peer: (a) => peers.find((p) => p.address === a),
    routes: async (q) => {
      calls.routes.push(q);
      return { routes: [route()], nextCursor: 'c2' };
    },
    explain: (p) => {
      calls.explain.push(p);
      if (p !== '10.244.1.0/26' && p !== '2001:db8:1::/48') return undefined;
      return {
        prefix: p, family: p.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast', reason: 'local-pref',
        summary: 'best via 192.0.2.2: higher LOCAL_PREF (200 against 100)',
        candidates: [
          { route: route({ localPref: 200 }), status: 'best', step: 'local-pref', text: 'best: won at local-pref' },
          { route: route({ peer: '192.0.2.3', best: false }), status: 'lost', step: 'local-pref', text: 'lost at local-pref: 100 against 200 of a path via 192.0.2.2' },
        ],
      };
    },
    fib: (q) => ({
      mode: 'dry-run', table: 254, protocol: 201, reconciled: true, counts: { installed: 42, pending: 1, failed: 1 },
      routes: [{ prefix: '10.244.1.0/26', state: q.state ?? 'installed', nextHops: [{ gateway: '192.0.2.2', dev: 'tunl0', onlink: true }] }],
    }),
    config: () => CONFIG,
    announce: (p, c) => (calls.announce.push([p, c]), result),
    withdraw: (p) => (calls.withdraw.push(p), result),
    resetPeer: (a, s) => (calls.reset.push([a, s]), result),
    shutdownPeer: (a, m) => (calls.shutdown.push([a, m]), result),
    enablePeer: (a) => (calls.enable.push(a), result),
    reloadConfig: () => (calls.reload++, opts.reload ?? { ok: true, changes: ['192.0.2.2: soft-out'] }),
    ready: () => (opts.ready === false ? { ready: false, reasons: ['peer 2001:db8::3 is Active beyond its grace period'] } : { ready: true, reasons: [] }),
    ribStats: () => ({ routes: { 'ipv4-unicast': 10, 'ipv6-unicast': 2 }, paths: { 'ipv4-unicast': 12, 'ipv6-unicast': 2 }, bestPathChanges: 17, attributeSets: 4 }),
    fibStats: () => fibStats,
  };
  return { deps, calls };
}
