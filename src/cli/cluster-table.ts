// `bgp-ts cluster`: GET /api/v1/cluster as text for operators: where the
// config comes from (datastore, endpoint, connected or unreachable since),
// the revision and last sync, and what the datastore supplied: this node,
// its blocks, pools, mesh peers, BGPPeers matched and why, rejected resources.

import type { ApiCluster } from '../api/cluster-schema.js';

interface Supplied {
  node?: { name: string; found: boolean; ipv4?: string; ipv6?: string; subnet?: string; asn: number; clusterId?: string };
  blocks?: { cidr: string; state: string; announced: boolean }[];
  pools?: { name: string; cidr: string; mode: string; program: boolean; disableExport: boolean }[];
  mesh?: { enabled: boolean; reason: string; peers: { node: string; address: string; passive: boolean }[] };
  bgpPeers?: { name: string; matched: boolean; why: string; addresses: string[] }[];
  serviceCidrs?: string[];
  rejected?: { key: string; error: string }[];
}

export function formatCluster(c: ApiCluster): string {
  const s = (c.supplied ?? {}) as Supplied;
  const lines = [
    `datastore   ${c.type} ${c.endpoints.join(', ')} (node ${c.nodeName})`,
    `state       ${c.connected ? 'connected' : `UNREACHABLE since ${c.unreachableSince ?? '?'}${c.lastError ? `: ${c.lastError}` : ''} (serving the last known state)`}`,
    `revision    ${c.revision ?? '-'}, last sync ${c.lastSync ?? 'never'}${c.lastResync ? ` (${c.lastResync})` : ''}, ${c.resyncs} list(s), ${c.keys} keys`,
  ];
  if (c.applied) lines.push(`applied     ${c.applied.ok ? `ok at ${c.applied.at}: ${c.applied.changes.length} change(s)` : `REJECTED at ${c.applied.at}: ${(c.applied.errors ?? []).join('; ')}`}`);
  if (s.node) {
    const n = s.node;
    lines.push(n.found ? `node        ${n.name} ${[n.ipv4, n.ipv6].filter(Boolean).join(' ')} subnet ${n.subnet ?? '-'} AS ${n.asn}${n.clusterId ? ` reflector ${n.clusterId}` : ''}` : `node        ${n.name} NOT IN THE DATASTORE`);
  }
  for (const b of s.blocks ?? []) lines.push(`block       ${b.cidr.padEnd(20)} ${b.state}${b.announced ? ', announced' : ''}`);
  for (const p of s.pools ?? []) lines.push(`pool        ${p.cidr.padEnd(20)} ${p.mode}${p.program ? '' : ', not programmed'}${p.disableExport ? ', not exported' : ''} (${p.name})`);
  if (s.mesh) lines.push(`mesh        ${s.mesh.enabled ? 'on' : 'off'}: ${s.mesh.reason}`);
  for (const m of s.mesh?.peers ?? []) lines.push(`  mesh peer ${m.address.padEnd(18)} ${m.node}${m.passive ? ' (passive: the peer dials)' : ''}`);
  for (const p of s.bgpPeers ?? []) lines.push(`bgppeer     ${p.name}: ${p.matched ? `${p.addresses.join(', ') || 'no target'}` : 'not for this node'} (${p.why})`);
  for (const r of s.rejected ?? []) lines.push(`REJECTED    ${r.key}: ${r.error}`);
  return `${lines.join('\n')}\n`;
}
