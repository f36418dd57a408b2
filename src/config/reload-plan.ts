// What a reload (SIGHUP, POST /api/v1/config/reload) will do, decided before
// anything is touched (DESIGN.md, Config). Pure: two validated configs in, a
// plan out. The plan has three parts:
// - blockers: changes the running daemon cannot take live. The RIB's identity
//   and decision settings (router ID, AS number, cluster ID, reflector role,
//   client-to-client reflection, always-compare-MED, ECMP width, service CIDRs)
//   and the kernel writer (fib.enabled / table / protocol) are fixed at start,
//   so such a reload is rejected as a whole with errors naming the path, and
//   the running config stays. Restart the daemon to apply them.
// - changes: one line per effect, for the log and the API's reload answer:
//   neighbors added / removed (Cease / Peer De-configured, RFC 4486 §4) /
//   reset (Cease / Other Configuration Change) / soft-refreshed in (import
//   policy re-run over the kept Adj-RIB-In) or out (re-export, RFC 4271
//   §9.2), originate announce/withdraw, listen rebind, API restart, log level.
// - deferred: per-neighbor settings the RIB reads when the session comes up
//   (nextHopMode, allowAsIn, maxPrefix): stored now, effective at the next
//   session reset (POST /api/v1/peers/:address/reset).

import { diffConfig, type ConfigDiff, type PeerChange } from './diff.js';
import type { ConfigError } from './load.js';
import type { BgpConfig, ListenRangeConfig, NeighborConfig } from './schema.js';

export interface ReloadPlan {
  readonly diff: ConfigDiff;
  readonly blockers: readonly ConfigError[];
  readonly changes: readonly string[];
  readonly deferred: readonly string[];
}

/** Per-peer keys the RIB takes at session up only. */
const AT_SESSION_UP = ['nextHopMode', 'allowAsIn', 'maxPrefix'] as const;

const isReflector = (c: BgpConfig) =>
  c.clusterId !== undefined || c.neighbors.some((n) => n.routeReflectorClient) || c.listenRanges.some((r) => r.routeReflectorClient);

export function planReload(old: BgpConfig, next: BgpConfig): ReloadPlan {
  const diff = diffConfig(old, next);
  const blockers: ConfigError[] = [];
  const block = (path: string, what: string) =>
    blockers.push({ path, message: `${what} cannot change while running; restart the daemon to apply it (the running config is unchanged)` });
  if (old.routerId !== next.routerId) block('routerId', `router ID ${old.routerId} -> ${next.routerId}`);
  if (old.asn !== next.asn) block('asn', `AS number ${old.asn} -> ${next.asn}`);
  if (old.clusterId !== next.clusterId) block('clusterId', 'the cluster ID (RFC 4456 §7)');
  else if (isReflector(old) !== isReflector(next)) block('neighbors', `the route reflector role (${isReflector(next) ? 'first' : 'last'} routeReflectorClient)`);
  if (old.clientToClientReflection !== next.clientToClientReflection) block('clientToClientReflection', 'client-to-client reflection');
  if (old.alwaysCompareMed !== next.alwaysCompareMed) block('alwaysCompareMed', 'always-compare-MED');
  if (JSON.stringify(old.serviceCidrs) !== JSON.stringify(next.serviceCidrs)) block('serviceCidrs', 'the service CIDRs');
  for (const k of ['enabled', 'dryRun', 'table', 'protocol', 'ecmp'] as const)
    if (old.fib[k] !== next.fib[k]) block(`fib.${k}`, `fib.${k} (${String(old.fib[k])} -> ${String(next.fib[k])})`);

  const changes: string[] = [];
  const deferred: string[] = [];
  const peers = (what: string, list: readonly PeerChange<NeighborConfig | ListenRangeConfig>[]) => {
    for (const c of list) {
      const name = `${what} ${c.key}`;
      if (c.kind === 'added') changes.push(`${name}: added`);
      else if (c.kind === 'removed') changes.push(`${name}: removed (Cease / Peer De-configured)`);
      else if (c.kind === 'reset' && 'shutdown' in c.next && c.next.shutdown !== (c.old as NeighborConfig).shutdown)
        changes.push(`${name}: ${c.next.shutdown ? 'shut down (Cease / Administrative Shutdown)' : 'enabled (session started)'}`);
      else if (c.kind === 'reset') changes.push(`${name}: session reset (Cease / Other Configuration Change: ${c.reasons.join(', ')})`);
      else if (c.kind === 'soft') {
        const how = [c.softIn ? 'soft-in' : '', c.softOut ? 'soft-out' : ''].filter(Boolean).join(' + ');
        changes.push(`${name}: session kept${how ? `, ${how}` : ''} (${c.reasons.join(', ')})`);
        const later = AT_SESSION_UP.filter((k) => c.reasons.includes(k));
        if (later.length > 0) deferred.push(`${name}: ${later.join(', ')} take effect at the next session reset`);
      }
    }
  };
  peers('neighbor', diff.neighbors);
  peers('listen range', diff.listenRanges);
  const o = diff.originate;
  for (const x of o.added) changes.push(`originate ${x.prefix}: announced`);
  for (const x of o.changed) changes.push(`originate ${x.prefix}: re-announced with new attributes`);
  for (const x of o.removed) changes.push(`originate ${x.prefix}: withdrawn`);
  const p = diff.ipPools;
  if (p.added.length + p.removed.length + p.changed.length > 0 || old.fib.defaultMode !== next.fib.defaultMode)
    changes.push('ipPools: kernel route forms re-resolved');
  if (diff.restartRequired.includes('listen')) changes.push(`listen: rebound to ${next.listen.enabled ? `${next.listen.addresses.join(', ')} port ${next.listen.port}` : 'nothing (disabled)'}`);
  if (diff.apiChanged) changes.push(`api: restarted on ${next.api.listen}`);
  if (old.log.level !== next.log.level) changes.push(`log.level: ${old.log.level} -> ${next.log.level}`);
  return { diff, blockers, changes, deferred };
}
