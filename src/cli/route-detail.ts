// `bgp-ts routes --detail` and the attribute block under `bgp-ts explain`:
// every attribute of a path on its own line, in the usual text forms
// (communities `64512:100`, large `64512:1:2`, extended `rt 64512:100` /
// `ro 198.19.0.1:7` per RFC 4360, unknown attributes as code, flags, length
// and hex), and why a path is ineligible. For eyes; scripts read --json.

import type { ApiExplain, ApiRoute } from '../api/schemas.js';

/** The lines describing one path, indented by two spaces. */
export function routeDetailLines(r: ApiRoute): string[] {
  const lines = [
    `next hop ${r.nextHop}, from ${r.peer}${r.peerAsn !== undefined ? ` (AS ${r.peerAsn})` : ''}${r.pathId ? `, path ID ${r.pathId}` : ''}`,
    `AS path ${r.asPath === '' ? '(empty)' : r.asPath}, origin ${r.origin}` +
      `${r.localPref !== undefined ? `, local-pref ${r.localPref}` : ''}${r.med !== undefined ? `, MED ${r.med}` : ''}`,
  ];
  if (r.communities?.length) lines.push(`communities ${r.communities.join(' ')}`);
  if (r.largeCommunities?.length) lines.push(`large communities ${r.largeCommunities.join(' ')}`);
  if (r.extCommunities?.length) lines.push(`extended communities ${r.extCommunities.join(', ')}`);
  if (r.originatorId) lines.push(`originator ID ${r.originatorId}`);
  if (r.clusterList?.length) lines.push(`cluster list ${r.clusterList.join(' ')}`);
  for (const u of r.unknownAttributes ?? []) lines.push(`unknown attribute ${u.text}`);
  if (r.ineligible) lines.push(`not eligible: ${r.ineligible}`);
  return lines.map((l) => `  ${l}`);
}

/** `routes --detail`: one block per path, the status mark before the prefix as in the table. */
export function formatRouteDetail(routes: readonly ApiRoute[]): string {
  if (routes.length === 0) return 'no routes\n';
  return routes.map((r) => [`${r.best ? '*' : r.multipath ? '=' : ' '} ${r.prefix} via ${r.peer}`, ...routeDetailLines(r)].join('\n') + '\n').join('');
}

/** Under the explain table: each candidate's attributes. */
export function formatExplainAttributes(e: ApiExplain): string {
  if (e.candidates.length === 0) return '';
  return '\n' + e.candidates.map((c) => [`${c.status} via ${c.route.peer}:`, ...routeDetailLines(c.route)].join('\n') + '\n').join('');
}
