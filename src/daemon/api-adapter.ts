// The daemon's side of the HTTP API contract (src/api/deps.ts ApiDeps): plain
// data read from the sessions (RFC 4271 §8.2.2 state names, per-type message
// counters kept by PeerSession), the per-peer history (peer-history.ts), the
// RIB's reads (rib/query.ts: routes, the RFC 4271 §9.1.2 explanation) and the
// FIB service's state (fib-view.ts), and control calls handed to the daemon.
// Route listing pages with an offset cursor. Every peer lookup goes through
// the canonical address (lib/address.ts).
//
// Readiness (/readyz): every configured peer not administratively shut down is
// Established, or within its grace period: the startup grace after the session
// was created (daemon start, or a reload that added it), or, after an
// Established session went down gracefully, the restart time the peer
// advertised (graceful-restart.ts decides, RFC 4724 §4.2). The RIB must not
// be mid-convergence; the FIB adds its reasons.

import type { ApiCluster } from '../api/cluster-schema.js';
import type { ActionResult, ApiDeps, ApiExplain, ApiPeer, ApiRoute, FibStats, ReloadResult, RoutePage } from '../api/deps.js';
import { capabilitiesOf } from '../api/peer-view.js';
import type { BgpConfig } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import { normalizeAddress } from '../lib/address.js';
import { prefixFamily, prefixParse, prefixToString, v4ToString, type Family, type PrefixKey } from '../lib/prefix.js';
import type { PeerSession } from '../bgp/session/index.js';
import { formatExtCommunity } from '../bgp/wire/attrs/ext-community-text.js';
import type { PeerSummary } from '../bgp/session/neighbors.js';
import { explainPrefix, selectRoutes, type Path, type Rib } from '../rib/index.js';
import type { FibService } from '../fib/fib-service.js';
import type { GracefulRestart } from './graceful-restart.js';
import type { PeerHistory } from './peer-history.js';
import { findNeighbor } from './peer-settings.js';
import { fibStatsOf, fibView } from './fib-view.js';

/** Default startup grace for /readyz: a configured peer may take this long to reach Established. */
export const PEER_GRACE_MS = 120_000;

/** What the API may ask the daemon to do. */
export interface DaemonControl {
  announce(prefix: string, communities: readonly string[]): ActionResult;
  withdraw(prefix: string): ActionResult;
  resetPeer(address: string, soft?: 'in' | 'out'): Promise<ActionResult>;
  shutdownPeer(address: string, message?: string): Promise<ActionResult>;
  enablePeer(address: string): Promise<ActionResult>;
  reloadConfig(): Promise<ReloadResult>;
}

/** The parts the API reads. */
export interface ApiParts {
  /** The cluster datastore (daemon/cluster-sync.ts), when configured. */
  readonly cluster?: { view(): ApiCluster; readyReasons(): string[] };
  readonly clock: Clock;
  readonly rib: Rib;
  readonly history: PeerHistory;
  readonly restart: GracefulRestart;
  /** Absent: no FIB figures (zeros, disabled). */
  readonly fib?: FibService;
  readonly control: DaemonControl;
  /** The package version (lib/version.ts). */
  readonly version: string;
  config(): BgpConfig;
  sessions(): PeerSummary[];
  peer(address: string): PeerSession | undefined;
  /** Startup grace for readiness, ms (default PEER_GRACE_MS). */
  readonly peerGraceMs?: number;
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;
const community = (c: number) => `${c >>> 16}:${c & 0xffff}`;
const NO_FIB_STATS: FibStats = { installed: 0, operations: [], failures: 0, driftRepairs: 0, queueDepth: 0, drainReconcileDurations: () => [] };

/** An attribute passed on opaque (RFC 4271 §5, §9: optional transitive ones we do not know), in its text form. */
export function unknownAttributeText(u: { code: number; flags: number; value: Buffer }): string {
  return `code ${u.code} flags 0x${u.flags.toString(16).padStart(2, '0')} length ${u.value.length}${u.value.length ? ' ' + u.value.toString('hex') : ''}`;
}

export function apiRoute(prefix: PrefixKey, path: Path, flags: { best: boolean; multipath?: boolean; stale?: boolean; ineligible?: string }): ApiRoute {
  const a = path.attrs.attrs;
  const v4 = typeof prefix === 'number';
  const asPath = (a.asPath ?? []).map((s) => (s.type === 1 || s.type === 4 ? `{${s.asns.join(',')}}` : s.asns.join(' '))).join(' ');
  return {
    prefix: prefixToString(prefix),
    family: prefixFamily(prefix),
    peer: path.peer.address,
    ...(path.peer.local ? {} : { peerAsn: path.peer.asn }),
    ...(path.pathId ? { pathId: path.pathId } : {}),
    best: flags.best,
    ...(flags.multipath ? { multipath: true } : {}),
    ...(flags.stale ? { stale: true } : {}),
    nextHop: (v4 ? path.attrs.nextHopV4 : path.attrs.nextHopV6) ?? (path.peer.local ? 'self' : ''),
    asPath,
    origin: ORIGINS[a.origin ?? 2],
    ...(a.med !== undefined ? { med: a.med } : {}),
    ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
    ...(a.communities ? { communities: a.communities.map(community) } : {}),
    ...(a.largeCommunities ? { largeCommunities: a.largeCommunities.map((c) => `${c.global}:${c.local1}:${c.local2}`) } : {}),
    ...(a.extCommunities ? { extCommunities: a.extCommunities.map(formatExtCommunity) } : {}),
    ...(a.unknown?.length
      ? { unknownAttributes: a.unknown.map((u) => ({ code: u.code, flags: u.flags, length: u.value.length, hex: u.value.toString('hex'), text: unknownAttributeText(u) })) }
      : {}),
    ...(flags.ineligible ? { ineligible: flags.ineligible } : {}),
    ...(a.originatorId !== undefined ? { originatorId: v4ToString(a.originatorId) } : {}),
    ...(a.clusterList ? { clusterList: a.clusterList.map(v4ToString) } : {}),
  };
}

/** ApiPeer.gracefulRestart (RFC 4724): ours, the peer's advertised time, the stale routes' time left. */
function restartTimers(restartTime: number | undefined, peerRestartTime: number | undefined, left: number | undefined): Pick<ApiPeer, 'gracefulRestart'> {
  if (restartTime === undefined && peerRestartTime === undefined && left === undefined) return {};
  return { gracefulRestart: { ...(restartTime !== undefined ? { restartTime } : {}), ...(peerRestartTime !== undefined ? { peerRestartTime } : {}), ...(left !== undefined ? { staleRemainingSeconds: left } : {}) } };
}

export function buildApiDeps(parts: ApiParts): ApiDeps {
  const { clock, rib, history, restart } = parts;
  const startedAt = new Date();
  const clockStart = clock.now();
  const wall = (t: number) => new Date(startedAt.getTime() + (t - clockStart));
  const fibStats = (): FibStats => (parts.fib ? fibStatsOf(parts.fib.viewState().backend, parts.fib.viewState().table) : NO_FIB_STATS);
  const session = (address: string) => parts.peer(normalizeAddress(address));

  /** Down on purpose: shut down in the config, or by an operator through the API. */
  const isShutDown = (s: PeerSummary): boolean => {
    if (s.adminShutdown) return true;
    const ps = parts.peer(s.address);
    return (ps !== undefined && history.get(ps)?.adminShutdown) || findNeighbor(parts.config(), s.address)?.shutdown === true;
  };

  /** Why a configured peer holds readiness back, or undefined when it does not. */
  const notReady = (s: PeerSummary, now: number): string | undefined => {
    if (s.kind !== 'configured' || s.state === 'Established' || s.adminShutdown) return undefined;
    const ps = parts.peer(s.address);
    const r = ps && history.get(ps);
    if (!r || r.adminShutdown) return undefined;
    if (now - r.createdAt < (parts.peerGraceMs ?? PEER_GRACE_MS)) return undefined;
    if (restart.withinRestartTime(s.address)) return undefined;
    return `peer ${s.address} is ${s.state}${r.lastError ? ` (last error: ${r.lastError})` : ''}`;
  };

  const apiPeer = (s: PeerSummary): ApiPeer | undefined => {
    if (s.adminShutdown) return shutDownPeer(s);
    const ps = parts.peer(s.address);
    if (!ps) return undefined;
    const r = history.get(ps);
    const neg = ps.session;
    const stats = rib.peerStats(s.address);
    const fam = (f: Family) => stats?.byFamily[f] ?? { received: 0, accepted: 0, advertised: 0 };
    const v4 = fam('ipv4-unicast');
    const v6 = fam('ipv6-unicast');
    const pc = findNeighbor(parts.config(), s.address);
    const noteList = (m: Map<string, number> | undefined) => [...(m ?? [])].map(([k, count]) => ({ code: Number(k.split('/')[0]), subcode: Number(k.split('/')[1]), count }));
    const transport = ps.transport();
    return {
      address: s.address,
      asn: s.asn,
      ...(s.description !== undefined ? { description: s.description } : {}),
      state: s.state,
      uptimeSeconds: s.uptimeSeconds,
      ...(r?.since !== undefined ? { since: wall(r.since).toISOString() } : {}),
      dynamic: s.kind === 'dynamic',
      routeReflectorClient: stats ? (rib.peerState(s.address)?.peer.rrClient ?? false) : (pc?.routeReflectorClient ?? false),
      // neighbors[].shutdown: down on purpose too (metrics and alerts leave it alone).
      adminShutdown: (r?.adminShutdown || pc?.shutdown) ?? false,
      ...(transport?.local ? { localAddress: transport.local } : {}),
      ...(neg ? { routerId: v4ToString(neg.peerId) } : {}),
      holdTime: { configured: pc?.holdTime ?? 90, ...(neg ? { negotiated: neg.holdTime } : {}) },
      ...(neg ? { keepaliveTime: neg.keepaliveTime } : {}),
      localAsn: pc?.localAsn ?? parts.config().asn,
      ...restartTimers(pc?.gracefulRestart?.enabled ? pc.gracefulRestart.restartTime : undefined, neg?.peerGracefulRestart?.restartTime, restart.restartTimeLeft(s.address)),
      ...(neg ? { capabilities: capabilitiesOf(neg) } : {}),
      ...(r?.lastError ? { lastError: r.lastError } : {}),
      ...(r?.lastNotification ? { lastNotification: r.lastNotification } : {}),
      establishedTransitions: r?.transitions ?? 0,
      prefixes: { received: v4.received + v6.received, accepted: v4.accepted + v6.accepted, advertised: v4.advertised + v6.advertised },
      prefixesByFamily: { 'ipv4-unicast': v4, 'ipv6-unicast': v6 },
      messages: { received: { ...ps.messages.received }, sent: { ...ps.messages.sent } },
      notifications: { sent: noteList(r?.notes.sent), received: noteList(r?.notes.received) },
    };
  };

  /** A neighbor shut down in the config (neighbors[].shutdown): no session, so its config and zero counters. */
  const shutDownPeer = (s: PeerSummary): ApiPeer => {
    const pc = findNeighbor(parts.config(), s.address);
    const zero = { received: 0, accepted: 0, advertised: 0 };
    const noMessages = () => ({ open: 0, update: 0, notification: 0, keepalive: 0, 'route-refresh': 0 });
    return {
      address: s.address,
      asn: s.asn,
      ...(s.description !== undefined ? { description: s.description } : {}),
      state: 'Idle',
      uptimeSeconds: 0,
      dynamic: false,
      routeReflectorClient: pc?.routeReflectorClient ?? false,
      adminShutdown: true,
      holdTime: { configured: pc?.holdTime ?? 90 },
      localAsn: pc?.localAsn ?? parts.config().asn,
      ...restartTimers(pc?.gracefulRestart?.enabled ? pc.gracefulRestart.restartTime : undefined, undefined, restart.restartTimeLeft(s.address)),
      establishedTransitions: 0,
      prefixes: { ...zero },
      prefixesByFamily: { 'ipv4-unicast': { ...zero }, 'ipv6-unicast': { ...zero } },
      messages: { received: noMessages(), sent: noMessages() },
      notifications: { sent: [], received: [] },
    };
  };

  const fibReady = (): string[] => parts.fib?.readyReasons() ?? [];

  return {
    status: () => {
      const c = parts.config();
      const t = rib.totals();
      const sessions = parts.sessions();
      const { installed, pending, failed } = parts.fib ? fibView(parts.fib.viewState(), { limit: 0 }).counts : { installed: 0, pending: 0, failed: 0 };
      const b = parts.fib?.viewState().backend;
      const counts = { installed, pending, failed, mode: b?.mode ?? ('disabled' as const), ...(b?.reason ? { reason: b.reason } : {}) };
      return {
        routerId: c.routerId,
        asn: c.asn,
        version: parts.version,
        uptimeSeconds: (clock.now() - clockStart) / 1000,
        startedAt: startedAt.toISOString(),
        ...(c.clusterId ? { clusterId: c.clusterId } : {}),
        peers: {
          configured: sessions.filter((s) => s.kind === 'configured').length,
          dynamic: sessions.filter((s) => s.kind === 'dynamic').length,
          established: sessions.filter((s) => s.state === 'Established').length,
          adminShutdown: sessions.filter(isShutDown).length,
        },
        routes: t.routes,
        paths: t.paths,
        fib: counts,
      };
    },
    peers: () => parts.sessions().flatMap((s) => apiPeer(s) ?? []),
    peer: (address) => {
      const a = normalizeAddress(address);
      const s = parts.sessions().find((x) => x.address === a);
      return s ? apiPeer(s) : undefined;
    },
    routes: (q): RoutePage => {
      const offset = q.cursor ? Number(q.cursor) || 0 : 0;
      const out: ApiRoute[] = [];
      let i = 0;
      const query = { ...q, ...(q.peer !== undefined ? { peer: normalizeAddress(q.peer) } : {}) };
      for (const r of selectRoutes(rib, query)) {
        if (i++ < offset) continue;
        if (out.length === q.limit) return { routes: out, nextCursor: String(offset + q.limit) };
        out.push(apiRoute(r.prefix, r.path, r));
      }
      return { routes: out };
    },
    explain: (text): ApiExplain | undefined => {
      const prefix = prefixParse(text);
      const e = prefix === undefined ? undefined : explainPrefix(rib, prefix);
      if (!e) return undefined;
      const bestText = e.candidates.find((c) => c.path === e.best)?.text ?? e.reason;
      return {
        prefix: prefixToString(e.prefix),
        family: prefixFamily(e.prefix),
        reason: e.reason,
        summary: e.best ? `best via ${e.best.peer.address}: ${bestText}` : 'no eligible path',
        candidates: e.candidates.map((c) => ({
          route: apiRoute(e.prefix, c.path, { best: c.path === e.best, multipath: c.multipath, stale: c.stale, ...(c.ineligible ? { ineligible: c.ineligible } : {}) }),
          status: c.status,
          ...(c.step ? { step: c.step } : {}),
          ...(c.ineligible ? { ineligible: c.ineligible } : {}),
          text: c.text,
        })),
      };
    },
    fib: (q) => {
      if (parts.fib) return fibView(parts.fib.viewState(), q);
      const c = parts.config();
      return { mode: 'disabled', table: c.fib.table, protocol: c.fib.protocol, reconciled: false, counts: { installed: 0, pending: 0, failed: 0 }, routes: [] };
    },
    config: () => parts.config(),
    announce: (p, c) => parts.control.announce(p, c),
    withdraw: (p) => parts.control.withdraw(p),
    resetPeer: (a, soft) => parts.control.resetPeer(normalizeAddress(a), soft),
    shutdownPeer: async (a, m) => {
      const r = await parts.control.shutdownPeer(normalizeAddress(a), m);
      const ps = session(a);
      if (r.ok && ps) history.markShutdown(ps, true);
      return r;
    },
    enablePeer: async (a) => {
      const r = await parts.control.enablePeer(normalizeAddress(a));
      const ps = session(a);
      if (r.ok && ps) history.markShutdown(ps, false);
      return r;
    },
    reloadConfig: () => parts.control.reloadConfig(),
    ...(parts.cluster && { cluster: () => parts.cluster!.view() }),
    ready: () => {
      const reasons: string[] = [];
      const now = clock.now();
      for (const s of parts.sessions()) {
        const why = notReady(s, now);
        if (why) reasons.push(why);
      }
      if (rib.hasWork()) reasons.push('the RIB is still converging');
      reasons.push(...fibReady());
      reasons.push(...(parts.cluster?.readyReasons() ?? []));
      return { ready: reasons.length === 0, reasons };
    },
    ribStats: () => {
      const t = rib.totals();
      return { routes: t.routes, paths: t.paths, bestPathChanges: t.bestPathChanges, attributeSets: t.attributeSets };
    },
    fibStats,
  };
}
