// Human-readable renderings of API answers for the command line, modelled on
// `birdc show protocols` / `show route`: fixed columns, one line per peer or
// path, a star on best paths. Scripts use --json instead; these strings are
// for eyes and may change.

import type { ApiExplain, ApiFib, ApiPeer, ApiRoute, ApiStatus } from '../api/schemas.js';
import { candidateSentence, explainSummary } from './explain-text.js';

/** Left-aligned columns separated by two spaces; no trailing blanks. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** 3725 -> "1h02m05s"; 90061 -> "1d01h01m". */
export function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${pad(h)}h${pad(m)}m`;
  if (h > 0) return `${h}h${pad(m)}m${pad(s % 60)}s`;
  if (m > 0) return `${m}m${pad(s % 60)}s`;
  return `${s % 60}s`;
}

export function formatStatus(s: ApiStatus): string {
  const fam = (f: 'ipv4-unicast' | 'ipv6-unicast') => `${f} ${s.routes[f]} (${s.paths[f]} paths)`;
  return [
    `bgp-ts ${s.version}  router ID ${s.routerId}  AS ${s.asn}${s.clusterId ? `  cluster ${s.clusterId}` : ''}  up ${duration(s.uptimeSeconds)}`,
    `Peers:  ${s.peers.configured} configured, ${s.peers.dynamic} dynamic, ${s.peers.established} established${s.peers.adminShutdown ? `, ${s.peers.adminShutdown} admin shutdown` : ''}`,
    `Routes: ${fam('ipv4-unicast')}, ${fam('ipv6-unicast')}`,
    s.fib.mode === 'disabled'
      ? `FIB:    disabled (${s.fib.reason ?? 'fib.enabled is false'}): no kernel routes`
      : s.fib.mode === 'dry-run'
        ? `FIB:    DRY RUN (${s.fib.reason ?? 'asked for'}): kernel routes are not written`
        : `FIB:    ${s.fib.installed} installed, ${s.fib.pending} pending, ${s.fib.failed} failed`,
    '',
  ].join('\n');
}

/** Why the session last went down, in words: the NOTIFICATION by name and text, else the cause. */
export function lastErrorText(p: ApiPeer): string | undefined {
  if (!p.lastError) return undefined;
  const [reason, ...rest] = p.lastError.split(': ');
  const detail = rest.join(': ');
  const n = p.lastNotification;
  const note = n && `${n.name}${n.message ? ` "${n.message}"` : ''}`;
  if (reason === 'notification-received' && note && n.direction === 'received') return `Received: ${note}`;
  if (note && n.direction === 'sent' && reason !== 'connection-closed' && reason !== 'connect-failed' && reason !== 'collision' && reason !== 'graceful-restart') return `Sent: ${note}`;
  const words = DOWN_WORDS[reason ?? ''] ?? reason;
  return detail ? `${words} (${detail})` : words;
}

const DOWN_WORDS: Record<string, string> = {
  'admin-stop': 'Stopped by an operator',
  'hold-timer-expired': 'Hold timer expired: no message from the peer in time',
  'notification-received': 'Received a NOTIFICATION',
  'connection-closed': 'Connection closed by the peer',
  'connect-failed': 'Could not connect',
  'open-error': "Refused the peer's OPEN",
  'header-error': 'Received a malformed message header',
  'update-error': 'Received a malformed UPDATE',
  'fsm-error': 'Received a message unexpected in this state',
  collision: 'Connection collision: the other connection was kept',
  'max-prefix': 'Maximum number of prefixes reached',
  'config-change': 'Reset for a configuration change',
  deconfigured: 'Peer removed from the configuration',
  'admin-reset': 'Reset by an operator',
  'graceful-restart': 'Closed for a graceful restart',
};

/** iBGP or eBGP, and the peer's role, like `calicoctl node status`'s type column. */
export function peerType(p: ApiPeer): string {
  const ibgp = p.localAsn !== undefined ? p.asn === p.localAsn : undefined;
  const kind = ibgp === undefined ? '' : ibgp ? 'iBGP' : 'eBGP';
  const role = p.routeReflectorClient ? 'RR client' : p.dynamic ? 'dynamic' : ibgp === false ? 'ToR/external' : ibgp ? 'mesh' : '';
  return [kind, role].filter(Boolean).join(' ') || '-';
}

/** Established: uptime; otherwise "down 3m12s" since the last state change (birdc's since column). */
function sinceText(p: ApiPeer, now: number): string {
  if (p.state === 'Established') return duration(p.uptimeSeconds);
  if (!p.since) return 'down';
  const t = Date.parse(p.since);
  return Number.isFinite(t) ? `down ${duration(Math.max(0, (now - t) / 1000))}` : 'down';
}

function peerInfo(p: ApiPeer): string {
  const counts = `rx/acc/adv ${p.prefixes.received}/${p.prefixes.accepted}/${p.prefixes.advertised}`;
  // Shut down through the API: the Cease it sent (with its RFC 9003 text); in the config: no session, nothing more.
  const err = p.state !== 'Established' ? lastErrorText(p) : undefined;
  return err ? `${counts}  ${err}` : counts;
}

/** The state as birdc / vtysh would put it: an administratively shut down peer is "Idle (admin shutdown)". */
export function stateText(p: ApiPeer): string {
  return p.adminShutdown ? `${p.state} (admin shutdown)` : p.state;
}

export function formatPeers(peers: readonly ApiPeer[], now: number = Date.now()): string {
  if (peers.length === 0) return 'no peers\n';
  return table(
    ['Name', 'Address', 'ASN', 'Type', 'State', 'Since', 'Info'],
    peers.map((p) => [p.description ?? '-', p.address, String(p.asn), peerType(p), stateText(p), sinceText(p, now), peerInfo(p)]),
  );
}

export function formatPeer(p: ApiPeer): string {
  const lines: [string, string | undefined][] = [
    ['Address', p.address],
    ['Description', p.description],
    ['ASN', String(p.asn)],
    ['Router ID', p.routerId],
    ['State', stateText(p)],
    ['Uptime', p.state === 'Established' ? duration(p.uptimeSeconds) : undefined],
    ['Since', p.since],
    ['Type', `${peerType(p)}, ${p.dynamic ? 'dynamic (listen range)' : 'configured'}`],
    ['Local AS', p.localAsn !== undefined ? String(p.localAsn) : undefined],
    ['Local address', p.localAddress],
    ['Hold time', `${p.holdTime.configured} configured${p.holdTime.negotiated !== undefined ? `, ${p.holdTime.negotiated} negotiated` : ''}`],
    ['Keepalive', p.keepaliveTime !== undefined ? String(p.keepaliveTime) : undefined],
    ['Capabilities', p.capabilities && capabilityText(p.capabilities)],
    ['Graceful restart', p.gracefulRestart && restartText(p.gracefulRestart)],
    ['Last error', lastErrorText(p)],
    ['Last NOTIFICATION', p.lastNotification &&
      `${p.lastNotification.direction} ${p.lastNotification.name} (${p.lastNotification.code}/${p.lastNotification.subcode})` +
      `${p.lastNotification.message ? ` "${p.lastNotification.message}"` : ''} at ${p.lastNotification.at}`],
    ['Established', `${p.establishedTransitions} times`],
    ['BFD', p.bfd?.state],
  ];
  for (const f of ['ipv4-unicast', 'ipv6-unicast'] as const) {
    const c = p.prefixesByFamily[f];
    lines.push([`Prefixes ${f}`, `${c.received} received, ${c.accepted} accepted, ${c.advertised} advertised`]);
  }
  const msgs = (dir: 'received' | 'sent') => Object.entries(p.messages[dir]).map(([t, n]) => `${t} ${n}`).join(', ');
  lines.push(['Messages received', msgs('received')], ['Messages sent', msgs('sent')]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n') + '\n';
}

function restartText(g: NonNullable<ApiPeer['gracefulRestart']>): string {
  return [
    g.restartTime !== undefined ? `restart time ${g.restartTime}s` : 'not enabled here',
    g.peerRestartTime !== undefined ? `peer's restart time ${g.peerRestartTime}s` : undefined,
    g.staleRemainingSeconds !== undefined ? `stale routes kept ${duration(g.staleRemainingSeconds)} more` : undefined,
  ].filter(Boolean).join(', ');
}

function capabilityText(c: NonNullable<ApiPeer['capabilities']>): string {
  const flags = [
    ...c.families,
    c.fourOctetAs && '4-octet-as',
    c.routeRefresh && 'route-refresh',
    c.enhancedRouteRefresh && 'enhanced-route-refresh',
    c.extendedMessage && 'extended-message',
    c.gracefulRestart && 'graceful-restart',
    ...Object.entries(c.addPath ?? {}).map(([f, m]) => `add-path ${f} ${m}`),
  ];
  return flags.filter(Boolean).join(', ');
}

/** Prefix order: IPv4 before IPv6, then by address, then by length; best path first within a prefix. */
export function comparePrefixes(a: string, b: string): number {
  const key = (p: string): [number, bigint, number] => {
    const [addr = '', len = '0'] = p.split('/');
    if (!addr.includes(':')) return [4, addr.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o) || 0), 0n), Number(len)];
    const [head = '', tail = ''] = addr.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return [6, groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16) || 0), 0n), Number(len)];
  };
  const [fa, xa, la] = key(a);
  const [fb, xb, lb] = key(b);
  return fa - fb || (xa < xb ? -1 : xa > xb ? 1 : 0) || la - lb;
}

export function sortRoutes(routes: readonly ApiRoute[]): ApiRoute[] {
  return [...routes].sort((x, y) => comparePrefixes(x.prefix, y.prefix) || Number(y.best) - Number(x.best));
}

export function routeRows(routes: readonly ApiRoute[]): string[][] {
  return sortRoutes(routes).map((r) => [
    `${r.best ? '*' : r.multipath ? '=' : ' '}${r.stale ? 'S' : ' '} ${r.prefix}`,
    r.peer,
    r.nextHop,
    r.asPath === '' ? '-' : r.asPath,
    r.origin,
    r.localPref !== undefined ? String(r.localPref) : '-',
    r.med !== undefined ? String(r.med) : '-',
    [...(r.communities ?? []), ...(r.largeCommunities ?? [])].join(' '),
  ]);
}

export const ROUTE_HEADER = ['   Prefix', 'Peer', 'Next hop', 'AS path', 'Origin', 'LocPrf', 'MED', 'Communities'] as const;

export function formatRoutes(routes: readonly ApiRoute[]): string {
  if (routes.length === 0) return 'no routes\n';
  const stale = routes.some((r) => r.stale);
  return table(ROUTE_HEADER, routeRows(routes)) + `(* best, = multipath${stale ? ", S stale: kept through the peer's graceful restart (RFC 4724)" : ''})\n`;
}

export function formatExplain(e: ApiExplain): string {
  const lines = [explainSummary(e), ''];
  const rows = e.candidates.map((c) => [c.status, c.route.peer, c.route.nextHop, c.route.asPath === '' ? '-' : c.route.asPath, candidateSentence(c, e.candidates)]);
  return lines.join('\n') + table(['Status', 'Peer', 'Next hop', 'AS path', 'Why'], rows);
}

export function formatFib(f: ApiFib): string {
  const dry = f.mode === 'dry-run';
  const head =
    (dry
      ? `FIB DRY RUN (${f.reason ?? 'asked for'}): nothing is written to the kernel; routes below are what would be installed\n`
      : f.mode === 'disabled'
        ? `FIB disabled (${f.reason ?? 'fib.enabled is false'}): no kernel routes, nothing recorded; fib.dryRun: true shows what would be installed\n`
        : '') +
    `FIB ${f.mode}, table ${f.table}, protocol ${f.protocol}, ${f.reconciled ? 'reconciled' : 'not yet reconciled'}` +
    `${f.lastReconcile ? ` (last ${f.lastReconcile})` : ''}\n` +
    (dry
      ? `${f.counts.wouldInstall ?? 0} would be installed, ${f.counts.failed} failed\n`
      : `${f.counts.installed} installed, ${f.counts.pending} pending, ${f.counts.failed} failed\n`);
  if (f.routes.length === 0) return head;
  const rows = f.routes.map((r) => [
    r.prefix,
    r.state + (r.op ? ` (${r.op})` : ''),
    r.kind === 'blackhole' ? 'blackhole' : r.nextHops.map((h) => [h.gateway && `via ${h.gateway}`, h.dev && `dev ${h.dev}`, h.onlink && 'onlink'].filter(Boolean).join(' ')).join('; '),
    r.error ?? '',
  ]);
  return `${head}\n${table(['Prefix', 'State', 'Next hops', 'Error'], rows)}${f.nextCursor ? '(more: --cursor ' + f.nextCursor + ')\n' : ''}`;
}
