// The RIB facade (STYLE.md §5): one synchronous core with typed inputs —
// peerUp, update, endOfRib, routeRefresh (a request, or a peer's BoRR/EoRR),
// peerDown, staleTimerFired, refreshTimerFired, announce/withdraw (local
// origination), setPolicies and soft resets — and typed outputs: per-peer Adj-RIB-Outs the shell pulls UPDATEs from,
// best-path changes for the FIB, notices, statistics. RFC 4271 §9 (decision
// process, Adj-RIB-In → import policy → Loc-RIB → export), RFC 4456 (route
// reflection), RFC 4724 (graceful restart, receiving side, and End-of-RIB
// after our initial table), RFC 2918/7313 (route refresh, both directions),
// RFC 4486 (max prefix). Nothing here awaits or touches a timer: inputs change the tables
// at once and mark prefixes dirty; export and FIB output happen in
// process(budget), which the shell calls in bounded slices (DESIGN.md, Event
// loop discipline). Big jobs (a peer's routes to drain, an initial table to
// dump, a soft reconfiguration) are queued and run a budget at a time.

import type { DecodedUpdate } from '../bgp/wire/update.js';
import { endOfRibFamily } from '../bgp/wire/eor.js';
import type { Family, Nlri } from '../bgp/wire/types.js';
import { prefixFamily, type PrefixKey } from '../lib/prefix.js';
import { AdjRibIn } from './adj-rib-in.js';
import { AttrStore, type AttrSet } from './attr-store.js';
import type { DecisionContext } from './decision/context.js';
import type { CandidateExplanation } from './decision/decide.js';
import { compileExportDisabledPools, type ExportSettings } from './export.js';
import { LocRib, type LocRibChange } from './loc-rib.js';
import { PrefixTable } from './prefix-table.js';
import { PeerOut } from './peer-out.js';
import { compileGlobalPolicies, compilePeerPolicies, evaluate, type GlobalPolicies } from './policy/index.js';
import { Path, localPeer, type PeerInfo } from './route.js';
import type { FibChange, OriginateResult, PeerDownResult, RouteRefreshAction, RibNotice, RibPeerSettings, RibPeerStats, RibSettings, RibTotals } from './rib-types.js';
import { RibJobs, type Job } from './rib-jobs.js';
import type { PeerIn } from './peer-in.js';
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

function rejectKey(prefix: PrefixKey, pathId: number): PrefixKey {
  return pathId === 0 ? prefix : `${prefix}#${pathId}`;
}

/** Same peer as far as stored paths are concerned (RFC 4724: a restarted peer keeps its stale routes). */
function samePeer(a: PeerInfo, b: PeerInfo): boolean {
  return a.asn === b.asn && a.localAsn === b.localAsn && a.bgpId === b.bgpId && a.rrClient === b.rrClient && a.allowOwnAs === b.allowOwnAs;
}

export class Rib {
  readonly store = new AttrStore();
  /** Outgoing (rewritten) attribute sets, shared by every Adj-RIB-Out. */
  readonly outStore = new AttrStore();
  readonly locRib: LocRib;
  readonly local: PeerInfo;
  private readonly peers = new Map<string, PeerIn>();
  private readonly outs: PeerOut[] = [];
  readonly origination: LocalOrigination;
  /**
   * Prefixes whose best path may have changed since they were last published
   * (a PrefixTable: a plain Set of a million boxed keys rehashes in one long
   * step and hashes slowly).
   */
  private dirty = new PrefixTable<true>();
  /**
   * An earlier `dirty`, being published through one live iterator: restarting
   * the iteration of a table whose first entries were deleted walks over their
   * holes every time, which made publishing a million prefixes quadratic.
   */
  private publishing: Iterator<PrefixKey> | undefined;
  private publishingLeft = 0;
  private fib: FibChange[] = [];
  /** False when nobody consumes FIB changes (fib.enabled: false): publish() builds none. */
  private recordFib = true;
  private notices: RibNotice[] = [];
  private readonly jobs: RibJobs;
  private policies: GlobalPolicies;
  private exportSettings: ExportSettings;
  private bestPathChanges = 0;
  /** Sessions with RFC 7911 ADD-PATH send: they need every candidate change, not only best-path changes. */
  private addPathSenders = 0;

  constructor(private settings: RibSettings) {
    this.local = localPeer(settings.routerId, settings.asn);
    this.locRib = new LocRib(this.decisionContext(), this.store);
    this.policies = settings.policies ?? compileGlobalPolicies({ ebgpRequiresPolicy: false });
    this.exportSettings = this.makeExportSettings();
    this.jobs = new RibJobs(this);
    this.origination = new LocalOrigination(this.store, this.local, { serviceCidrs: settings.serviceCidrs ?? [] });
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

  /** Reload: new IP pools with export off (Calico disableBGPExport); every peer is re-exported (soft-out). */
  setExportDisabledPools(cidrs: readonly string[]): void {
    this.settings = { ...this.settings, exportDisabledPools: cidrs };
    this.exportSettings = this.makeExportSettings();
    for (const out of this.outs) {
      out.setExportSettings(this.exportSettings);
      this.jobs.add({ kind: 'dump', out, initial: false });
    }
  }

  /** A candidate of `prefix` changed: publish it when its best or multipath set did, or always for ADD-PATH senders (RFC 7911). */
  private touched(prefix: PrefixKey, change: LocRibChange): void {
    if (change !== 'none' || this.addPathSenders > 0) this.dirty.set(prefix, true);
  }

  // ------------------------------------------------------------ sessions

  /** A session reached Established (RFC 4271 §8.2.2): build its Adj-RIB-Out and queue the initial table. */
  peerUp(s: RibPeerSettings): void {
    const address = s.peer.address;
    const old = this.peers.get(address);
    if (old?.out) this.peerDown(address, { graceful: false });
    const kept = this.peers.get(address);
    let state: PeerIn;
    const policies = compilePeerPolicies(this.policies, s, address);
    if (kept && samePeer(kept.peer, s.peer)) {
      // RFC 4724 §4.2: the peer is back; its stale routes stay until End-of-RIB or the timer.
      state = kept;
      state.settings = s;
      state.importPolicy = policies.import;
      state.exportPolicy = policies.export;
      // RFC 4724 §4.2: no graceful restart on the new session → stale routes go now.
      if (!s.gracefulRestart && state.adjIn.staleCount() > 0) this.jobs.add({ kind: 'sweep', state });
    } else {
      if (kept) this.jobs.add({ kind: 'drain', state: kept });
      state = {
        peer: s.peer,
        adjIn: new AdjRibIn(s.peer, this.store),
        settings: s,
        importPolicy: policies.import,
        exportPolicy: policies.export,
        out: undefined,
        closing: false,
        warned: new Set(),
        eorReceived: new Set(),
        refreshing: new Set(),
        rejected: new Set(),
        rejectedCount: [0, 0],
      };
      this.peers.set(address, state);
    }
    state.closing = false;
    state.warned.clear();
    state.eorReceived.clear();
    state.refreshing.clear();
    const out = PeerOut.forSession(s, state.exportPolicy, this.exportSettings, this.store, this.outStore, this.locRib);
    if (out.sendsAddPath) this.addPathSenders++;
    state.out = out;
    this.outs.push(out);
    this.jobs.add({ kind: 'dump', out, initial: true });
  }

  /**
   * The session left Established. `graceful`: the shell found RFC 4724 applies
   * (GR negotiated, no NOTIFICATION or per RFC 8538): routes are kept, marked
   * stale, until staleTimerFired or the peer's End-of-RIB. Else they are withdrawn.
   */
  peerDown(address: string, opts: { graceful: boolean }): PeerDownResult {
    const state = this.peers.get(address);
    if (!state) return { stale: 0 };
    if (state.out) {
      state.out.close();
      this.outs.splice(this.outs.indexOf(state.out), 1);
      if (state.out.sendsAddPath) this.addPathSenders--;
      state.out = undefined;
    }
    // RFC 7313 §4 needs the EoRR on this session: a refresh in progress ends with
    // it (its stale routes become restart-stale, or go with the rest).
    state.refreshing.clear();
    const gr = state.settings.gracefulRestart;
    if (opts.graceful && gr && !state.closing) {
      state.adjIn.markAllStale(); // RFC 4724 §4.2
      return { stale: state.adjIn.staleCount(), restartTime: gr.restartTime };
    }
    this.peers.delete(address);
    this.jobs.add({ kind: 'drain', state });
    return { stale: 0 };
  }

  /** The shell's restart timer for a peer's stale routes fired (RFC 4724 §4.2). */
  staleTimerFired(address: string): void {
    const state = this.peers.get(address);
    if (!state || state.adjIn.staleCount() === 0) return;
    if (state.out) this.jobs.add({ kind: 'sweep', state });
    else {
      this.peers.delete(address);
      this.jobs.add({ kind: 'drain', state, stale: true });
    }
  }

  /** An UPDATE from an established peer (RFC 4271 §9), with its RFC 7606 verdict. */
  update(address: string, d: DecodedUpdate): void {
    const state = this.peers.get(address);
    if (!state?.out || state.closing) return;
    const u = d.update;
    const eor = endOfRibFamily(u);
    if (eor) return this.endOfRib(address, eor);
    const a = u.attributes;
    // RFC 4760 §6: NLRI of a family the session did not negotiate is ignored
    // (as BIRD and FRR do), never learned.
    const families = state.settings.families;
    const nlri = families.includes(u.nlri.family) ? u.nlri : undefined;
    const mpReach = a.mpReach && families.includes(a.mpReach.nlri.family) ? a.mpReach.nlri : undefined;
    if (families.includes(u.withdrawn.family)) this.withdrawNlri(state, u.withdrawn);
    if (a.mpUnreach && families.includes(a.mpUnreach.nlri.family)) this.withdrawNlri(state, a.mpUnreach.nlri);
    if (d.treatAsWithdraw) {
      // RFC 7606 §2: every NLRI of the UPDATE is handled as withdrawn.
      if (nlri) this.withdrawNlri(state, nlri);
      if (mpReach) this.withdrawNlri(state, mpReach);
      return;
    }
    const announced = (nlri?.prefixes.length ?? 0) > 0 || (mpReach?.prefixes.length ?? 0) > 0;
    if (!announced) return;
    // RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored.
    const set = this.store.intern(a, { external: !state.peer.ibgp });
    if (nlri) this.announceNlri(state, nlri, set);
    if (mpReach) this.announceNlri(state, mpReach, set);
    this.store.release(set);
    this.checkMaxPrefix(state);
  }

  private withdrawNlri(state: PeerIn, nlri: Nlri): void {
    if (nlri.prefixes.length === 0) return;
    const gone = state.adjIn.withdraw(nlri.prefixes, nlri.pathIds);
    for (let i = 0; i < gone.prefixes.length; i++) this.removeCandidate(state, gone.prefixes[i]!, gone.paths[i]!.pathId);
  }

  private announceNlri(state: PeerIn, nlri: Nlri, set: AttrSet): void {
    if (nlri.prefixes.length === 0) return;
    const changed = state.adjIn.update(nlri.prefixes, set, nlri.pathIds);
    for (let i = 0; i < changed.prefixes.length; i++) this.importRoute(state, changed.prefixes[i]!, changed.paths[i]!);
  }

  /** Import policy, then the Loc-RIB (RFC 4271 §9.1.1). Also used by soft-in. */
  importRoute(state: PeerIn, prefix: PrefixKey, path: Path): void {
    const policy = state.importPolicy;
    let candidate = path;
    let owned = false;
    if (!policy.empty || policy.ebgpRequiresPolicy) {
      const v = evaluate(policy, { prefix, attrs: path.attrs, peer: state.peer }, this.store);
      if (!v.accept) {
        const key = rejectKey(prefix, path.pathId);
        if (!state.rejected.has(key)) {
          state.rejected.add(key);
          state.rejectedCount[typeof prefix === 'number' ? 0 : 1]++;
        }
        this.touched(prefix, this.locRib.withdraw(prefix, state.peer, path.pathId));
        return;
      }
      if (v.attrs !== path.attrs) {
        candidate = new Path(state.peer, v.attrs, path.pathId);
        owned = true;
      }
    }
    this.unreject(state, prefix, path.pathId);
    this.touched(prefix, this.locRib.update(prefix, candidate));
    if (owned) this.store.release(candidate.attrs); // the Loc-RIB took its own reference
  }

  private unreject(state: PeerIn, prefix: PrefixKey, pathId: number): void {
    if (state.rejected.size > 0 && state.rejected.delete(rejectKey(prefix, pathId))) state.rejectedCount[typeof prefix === 'number' ? 0 : 1]--;
  }

  /** A path left the Adj-RIB-In: take it out of the Loc-RIB too. */
  removeCandidate(state: PeerIn, prefix: PrefixKey, pathId: number): void {
    this.unreject(state, prefix, pathId);
    this.touched(prefix, this.locRib.withdraw(prefix, state.peer, pathId));
  }

  /** RFC 4486: compare what the peer sent with its limit, per family. */
  private checkMaxPrefix(state: PeerIn): void {
    const mp = state.settings.maxPrefix;
    if (!mp) return;
    for (const family of state.settings.families) {
      const count = state.adjIn.size(family);
      if (count <= mp.limit || state.warned.has(family)) continue;
      state.warned.add(family);
      this.notices.push({ type: 'max-prefix', address: state.peer.address, family, limit: mp.limit, count, action: mp.action });
      if (mp.action === 'close') {
        state.closing = true;
        return;
      }
    }
  }

  /** RFC 4724 §2/§4.2: End-of-RIB from the peer; stale routes go once every family has sent one. */
  endOfRib(address: string, family: Family): void {
    const state = this.peers.get(address);
    if (!state?.out) return;
    state.eorReceived.add(family);
    this.notices.push({ type: 'end-of-rib-received', address, family });
    if (state.adjIn.staleCount() > 0 && state.settings.families.every((f) => state.eorReceived.has(f))) this.jobs.add({ kind: 'sweep', state });
  }

  /** RFC 2918 §4: the peer asked for our routes of `family` again (subtype 0). */
  routeRefreshRequest(address: string, family: Family): void {
    this.routeRefresh(address, family, 0);
  }

  /**
   * A ROUTE-REFRESH from an established peer, by subtype. 0: RFC 2918 §4, our
   * routes of `family` go again (bracketed by BoRR/EoRR when enhanced route
   * refresh was negotiated, peer-out.ts). 1 (BoRR) and 2 (EoRR): RFC 7313 §4,
   * the peer is re-sending its routes of `family`: at BoRR they all become
   * stale, a re-advertisement makes one fresh again, at EoRR the rest is
   * purged (withdrawn from the Loc-RIB, so exported as withdraws). Restart-stale
   * routes (RFC 4724) keep their own mark and are left to End-of-RIB or the
   * restart timer: neither sweep takes the other's routes (adj-rib-in.ts). A
   * BoRR can meet restart-stale routes of the family only after the family's
   * End-of-RIB, while another family's is still awaited.
   */
  routeRefresh(address: string, family: Family, subtype: number): RouteRefreshAction {
    const state = this.peers.get(address);
    if (!state?.out || state.closing) return 'ignored';
    if (subtype === 0) {
      state.out.refreshRequested(family);
      return 'resend';
    }
    // RFC 7313 §4: BoRR/EoRR mean something only with the capability negotiated, for a negotiated family.
    if (!state.settings.enhancedRouteRefresh || !state.settings.families.includes(family)) return 'ignored';
    if (subtype === 1) {
      // RFC 7313 §4: from a graceful-restart peer, a BoRR before its End-of-RIB for the family is ignored.
      if (state.settings.gracefulRestart && !state.eorReceived.has(family)) return 'ignored';
      state.adjIn.markFamilyStale(family);
      state.refreshing.add(family);
      return 'begin';
    }
    // An EoRR with no BoRR before it has nothing to purge; RFC 7313 §5: unknown subtypes are ignored.
    if (subtype !== 2 || !state.refreshing.has(family)) return 'ignored';
    this.endRefresh(state, family, 'eorr');
    return 'end';
  }

  /** RFC 7313 §4: no EoRR within the shell's refresh timer after a BoRR: purge what is still stale anyway. */
  refreshTimerFired(address: string, family: Family): void {
    const state = this.peers.get(address);
    if (state?.out && state.refreshing.has(family)) this.endRefresh(state, family, 'timer');
  }

  private endRefresh(state: PeerIn, family: Family, reason: 'eorr' | 'timer'): void {
    state.refreshing.delete(family);
    if (state.adjIn.endRefresh(family) > 0) this.jobs.add({ kind: 'refresh-sweep', state, family, reason });
  }

  /**
   * Soft reset: 'in' re-runs import policy over the kept Adj-RIB-In (no
   * ROUTE-REFRESH needed), 'out' re-exports every best path to the peer.
   */
  softReset(address: string, direction: 'in' | 'out'): boolean {
    const state = this.peers.get(address);
    if (!state?.out) return false;
    if (direction === 'in') this.jobs.add({ kind: 'soft-in', state });
    else this.jobs.add({ kind: 'dump', out: state.out, initial: false });
    return true;
  }

  /** New global and per-peer policies (reload): soft reconfiguration in and out for every peer. */
  setPolicies(policies: GlobalPolicies, rulesFor: (address: string) => Pick<RibPeerSettings, 'import' | 'export'> | undefined): void {
    this.policies = policies;
    for (const [address, state] of this.peers) {
      const rules = rulesFor(address) ?? state.settings;
      state.settings = { ...state.settings, ...(rules.import ? { import: rules.import } : {}), ...(rules.export ? { export: rules.export } : {}) };
      const compiled = compilePeerPolicies(policies, state.settings, address);
      state.importPolicy = compiled.import;
      state.exportPolicy = compiled.export;
      this.jobs.add({ kind: 'soft-in', state });
      if (state.out) {
        state.out.setExportPolicy(compiled.export);
        this.jobs.add({ kind: 'dump', out: state.out, initial: false });
      }
    }
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
    if (this.locRib.withdraw(r.entry.prefix, this.local) !== 'none') this.dirty.set(r.entry.prefix, true);
    return { ok: true };
  }

  /** Start and reload: the config's `originate` list (API entries stay unless the config takes them over). */
  setConfigOrigins(originate: readonly OriginateConfig[]): void {
    const changes = this.origination.reconcileConfig(originate);
    for (const e of changes.announce) this.originate(e);
    for (const e of changes.withdraw) if (this.locRib.withdraw(e.prefix, this.local) !== 'none') this.dirty.set(e.prefix, true);
  }

  private originate(e: OriginatedPrefix): void {
    if (this.locRib.update(e.prefix, e.path) !== 'none') this.dirty.set(e.prefix, true);
  }

  originated(): OriginatedPrefix[] {
    return this.origination.list();
  }

  // ------------------------------------------------------------ the work loop

  /** True while dirty prefixes or jobs remain. */
  hasWork(): boolean {
    return this.dirty.size() > 0 || this.publishing !== undefined || this.jobs.size > 0;
  }

  /**
   * Runs up to about `budget` units of work (a dirty prefix costs one per
   * established peer plus one; a job step one per route) and returns the
   * units spent. Dirty prefixes go first so changes are not held behind a
   * large dump.
   */
  process(budget: number): number {
    let work = 0;
    while (work < budget) {
      if (this.dirty.size() > 0 || this.publishing) {
        work += this.flushDirty(budget - work);
        continue;
      }
      const spent = this.jobs.run(budget - work);
      if (spent === 0) break;
      work += spent;
    }
    return work;
  }

  private flushDirty(budget: number): number {
    const cost = 1 + this.outs.length;
    let work = 0;
    while (work < budget) {
      if (!this.publishing) {
        if (this.dirty.size() === 0) break;
        this.publishing = this.dirty.keys();
        this.publishingLeft = this.dirty.size();
        this.dirty = new PrefixTable();
      }
      const r = this.publishing.next();
      if (r.done) {
        this.publishing = undefined;
        continue;
      }
      this.publishingLeft--;
      // Marked again since this batch was taken: it is published from `dirty`, once.
      if (this.dirty.size() > 0 && this.dirty.has(r.value)) continue;
      this.publish(r.value);
      work += cost;
    }
    return work;
  }

  /** Exports the current best path of `prefix` to every peer and records the FIB change. */
  private publish(prefix: PrefixKey): void {
    const best = this.locRib.best(prefix);
    for (const out of this.outs) out.export(prefix, best);
    if (this.recordFib) {
      const local = best?.peer.local ?? false;
      const blackhole = local && (this.origination.get(prefix)?.blackhole ?? false);
      this.fib.push({ prefix, paths: best ? this.locRib.multipath(prefix) : [], local, ...(blackhole ? { blackhole } : {}) });
    }
    this.bestPathChanges++;
  }

  /**
   * Whether publish() records FIB changes (default on). Off when the FIB is
   * disabled: best-path changes are still counted, no per-prefix object is built.
   */
  setFibChanges(record: boolean): void {
    this.recordFib = record;
    if (!record) this.fib = [];
  }

  /** Best-path changes since the last call, oldest first (one entry per prefix per flush). */
  takeFibChanges(): FibChange[] {
    const out = this.fib;
    this.fib = [];
    return out;
  }

  takeNotices(): RibNotice[] {
    const out = this.notices;
    this.notices = [];
    return out;
  }

  /** Called by jobs. */
  notice(n: RibNotice): void {
    this.notices.push(n);
  }

  markDirty(prefix: PrefixKey): void {
    this.dirty.set(prefix, true);
  }

  /** Addresses of established peers with UPDATEs ready. */
  pendingPeers(): string[] {
    const out: string[] = [];
    for (const o of this.outs) if (o.hasPending()) out.push(o.peer.address);
    return out;
  }

  /** Up to `max` ready UPDATE (and RFC 7313 ROUTE-REFRESH) messages for a peer; what is returned counts as sent. */
  takeUpdates(address: string, max: number): Buffer[] {
    return this.peers.get(address)?.out?.take(max) ?? [];
  }

  // ------------------------------------------------------------ reading

  peerState(address: string): PeerIn | undefined {
    return this.peers.get(address);
  }

  peerStats(address: string): RibPeerStats | undefined {
    const s = this.peers.get(address);
    if (!s) return undefined;
    const adv = s.out?.advertisedByFamily() ?? { 'ipv4-unicast': 0, 'ipv6-unicast': 0 };
    const fam = (f: Family, i: 0 | 1) => ({ received: s.adjIn.size(f), accepted: s.adjIn.size(f) - s.rejectedCount[i], advertised: adv[f] });
    const byFamily = { 'ipv4-unicast': fam('ipv4-unicast', 0), 'ipv6-unicast': fam('ipv6-unicast', 1) };
    return { address, up: s.out !== undefined, stale: s.adjIn.staleCount() + s.adjIn.refreshStaleCount(), byFamily };
  }

  totals(): RibTotals {
    const paths = { 'ipv4-unicast': 0, 'ipv6-unicast': 0 };
    for (const s of this.peers.values()) for (const f of FAMILIES) paths[f] += s.adjIn.size(f);
    for (const o of this.origination.list()) paths[prefixFamily(o.prefix)]++;
    return {
      routes: { 'ipv4-unicast': this.locRib.prefixCount('ipv4-unicast'), 'ipv6-unicast': this.locRib.prefixCount('ipv6-unicast') },
      paths,
      bestPathChanges: this.bestPathChanges,
      attributeSets: this.store.size(),
      outAttributeSets: this.outStore.size(),
      dirty: this.dirty.size() + this.publishingLeft,
      jobs: this.jobs.size,
    };
  }

  /** RFC 4271 §9.1.2 explained per candidate (the API's explain endpoint). */
  explain(prefix: PrefixKey): CandidateExplanation[] {
    return this.locRib.explain(prefix);
  }

  /** Whether a candidate's route is held as stale (RFC 4724). */
  isStale(path: Path, prefix: PrefixKey): boolean {
    const s = this.peers.get(path.peer.address);
    return s !== undefined && s.peer === path.peer && s.adjIn.isStale(prefix, path.pathId);
  }

  /** Every peer state, established or holding stale routes. */
  peerStates(): IterableIterator<PeerIn> {
    return this.peers.values();
  }

  /** For jobs: a job kind to queue. */
  addJob(job: Job): void {
    this.jobs.add(job);
  }
}
