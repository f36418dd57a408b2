// Human-readable renderings of API answers for the command line, modelled on
// `birdc show protocols` / `show route`: fixed columns, one line per peer or
// path, a star on best paths. Scripts use --json instead; these strings are
// for eyes and may change.

import type { ApiExplain, ApiFib, ApiPeer, ApiRoute, ApiStatus } from '../api/schemas.js';

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
    `Peers:  ${s.peers.configured} configured, ${s.peers.dynamic} dynamic, ${s.peers.established} established`,
    `Routes: ${fam('ipv4-unicast')}, ${fam('ipv6-unicast')}`,
    `FIB:    ${s.fib.installed} installed, ${s.fib.pending} pending, ${s.fib.failed} failed`,
    '',
  ].join('\n');
}

function peerInfo(p: ApiPeer): string {
  const counts = `rx/acc/adv ${p.prefixes.received}/${p.prefixes.accepted}/${p.prefixes.advertised}`;
  if (p.adminShutdown) return `${counts}  admin shutdown`;
  if (p.state !== 'Established' && p.lastError) return `${counts}  ${p.lastError}`;
  return counts;
}

export function formatPeers(peers: readonly ApiPeer[]): string {
  if (peers.length === 0) return 'no peers\n';
  return table(
    ['Name', 'Address', 'ASN', 'State', 'Uptime', 'Info'],
    peers.map((p) => [
      p.description ?? '-',
      p.address,
      String(p.asn),
      p.state,
      p.state === 'Established' ? duration(p.uptimeSeconds) : (p.since ?? '-'),
      peerInfo(p),
    ]),
  );
}

export function formatPeer(p: ApiPeer): string {
  const lines: [string, string | undefined][] = [
    ['Address', p.address],
    ['Description', p.description],
    ['ASN', String(p.asn)],
    ['Router ID', p.routerId],
    ['State', `${p.state}${p.adminShutdown ? ' (admin shutdown)' : ''}`],
    ['Uptime', p.state === 'Established' ? duration(p.uptimeSeconds) : undefined],
    ['Since', p.since],
    ['Type', `${p.dynamic ? 'dynamic' : 'configured'}${p.routeReflectorClient ? ', route-reflector client' : ''}`],
    ['Local address', p.localAddress],
    ['Hold time', `${p.holdTime.configured} configured${p.holdTime.negotiated !== undefined ? `, ${p.holdTime.negotiated} negotiated` : ''}`],
    ['Keepalive', p.keepaliveTime !== undefined ? String(p.keepaliveTime) : undefined],
    ['Capabilities', p.capabilities && capabilityText(p.capabilities)],
    ['Last error', p.lastError],
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

export function routeRows(routes: readonly ApiRoute[]): string[][] {
  return routes.map((r) => [
    `${r.best ? '*' : r.multipath ? '=' : ' '} ${r.prefix}`,
    r.peer,
    r.nextHop,
    r.asPath === '' ? '-' : r.asPath,
    r.origin,
    r.localPref !== undefined ? String(r.localPref) : '-',
    r.med !== undefined ? String(r.med) : '-',
    [...(r.communities ?? []), ...(r.largeCommunities ?? [])].join(' '),
  ]);
}

export const ROUTE_HEADER = ['  Prefix', 'Peer', 'Next hop', 'AS path', 'Origin', 'LocPrf', 'MED', 'Communities'] as const;

export function formatRoutes(routes: readonly ApiRoute[]): string {
  if (routes.length === 0) return 'no routes\n';
  return table(ROUTE_HEADER, routeRows(routes)) + '(* best, = multipath)\n';
}

export function formatExplain(e: ApiExplain): string {
  const lines = [`${e.prefix}: ${e.summary}`, ''];
  const rows = e.candidates.map((c) => [c.status, c.route.peer, c.route.nextHop, c.route.asPath === '' ? '-' : c.route.asPath, c.text]);
  return lines.join('\n') + table(['Status', 'Peer', 'Next hop', 'AS path', 'Why'], rows);
}

export function formatFib(f: ApiFib): string {
  const head =
    `FIB ${f.mode}, table ${f.table}, protocol ${f.protocol}, ${f.reconciled ? 'reconciled' : 'not yet reconciled'}` +
    `${f.lastReconcile ? ` (last ${f.lastReconcile})` : ''}\n` +
    `${f.counts.installed} installed, ${f.counts.pending} pending, ${f.counts.failed} failed\n`;
  if (f.routes.length === 0) return head;
  const rows = f.routes.map((r) => [
    r.prefix,
    r.state + (r.op ? ` (${r.op})` : ''),
    r.kind === 'blackhole' ? 'blackhole' : r.nextHops.map((h) => [h.gateway && `via ${h.gateway}`, h.dev && `dev ${h.dev}`, h.onlink && 'onlink'].filter(Boolean).join(' ')).join('; '),
    r.error ?? '',
  ]);
  return `${head}\n${table(['Prefix', 'State', 'Next hops', 'Error'], rows)}${f.nextCursor ? '(more: --cursor ' + f.nextCursor + ')\n' : ''}`;
}
