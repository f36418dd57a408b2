// Applies a ReloadPlan (src/config/reload-plan.ts) to each running part. The
// plan already holds every verdict: which peers are added, removed, reset or
// soft-refreshed (config/diff.ts), whether the listen sockets, the API, the
// log level, the pools or the policies changed; nothing here compares configs
// again. Blocked plans never get here (the daemon rejects them whole).
// Order: log level first (so what follows logs at the new level), then the
// listener (new sockets and keys before sessions that need them), sessions
// (Ceases for removed and reset peers, RFC 4486 §4), the RIB (origination,
// pools with export off, policies: soft-in over the kept Adj-RIB-In and
// re-export), the FIB (route forms of changed pools), and the API last.

import type { BgpConfig } from '../config/schema.js';
import type { ReloadPlan } from '../config/reload-plan.js';
import type { Logger } from '../lib/log.js';
import type { Neighbors } from '../bgp/session/neighbors.js';
import type { FibService } from '../fib/fib-service.js';
import type { ReloadPolicyChanges, RibRunner } from './rib-runner.js';
import type { PeerConfig } from './peer-settings.js';

export interface ReloadTargets {
  readonly logger: Logger;
  readonly neighbors: Neighbors;
  readonly runner: RibRunner;
  readonly fib: FibService;
  /** The log level changed: whatever depends on it (best-path debug lines) follows. */
  logLevelChanged(): void;
  /** Close the listen sockets and bind the new ones. */
  rebindListener(next: BgpConfig): Promise<void>;
  /** TCP MD5 keys and GTSM per neighbor / listen range on the bound sockets. */
  updateListenerSecurity(next: BgpConfig): void;
  /** Restart the HTTP API on its new address (in the background). */
  restartApi(next: BgpConfig): void;
}

export async function applyReloadPlan(next: BgpConfig, plan: ReloadPlan, t: ReloadTargets): Promise<void> {
  const d = plan.diff;
  if (d.logLevelChanged && t.logger.level !== next.log.level) {
    t.logger.level = next.log.level;
    t.logLevelChanged();
  }
  if (d.restartRequired.includes('listen')) await t.rebindListener(next);
  t.updateListenerSecurity(next); // keys added, changed, removed
  await t.neighbors.reload(next, d);
  t.runner.reload(next, { pools: d.exportDisabledPoolsChanged, policies: policyChanges(d) });
  if (d.fibChanged || d.ipPools.added.length + d.ipPools.removed.length + d.ipPools.changed.length > 0) t.fib.reload(next);
  if (d.apiChanged) t.restartApi(next);
}

/** The plan's policy verdicts: each soft-changed entry whose own import or export rules changed, and the global side. */
export function policyChanges(d: ReloadPlan['diff']): ReloadPolicyChanges {
  const peers = new Map<PeerConfig, { import: boolean; export: boolean }>();
  for (const c of [...d.neighbors, ...d.listenRanges]) {
    if (c.kind !== 'soft') continue;
    const verdict = { import: c.reasons.includes('import'), export: c.reasons.includes('export') };
    if (verdict.import || verdict.export) peers.set(c.next, verdict);
  }
  return { peers, global: d.globalPolicy };
}
