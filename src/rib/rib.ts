// The RIB facade (STYLE.md §5): one synchronous core with typed inputs —
// peerUp, update, endOfRib, routeRefresh (a request, or a peer's BoRR/EoRR),
// peerDown, staleTimerFired, refreshTimerFired, announce/withdraw (local
// origination), setPolicies and soft resets — and typed outputs: per-peer
// UPDATE buffers the shell pulls, best-path changes for the FIB, notices,
// statistics. RFC 4271 §9 (decision process, Adj-RIB-In → import policy →
// Loc-RIB → export), RFC 4456 (route reflection), RFC 4724 (graceful restart,
// receiving side, and End-of-RIB after our initial table), RFC 2918/7313
// (route refresh, both directions), RFC 4486 (max prefix). Nothing here awaits
// or touches a timer: inputs change the tables at once and mark prefixes
// dirty; export and FIB output happen in process(budget), which the shell
// calls in bounded slices (DESIGN.md, Event loop discipline). The work lives
// in rib-peers.ts (lifecycle), rib-ingest.ts (UPDATEs in), rib-publish.ts
// (best-path changes out, through the update groups of update-group.ts) and
// rib-jobs.ts (big jobs, run a budget at a time).

import type { DecodedUpdate } from '../bgp/wire/update.js';
import { endOfRibFamily } from '../bgp/wire/eor.js';
import type { Family } from '../bgp/wire/types.js';
import { prefixFamily, type PrefixKey } from '../lib/prefix.js';
import { AttrStore } from './attr-store.js';
import type { DecisionContext } from './decision/context.js';
import type { CandidateExplanation } from './decision/decide.js';
import { compileExportDisabledPools, type ExportSettings } from './export.js';
import { LocRib } from './loc-rib.js';
import type { PeerIn } from './peer-in.js';
import { compileGlobalPolicies, type GlobalPolicies } from './policy/index.js';
import { Path, localPeer, type PeerInfo } from './route.js';
import type { FibChange, OriginateResult, PeerDownResult, RouteRefreshAction, RibNotice, RibPeerSettings, RibPeerStats, RibSettings, RibTotals } from './rib-types.js';
import { RibJobs, type JobHost } from './rib-jobs.js';
import { Ingest } from './rib-ingest.js';
import { PeerLifecycle } from './rib-peers.js';
import { Publisher } from './rib-publish.js';
import { DEFAULT_MAX_LAG, type ExportBlock } from './update-group.js';
import { LocalOrigination, type AnnounceResult, type OriginatedPrefix } from './originate.js';
import type { OriginateConfig } from '../config/schema.js';

export type * from './rib-types.js';
export type { PeerIn } from './peer-in.js';

const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/** originate.ts errors in the facade's terms (the API maps them to HTTP statuses). */
function originError(r: Extract<AnnounceResult, { ok: false }>): OriginateResult {
  const error = r.error === 'configured' ? 'conflict' : r.error === 'not-announced' ? 'not-found' : 'invalid';
  return { ok: false, error, message: r.message };
}

/** An update group as the API and tests see it. */
export interface UpdateGroupInfo {
  readonly key: string;
  readonly members: readonly string[];
  /** Prefixes (paths) in the group's Adj-RIB-Out. */
  readonly advertised: number;
  /** Stream items held (not yet passed by every member). */
  readonly streamItems: number;
}

export class Rib {
  readonly store = new AttrStore();
  /** Outgoing (rewritten) attribute sets, shared by every update group. */
  readonly outStore = new AttrStore();
  readonly locRib: LocRib;
  readonly local: PeerInfo;
  readonly origination: LocalOrigination;
  private notices: RibNotice[] = [];
  private readonly jobs: RibJobs;
  private exportSettings: ExportSettings;
  private readonly publisher: Publisher;
  private readonly ingest: Ingest;
  private readonly lifecycle: PeerLifecycle;

  constructor(private settings: RibSettings) {
    this.local = localPeer(settings.routerId, settings.asn);
    this.locRib = new LocRib(this.decisionContext(), this.store);
    this.exportSettings = this.makeExportSettings();
    this.origination = new LocalOrigination(this.store, this.local, { serviceCidrs: settings.serviceCidrs ?? [] });
    this.publisher = new Publisher(this.locRib, this.origination, { in: this.store, out: this.outStore }, settings.maxStreamLag ?? DEFAULT_MAX_LAG);
    const notice = (n: RibNotice): void => void this.notices.push(n);
    this.ingest = new Ingest(this.store, this.locRib, this.publisher, notice);
    const host: JobHost = {
      bestRoutes: () => this.locRib.bestRoutes(),
      removeCandidate: (state, prefix, pathId) => this.ingest.removeCandidate(state, prefix, pathId),
      importRoute: (state, prefix, path) => this.ingest.importRoute(state, prefix, path),
      isCurrent: (state) => this.lifecycle.peers.get(state.peer.address) === state,
      notice,
    };
    this.jobs = new RibJobs(host);
    const policies = settings.policies ?? compileGlobalPolicies({ ebgpRequiresPolicy: false });
    this.lifecycle = new PeerLifecycle(
      { store: this.store, jobs: this.jobs, publisher: this.publisher, notice, exportSettings: () => this.exportSettings },
      policies,
    );
  }

  private decisionContext(): DecisionContext {
    const s = this.settings;
    return {
      routerId: s.routerId,
      ...(s.isReflector ? { clusterId: s.clusterId ?? s.routerId } : {}),
      alwaysCompareMed: s.alwaysCompareMed,
      maxPaths: Math.max(1, s.ecmp),
      defaultLocalPref: s.defaultLocalPref ?? 100,
    };
  }

  private makeExportSettings(): ExportSettings {
    const s = this.settings;
    return {
      routerId: s.routerId,
      ...(s.clusterId !== undefined ? { clusterId: s.clusterId } : {}),
      isReflector: s.isReflector,
      clientToClient: s.clientToClient,
      defaultLocalPref: s.defaultLocalPref ?? 100,
      ...(s.exportDisabledPools?.length ? { exportDisabledPools: compileExportDisabledPools(s.exportDisabledPools) } : {}),
    };
  }

  /** Reload: new IP pools with export off (Calico disableBGPExport); every group is re-exported (soft-out). */
  setExportDisabledPools(cidrs: readonly string[]): void {
    this.settings = { ...this.settings, exportDisabledPools: cidrs };
    this.exportSettings = this.makeExportSettings();
    this.lifecycle.setExportSettings(this.exportSettings);
  }

  // ------------------------------------------------------------ sessions (rib-peers.ts)

  /** A session reached Established (RFC 4271 §8.2.2): it joins its update group; the initial table follows. */
  peerUp(s: RibPeerSettings): void {
    this.lifecycle.peerUp(s);
  }

  /** The session left Established; `graceful`: RFC 4724 applies (routes kept as stale). */
  peerDown(address: string, opts: { graceful: boolean }): PeerDownResult {
    return this.lifecycle.peerDown(address, opts);
  }

  /** The shell's restart timer for a peer's stale routes fired (RFC 4724 §4.2). */
  staleTimerFired(address: string): void {
    this.lifecycle.staleTimerFired(address);
  }

  /** An UPDATE from an established peer (RFC 4271 §9), with its RFC 7606 verdict. */
  update(address: string, d: DecodedUpdate): void {
    const state = this.lifecycle.peers.get(address);
    if (!state?.out || state.closing) return;
    const eor = endOfRibFamily(d.update);
    if (eor) return this.endOfRib(address, eor);
    this.ingest.update(state, d);
  }

  /** RFC 4724 §2/§4.2: End-of-RIB from the peer; stale routes go once every family has sent one. */
  endOfRib(address: string, family: Family): void {
    this.lifecycle.endOfRib(address, family);
  }

  /** RFC 2918 §4: the peer asked for our routes of `family` again (subtype 0). */
  routeRefreshRequest(address: string, family: Family): void {
    this.routeRefresh(address, family, 0);
  }

  /** A ROUTE-REFRESH from an established peer, by subtype (RFC 2918 §4, RFC 7313 §4; rib-peers.ts). */
  routeRefresh(address: string, family: Family, subtype: number): RouteRefreshAction {
    return this.lifecycle.routeRefresh(address, family, subtype);
  }

  /** RFC 7313 §4: no EoRR within the shell's refresh timer after a BoRR: purge what is still stale anyway. */
  refreshTimerFired(address: string, family: Family): void {
    this.lifecycle.refreshTimerFired(address, family);
  }

  /** Soft reset: 'in' re-runs import policy over the kept Adj-RIB-In, 'out' re-exports to the peer's group. */
  softReset(address: string, direction: 'in' | 'out'): boolean {
    return this.lifecycle.softReset(address, direction);
  }

  /** New global and per-peer policies (reload): the peers the caller names as changed are reconfigured (rib-peers.ts). */
  setPolicies(
    policies: GlobalPolicies,
    changedFor: (address: string) => Pick<RibPeerSettings, 'import' | 'export'> | undefined,
    global?: { readonly import: boolean; readonly export: boolean },
  ): void {
    this.lifecycle.setPolicies(policies, changedFor, global);
  }

  // ------------------------------------------------------------ origination (originate.ts)

  /** The API originates `prefix` (text) with communities; config entries are not its to change. */
  announce(prefix: string, communities: readonly string[] = []): OriginateResult {
    const r = this.origination.announce(prefix, communities);
    if (!r.ok) return originError(r);
    if (r.change !== 'unchanged') this.originate(r.entry);
    return { ok: true };
  }

  /** The API stops originating a prefix it announced. */
  withdraw(prefix: string): OriginateResult {
    const r = this.origination.withdraw(prefix);
    if (!r.ok) return originError(r);
    if (this.locRib.withdraw(r.entry.prefix, this.local) !== 'none') this.publisher.mark(r.entry.prefix);
    return { ok: true };
  }

  /** Start and reload: the config's `originate` list (API entries stay unless the config takes them over). */
  setConfigOrigins(originate: readonly OriginateConfig[]): void {
    const changes = this.origination.reconcileConfig(originate);
    for (const e of changes.announce) this.originate(e);
    for (const e of changes.withdraw) if (this.locRib.withdraw(e.prefix, this.local) !== 'none') this.publisher.mark(e.prefix);
  }

  private originate(e: OriginatedPrefix): void {
    if (this.locRib.update(e.prefix, e.path) !== 'none') this.publisher.mark(e.prefix);
  }

  originated(): OriginatedPrefix[] {
    return this.origination.list();
  }

  // ------------------------------------------------------------ the work loop

  /** True while dirty prefixes or jobs remain. */
  hasWork(): boolean {
    return this.publisher.hasWork() || this.jobs.size > 0;
  }

  /**
   * Runs up to about `budget` units of work (a dirty prefix costs one per
   * update group plus one; a job step one per route) and returns the units
   * spent. Dirty prefixes go first so changes are not held behind a large dump.
   */
  process(budget: number): number {
    let work = 0;
    while (work < budget) {
      if (this.publisher.hasWork()) {
        work += this.publisher.flush(budget - work);
        continue;
      }
      const spent = this.jobs.run(budget - work);
      if (spent === 0) break;
      work += spent;
    }
    return work;
  }

  /** Whether publish records FIB changes (default on); off when the FIB is disabled. */
  setFibChanges(record: boolean): void {
    this.publisher.setFibChanges(record);
  }

  /** Best-path changes since the last call, oldest first (one entry per prefix per flush). */
  takeFibChanges(): FibChange[] {
    return this.publisher.takeFibChanges();
  }

  takeNotices(): RibNotice[] {
    const out = this.notices;
    this.notices = [];
    return out;
  }

  /**
   * Next-hop tracking (RFC 4271 §9.1.2, §9.1.2.2 e): the shell's lookups for
   * our own addresses, resolvability and IGP cost join the decision context.
   * Prefixes already decided are re-decided only through redecide().
   */
  setNextHopLookups(lookups: Pick<DecisionContext, 'ownAddress' | 'nextHopReachable' | 'igpCost' | 'nextHopFaultSeen'>): void {
    this.locRib.ctx = { ...this.decisionContext(), ...lookups };
  }

  /** A next hop of `prefix`'s candidates changed resolution: decide it again, publish it if its best changed. */
  redecide(prefix: PrefixKey): void {
    this.publisher.touched(prefix, this.locRib.redecide(prefix));
  }

  /** Addresses of established peers with UPDATEs ready (or ready once their group encodes them). */
  pendingPeers(): string[] {
    const out: string[] = [];
    for (const s of this.lifecycle.peers.values()) if (s.out?.hasPending()) out.push(s.peer.address);
    return out;
  }

  /** Whether a peer has messages ready, or owed once its group encodes them. */
  hasPendingUpdates(address: string): boolean {
    return this.lifecycle.peers.get(address)?.out?.hasPending() ?? false;
  }

  /**
   * Up to `max` ready messages for a peer (UPDATEs, and RFC 7313 BoRR/EoRR);
   * what is returned counts as sent. Buffers of the group's stream are shared
   * by every member: the caller must not modify them.
   */
  takeUpdates(address: string, max: number): Buffer[] {
    return this.lifecycle.peers.get(address)?.out?.take(max) ?? [];
  }

  // ------------------------------------------------------------ reading

  peerState(address: string): PeerIn | undefined {
    return this.lifecycle.peers.get(address);
  }

  peerStats(address: string): RibPeerStats | undefined {
    const s = this.lifecycle.peers.get(address);
    if (!s) return undefined;
    const adv = s.out?.advertisedByFamily() ?? { 'ipv4-unicast': 0, 'ipv6-unicast': 0 };
    const fam = (f: Family, i: 0 | 1) => ({ received: s.adjIn.size(f), accepted: s.adjIn.size(f) - s.rejectedCount[i], advertised: adv[f] });
    const byFamily = { 'ipv4-unicast': fam('ipv4-unicast', 0), 'ipv6-unicast': fam('ipv6-unicast', 1) };
    return { address, up: s.out !== undefined, stale: s.adjIn.staleCount() + s.adjIn.refreshStaleCount(), byFamily };
  }

  /** The update groups and their members (update-group.ts). */
  updateGroups(): UpdateGroupInfo[] {
    const out: UpdateGroupInfo[] = [];
    for (const g of this.publisher.groups.values())
      if (!g.closed) out.push({ key: g.key, members: [...g.members].map((m) => m.address), advertised: g.out.advertised.size(), streamItems: g.items.length });
    return out;
  }

  /** Why the best path of `prefix` is not advertised to a peer (undefined: it is, or the peer is not up). */
  exportReason(address: string, prefix: PrefixKey): ExportBlock | undefined {
    const m = this.lifecycle.peers.get(address)?.out;
    return m ? m.group.exportReason(prefix, this.locRib.best(prefix), m) : undefined;
  }

  totals(): RibTotals {
    const paths = { 'ipv4-unicast': 0, 'ipv6-unicast': 0 };
    for (const s of this.lifecycle.peers.values()) for (const f of FAMILIES) paths[f] += s.adjIn.size(f);
    for (const o of this.origination.list()) paths[prefixFamily(o.prefix)]++;
    return {
      routes: { 'ipv4-unicast': this.locRib.prefixCount('ipv4-unicast'), 'ipv6-unicast': this.locRib.prefixCount('ipv6-unicast') },
      paths,
      bestPathChanges: this.publisher.bestPathChanges,
      attributeSets: this.store.size(),
      outAttributeSets: this.outStore.size(),
      dirty: this.publisher.backlog(),
      jobs: this.jobs.size,
    };
  }

  /** RFC 4271 §9.1.2 explained per candidate (the API's explain endpoint). */
  explain(prefix: PrefixKey): CandidateExplanation[] {
    return this.locRib.explain(prefix);
  }

  /** Whether a candidate's route is held as stale (RFC 4724). */
  isStale(path: Path, prefix: PrefixKey): boolean {
    const s = this.lifecycle.peers.get(path.peer.address);
    return s !== undefined && s.peer === path.peer && s.adjIn.isStale(prefix, path.pathId);
  }
}
