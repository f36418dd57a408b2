// The daemon's side of the HTTP API contract (src/api/deps.ts ApiDeps): plain
// data read from the sessions (RFC 4271 §8.2.2 state names, per-type message
// counters kept by PeerSession) and the RIB (Loc-RIB candidates, the RFC 4271
// §9.1.2 explanation), and control calls handed to the daemon. Per-peer
// history the session layer does not keep (Established transitions,
// NOTIFICATIONs by code/subcode each way, the last error) is recorded here from
// the session events. Route listing pages with an offset cursor.
//
// Readiness (/readyz): every configured peer not administratively shut down is
// Established, or within its grace period: the startup grace after the session
// was created (daemon start, or a reload that added it), or, after an
// Established session went down without a NOTIFICATION, the restart time the
// peer advertised in its RFC 4724 §3 Graceful Restart capability. The RIB must
// not be mid-convergence; the daemon adds the FIB's reasons.

import type { ActionResult, ApiDeps, ApiExplain, ApiPeer, ApiRoute, FibStats, ReloadResult, RoutePage, RoutesQuery } from '../api/deps.js';
import type { BgpConfig } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import { prefixFamily, prefixParse, prefixToString, v4Contains, v4Key, v4Parse, v4ToString, v6KeyParse, type Family, type PrefixKey } from '../lib/prefix.js';
import { notificationName, type NotificationMessage } from '../bgp/wire/index.js';
import type { PeerSession } from '../bgp/session/index.js';
import type { PeerKind, PeerSummary } from '../bgp/session/neighbors.js';
import type { Path, Rib } from '../rib/index.js';
import { capabilitiesOf } from '../api/peer-view.js';


/** Default startup grace for /readyz: a configured peer may take this long to reach Established. */
export const PEER_GRACE_MS = 120_000;

interface PeerRecord {
  kind: PeerKind;
  transitions: number;
  since: number | undefined;
  /** Clock time the session was created (startup grace starts here). */
  createdAt: number;
  /** Clock time an Established session last went down, and the RFC 4724 restart time it earned (ms). */
  downAt?: number;
  restartGraceMs?: number;
  /** The peer's advertised restart time while Established with graceful restart (ms). */
  grMs?: number;
  lastError?: string;
  lastNotification?: ApiPeer['lastNotification'];
  notes: { sent: Map<string, number>; received: Map<string, number> };
  adminShutdown: boolean;
}

/** What the API needs of the daemon beyond the RIB. */
export interface CoreHandle {
  readonly clock: Clock;
  readonly rib: Rib;
  config(): BgpConfig;
  sessions(): PeerSummary[];
  peer(address: string): PeerSession | undefined;
  announce(prefix: string, communities: readonly string[]): ActionResult;
  withdraw(prefix: string): ActionResult;
  resetPeer(address: string, soft?: 'in' | 'out'): Promise<ActionResult>;
  shutdownPeer(address: string, message?: string): Promise<ActionResult>;
  enablePeer(address: string): Promise<ActionResult>;
  reloadConfig(): Promise<ReloadResult>;
  fibStats?(): FibStats;
  /** Startup grace for readiness, ms (default PEER_GRACE_MS). */
  readonly peerGraceMs?: number;
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;
const community = (c: number) => `${c >>> 16}:${c & 0xffff}`;

export function apiRoute(prefix: PrefixKey, path: Path, flags: { best: boolean; multipath?: boolean; stale?: boolean }): ApiRoute {
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
    ...(a.originatorId !== undefined ? { originatorId: v4ToString(a.originatorId) } : {}),
    ...(a.clusterList ? { clusterList: a.clusterList.map(v4ToString) } : {}),
  };
}

/** Every (prefix, path) row the query selects, best path first per prefix. */
function* rows(rib: Rib, q: RoutesQuery): Generator<ApiRoute> {
  const fam: Family | undefined = q.family;
  const prefixes = (): Iterable<PrefixKey> => {
    if (q.prefix === undefined) return (function* () { for (const [p] of rib.locRib.bestRoutes(fam)) yield p; })();
    const exact = prefixParse(q.prefix);
    const match = q.match ?? (exact !== undefined ? 'exact' : 'longest');
    const addr = exact ?? (q.prefix.includes(':') ? v6KeyParse(`${q.prefix}/128`) : v4Parse(q.prefix) !== undefined ? v4Key(v4Parse(q.prefix)!, 32) : undefined);
    if (addr === undefined) return [];
    if (match === 'exact') return [addr];
    if (match === 'subnets')
      return (function* () {
        for (const [p] of rib.locRib.bestRoutes(prefixFamily(addr)))
          if (typeof p === 'number' && typeof addr === 'number' ? v4Contains(addr, p) : p === addr) yield p;
      })();
    if (typeof addr !== 'number') return rib.locRib.candidates(addr).length > 0 ? [addr] : [];
    // Longest match: walk the lengths down from the address's own.
    const base = Math.floor(addr / 64);
    for (let len = addr % 64; len >= 0; len--) {
      const k = v4Key(len === 0 ? 0 : (base & (0xffffffff << (32 - len))) >>> 0, len);
      if (rib.locRib.candidates(k).length > 0) return [k];
    }
    return [];
  };
  for (const prefix of prefixes()) {
    if (fam && prefixFamily(prefix) !== fam) continue;
    const best = rib.locRib.best(prefix);
    const multipath = rib.locRib.multipath(prefix);
    const list = [...rib.locRib.candidates(prefix)].sort((x, y) => (x === best ? -1 : y === best ? 1 : 0));
    for (const path of list) {
      const isBest = path === best;
      if (q.best && !isBest) continue;
      if (q.peer !== undefined && path.peer.address !== q.peer) continue;
      yield apiRoute(prefix, path, { best: isBest, multipath: !isBest && multipath.includes(path), stale: rib.isStale(path, prefix) });
    }
  }
}

export class ApiCore {
  private readonly records = new Map<PeerSession, PeerRecord>();
  private readonly startedAt = Date.now();
  private readonly clockStart: number;

  constructor(private readonly core: CoreHandle) {
    this.clockStart = core.clock.now();
  }

  /** Neighbors' onSession hook: record what the API reports about the session. */
  track(session: PeerSession, kind: PeerKind): void {
    const clock = this.core.clock;
    // neighbors[].shutdown: down on purpose from the start (metrics and readiness leave it alone).
    const shutdown = this.core.config().neighbors.some((n) => n.address === session.address && n.shutdown);
    const r: PeerRecord = { kind, transitions: 0, since: undefined, createdAt: clock.now(), notes: { sent: new Map(), received: new Map() }, adminShutdown: shutdown };
    this.records.set(session, r);
    const note = (dir: 'sent' | 'received', n: NotificationMessage) => {
      const k = `${n.code}/${n.subcode}`;
      r.notes[dir].set(k, (r.notes[dir].get(k) ?? 0) + 1);
      r.lastNotification = { direction: dir, code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), ...(n.shutdownMessage ? { message: n.shutdownMessage } : {}), at: new Date().toISOString() };
    };
    session.on('state', () => (r.since = clock.now()));
    session.on('established', (n) => {
      r.transitions++;
      r.downAt = undefined;
      r.restartGraceMs = undefined;
      r.grMs = n.gracefulRestart && n.peerGracefulRestart ? n.peerGracefulRestart.restartTime * 1000 : undefined;
    });
    session.on('notification-received', (n) => note('received', n));
    session.on('notification-sent', (n) => note('sent', n));
    session.on('down', (d) => {
      r.lastError = d.detail ? `${d.reason}: ${d.detail}` : d.reason;
      if (!d.wasEstablished) return;
      r.downAt = clock.now();
      // RFC 4724 §4.2: only a session that ends without a NOTIFICATION is a restart the peer may come back from.
      r.restartGraceMs = d.notification === undefined ? r.grMs : undefined;
    });
  }

  /** Why a configured peer holds readiness back, or undefined when it does not. */
  private notReady(s: PeerSummary, now: number): string | undefined {
    if (s.kind !== 'configured' || s.state === 'Established') return undefined;
    const session = this.core.peer(s.address);
    const r = session && this.records.get(session);
    if (!r || r.adminShutdown) return undefined;
    const grace = this.core.peerGraceMs ?? PEER_GRACE_MS;
    if (now - r.createdAt < grace) return undefined;
    if (r.downAt !== undefined && r.restartGraceMs !== undefined && now - r.downAt < r.restartGraceMs) return undefined;
    return `peer ${s.address} is ${s.state}${r.lastError ? ` (last error: ${r.lastError})` : ''}`;
  }

  untrack(session: PeerSession): void {
    this.records.delete(session);
  }

  private apiPeer(s: PeerSummary): ApiPeer | undefined {
    const session = this.core.peer(s.address);
    if (!session) return undefined;
    const r = this.records.get(session);
    const neg = session.session;
    const stats = this.core.rib.peerStats(s.address);
    const fam = (f: Family) => stats?.byFamily[f] ?? { received: 0, accepted: 0, advertised: 0 };
    const v4 = fam('ipv4-unicast');
    const v6 = fam('ipv6-unicast');
    const cfg = this.core.config();
    const pc = cfg.neighbors.find((n) => n.address === s.address);
    const noteList = (m: Map<string, number> | undefined) => [...(m ?? [])].map(([k, count]) => ({ code: Number(k.split('/')[0]), subcode: Number(k.split('/')[1]), count }));
    const transport = session.transport();
    return {
      address: s.address,
      asn: s.asn,
      ...(s.description !== undefined ? { description: s.description } : {}),
      state: s.state,
      uptimeSeconds: s.uptimeSeconds,
      ...(r?.since !== undefined ? { since: new Date(this.startedAt + (r.since - this.clockStart)).toISOString() } : {}),
      dynamic: s.kind === 'dynamic',
      routeReflectorClient: stats ? (this.core.rib.peerState(s.address)?.peer.rrClient ?? false) : (pc?.routeReflectorClient ?? false),
      adminShutdown: r?.adminShutdown ?? false,
      ...(transport?.local ? { localAddress: transport.local } : {}),
      ...(neg ? { routerId: v4ToString(neg.peerId) } : {}),
      holdTime: { configured: pc?.holdTime ?? 90, ...(neg ? { negotiated: neg.holdTime } : {}) },
      ...(neg ? { keepaliveTime: neg.keepaliveTime } : {}),
      localAsn: pc?.localAsn ?? cfg.asn,
      ...this.restartTimers(r, pc?.gracefulRestart?.enabled ? pc.gracefulRestart.restartTime : undefined, neg?.peerGracefulRestart?.restartTime),
      ...(neg ? { capabilities: capabilitiesOf(neg) } : {}),
      ...(r?.lastError ? { lastError: r.lastError } : {}),
      ...(r?.lastNotification ? { lastNotification: r.lastNotification } : {}),
      establishedTransitions: r?.transitions ?? 0,
      prefixes: { received: v4.received + v6.received, accepted: v4.accepted + v6.accepted, advertised: v4.advertised + v6.advertised },
      prefixesByFamily: { 'ipv4-unicast': v4, 'ipv6-unicast': v6 },
      messages: { received: { ...(session.messages.received) }, sent: { ...(session.messages.sent) } },
      notifications: { sent: noteList(r?.notes.sent), received: noteList(r?.notes.received) },
    };
  }

  /** ApiPeer.gracefulRestart: RFC 4724 timers, and the stale routes' remaining time after a restart-style drop. */
  private restartTimers(r: PeerRecord | undefined, restartTime: number | undefined, peerRestartTime: number | undefined): Pick<ApiPeer, 'gracefulRestart'> {
    const peerMs = peerRestartTime !== undefined ? peerRestartTime * 1000 : r?.grMs;
    const left = r?.downAt !== undefined && r.restartGraceMs !== undefined ? Math.max(0, r.downAt + r.restartGraceMs - this.core.clock.now()) / 1000 : undefined;
    if (restartTime === undefined && peerMs === undefined && left === undefined) return {};
    return { gracefulRestart: { ...(restartTime !== undefined ? { restartTime } : {}), ...(peerMs !== undefined ? { peerRestartTime: peerMs / 1000 } : {}), ...(left !== undefined && left > 0 ? { staleRemainingSeconds: left } : {}) } };
  }

  markShutdown(address: string, down: boolean): void {
    const s = this.core.peer(address);
    const r = s && this.records.get(s);
    if (r) r.adminShutdown = down;
  }

  deps(): ApiDeps {
    const core = this.core;
    const rib = core.rib;
    const fibStats: FibStats = { installed: 0, operations: [], failures: 0, driftRepairs: 0, queueDepth: 0, drainReconcileDurations: () => [] };
    return {
      status: () => {
        const c = core.config();
        const t = rib.totals();
        const sessions = core.sessions();
        return {
          routerId: c.routerId,
          asn: c.asn,
          version: '0.1.0',
          uptimeSeconds: (Date.now() - this.startedAt) / 1000,
          startedAt: new Date(this.startedAt).toISOString(),
          ...(c.clusterId ? { clusterId: c.clusterId } : {}),
          peers: {
            configured: sessions.filter((s) => s.kind === 'configured').length,
            dynamic: sessions.filter((s) => s.kind === 'dynamic').length,
            established: sessions.filter((s) => s.state === 'Established').length,
          },
          routes: t.routes,
          paths: t.paths,
          fib: (({ installed, mode, reason }) => ({ installed, pending: 0, failed: 0, ...(mode ? { mode } : {}), ...(reason ? { reason } : {}) }))(core.fibStats?.() ?? fibStats),
        };
      },
      peers: () => core.sessions().flatMap((s) => this.apiPeer(s) ?? []),
      peer: (address) => {
        const s = core.sessions().find((x) => x.address === address);
        return s ? this.apiPeer(s) : undefined;
      },
      routes: (q): RoutePage => {
        const offset = q.cursor ? Number(q.cursor) || 0 : 0;
        const out: ApiRoute[] = [];
        let i = 0;
        for (const r of rows(rib, q)) {
          if (i++ < offset) continue;
          if (out.length === q.limit) return { routes: out, nextCursor: String(offset + q.limit) };
          out.push(r);
        }
        return { routes: out };
      },
      explain: (text): ApiExplain | undefined => {
        const prefix = prefixParse(text);
        if (prefix === undefined) return undefined;
        const cands = rib.explain(prefix);
        if (cands.length === 0) return undefined;
        const best = rib.locRib.best(prefix);
        const reason = rib.locRib.reason(prefix) ?? 'no-eligible-path';
        const multipath = rib.locRib.multipath(prefix);
        return {
          prefix: prefixToString(prefix),
          family: prefixFamily(prefix),
          reason,
          summary: best ? `best via ${best.peer.address}: ${cands.find((c) => c.path === best)?.text ?? reason}` : 'no eligible path',
          candidates: cands.map((c) => ({
            route: apiRoute(prefix, c.path, { best: c.path === best, multipath: c.path !== best && multipath.includes(c.path), stale: rib.isStale(c.path, prefix) }),
            status: c.status,
            ...(c.step ? { step: c.step } : {}),
            ...(c.ineligible ? { ineligible: c.ineligible } : {}),
            text: c.text,
          })),
        };
      },
      fib: () => {
        const c = core.config();
        return { mode: 'disabled', table: c.fib.table, protocol: c.fib.protocol, reconciled: false, counts: { installed: 0, pending: 0, failed: 0 }, routes: [] };
      },
      config: () => core.config(),
      announce: (p, c) => core.announce(p, c),
      withdraw: (p) => core.withdraw(p),
      resetPeer: (a, soft) => core.resetPeer(a, soft),
      shutdownPeer: async (a, m) => {
        const r = await core.shutdownPeer(a, m);
        if (r.ok) this.markShutdown(a, true);
        return r;
      },
      enablePeer: async (a) => {
        const r = await core.enablePeer(a);
        if (r.ok) this.markShutdown(a, false);
        return r;
      },
      reloadConfig: () => core.reloadConfig(),
      ready: () => {
        const reasons: string[] = [];
        const now = core.clock.now();
        for (const s of core.sessions()) {
          const why = this.notReady(s, now);
          if (why) reasons.push(why);
        }
        if (rib.hasWork()) reasons.push('the RIB is still converging');
        return { ready: reasons.length === 0, reasons };
      },
      ribStats: () => {
        const t = rib.totals();
        return { routes: t.routes, paths: t.paths, bestPathChanges: t.bestPathChanges, attributeSets: t.attributeSets };
      },
      fibStats: () => core.fibStats?.() ?? fibStats,
    };
  }
}
