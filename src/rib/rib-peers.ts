// Peer lifecycle in the RIB: a session comes up (RFC 4271 §8.2.2) and joins
// its update group, goes down (its routes withdrawn, or kept as stale under
// RFC 4724 §4.2 until End-of-RIB or the restart timer), asks for a route
// refresh (RFC 2918 §4) or sends one (RFC 7313 §4 BoRR/EoRR), and is
// reconfigured: soft resets, and a policy reload that re-runs import only for
// peers whose import rules changed and moves a peer whose export rules
// changed into the group its new rules belong to, without touching its
// session (the member walks what it held and the new group's table).

import type { Family } from '../bgp/wire/types.js';
import { AdjRibIn } from './adj-rib-in.js';
import type { AttrStore } from './attr-store.js';
import type { ExportSettings } from './export.js';
import { GroupMember } from './group-member.js';
import type { PeerIn } from './peer-in.js';
import { compilePeerPolicies, type GlobalPolicies } from './policy/index.js';
import type { RibJobs } from './rib-jobs.js';
import type { Publisher } from './rib-publish.js';
import type { PeerInfo } from './route.js';
import type { PeerDownResult, RibNotice, RibPeerSettings, RouteRefreshAction } from './rib-types.js';
import { groupKey } from './update-group.js';

/** Same peer as far as stored paths are concerned (RFC 4724: a restarted peer keeps its stale routes). */
function samePeer(a: PeerInfo, b: PeerInfo): boolean {
  return a.asn === b.asn && a.localAsn === b.localAsn && a.bgpId === b.bgpId && a.rrClient === b.rrClient && a.allowOwnAs === b.allowOwnAs;
}

export interface LifecycleHost {
  readonly store: AttrStore;
  readonly jobs: RibJobs;
  readonly publisher: Publisher;
  notice(n: RibNotice): void;
  exportSettings(): ExportSettings;
}

export class PeerLifecycle {
  readonly peers = new Map<string, PeerIn>();

  constructor(
    private readonly host: LifecycleHost,
    private policies: GlobalPolicies,
  ) {}

  /** A session reached Established (RFC 4271 §8.2.2): it joins its update group (the initial table follows). */
  peerUp(s: RibPeerSettings): void {
    const address = s.peer.address;
    const old = this.peers.get(address);
    if (old?.out) this.peerDown(address, { graceful: false });
    const kept = this.peers.get(address);
    const jobs = this.host.jobs;
    let state: PeerIn;
    const policies = compilePeerPolicies(this.policies, s, address);
    if (kept && samePeer(kept.peer, s.peer)) {
      // RFC 4724 §4.2: the peer is back; its stale routes stay until End-of-RIB or the timer.
      state = kept;
      state.settings = s;
      state.importPolicy = policies.import;
      state.exportPolicy = policies.export;
      // RFC 4724 §4.2: no graceful restart on the new session → stale routes go now.
      if (!s.gracefulRestart && state.adjIn.staleCount() > 0) jobs.add({ kind: 'sweep', state });
    } else {
      if (kept) jobs.add({ kind: 'drain', state: kept });
      state = {
        peer: s.peer,
        adjIn: new AdjRibIn(s.peer, this.host.store),
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
    const { group, created } = this.host.publisher.groupFor(s, state.exportPolicy, this.host.exportSettings());
    const member = new GroupMember(s.peer, group, s.enhancedRouteRefresh ?? false);
    member.join(group);
    state.out = member;
    if (created) jobs.add({ kind: 'dump', group, initial: true });
    else if (group.initialQueued) this.host.notice({ type: 'initial-table-queued', address, prefixes: group.out.advertised.size() });
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
      state.out = undefined;
      this.host.publisher.sweepGroups();
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
    this.host.jobs.add({ kind: 'drain', state });
    return { stale: 0 };
  }

  /** The shell's restart timer for a peer's stale routes fired (RFC 4724 §4.2). */
  staleTimerFired(address: string): void {
    const state = this.peers.get(address);
    if (!state || state.adjIn.staleCount() === 0) return;
    if (state.out) this.host.jobs.add({ kind: 'sweep', state });
    else {
      this.peers.delete(address);
      this.host.jobs.add({ kind: 'drain', state, stale: true });
    }
  }

  /** RFC 4724 §2/§4.2: End-of-RIB from the peer; stale routes go once every family has sent one. */
  endOfRib(address: string, family: Family): void {
    const state = this.peers.get(address);
    if (!state?.out) return;
    state.eorReceived.add(family);
    this.host.notice({ type: 'end-of-rib-received', address, family });
    if (state.adjIn.staleCount() > 0 && state.settings.families.every((f) => state.eorReceived.has(f))) this.host.jobs.add({ kind: 'sweep', state });
  }

  /**
   * A ROUTE-REFRESH from an established peer, by subtype. 0: RFC 2918 §4, our
   * routes of `family` go again, walked from the group's table for this member
   * alone (bracketed by BoRR/EoRR when enhanced route refresh was negotiated,
   * group-member.ts). 1 (BoRR) and 2 (EoRR): RFC 7313 §4, the peer is
   * re-sending its routes of `family`: at BoRR they all become stale, a
   * re-advertisement makes one fresh again, at EoRR the rest is purged
   * (withdrawn from the Loc-RIB, so exported as withdraws). Restart-stale
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
    if (state.adjIn.endRefresh(family) > 0) this.host.jobs.add({ kind: 'refresh-sweep', state, family, reason });
  }

  /**
   * Soft reset: 'in' re-runs import policy over the kept Adj-RIB-In (no
   * ROUTE-REFRESH needed), 'out' re-exports every best path to the peer's
   * group (only what changed goes out).
   */
  softReset(address: string, direction: 'in' | 'out'): boolean {
    const state = this.peers.get(address);
    if (!state?.out) return false;
    if (direction === 'in') this.host.jobs.add({ kind: 'soft-in', state });
    else this.host.jobs.add({ kind: 'dump', group: state.out.group, initial: false });
    return true;
  }

  /**
   * New global and per-peer policies (reload). The caller says what changed
   * (the reload plan's verdicts, config/diff.ts); nothing here compares rules
   * again. `changedFor(address)` gives a peer's new import and/or export rules
   * when they changed (a key present means that side changed), undefined when
   * neither did; `global` says which side of the global rules changed. Import
   * policy is re-run (soft in) for a peer whose import rules changed, or for
   * all when the global import rules did. A change of the global export rules
   * re-exports every group; a peer whose own export rules changed moves to the
   * group of its new rules (made and filled when there is none), its session
   * untouched.
   */
  setPolicies(
    policies: GlobalPolicies,
    changedFor: (address: string) => Pick<RibPeerSettings, 'import' | 'export'> | undefined,
    global: { readonly import: boolean; readonly export: boolean } = { import: false, export: false },
  ): void {
    this.policies = policies;
    const jobs = this.host.jobs;
    if (global.export)
      for (const g of this.host.publisher.groups.values()) {
        if (g.closed) continue;
        g.setExportPolicy(compilePeerPolicies(policies, { ...(g.exportRules ? { export: g.exportRules } : {}) }).export);
        jobs.add({ kind: 'dump', group: g, initial: false });
      }
    for (const [address, state] of this.peers) {
      const rules = changedFor(address);
      const importChanged = global.import || rules?.import !== undefined;
      const exportChanged = global.export || rules?.export !== undefined;
      if (!importChanged && !exportChanged) continue;
      const next = { ...state.settings, ...(rules?.import ? { import: rules.import } : {}), ...(rules?.export ? { export: rules.export } : {}) };
      state.settings = next;
      const compiled = compilePeerPolicies(policies, next, address);
      if (importChanged) {
        state.importPolicy = compiled.import;
        jobs.add({ kind: 'soft-in', state });
      }
      if (exportChanged) {
        state.exportPolicy = compiled.export;
        if (state.out) this.move(state);
      }
    }
  }

  /** The peer's export result changed: into the group of its settings now (update-group.ts), the session kept. */
  private move(state: PeerIn): void {
    const member = state.out!;
    if (groupKey(state.settings) === member.group.key) return;
    const held = member.leaveForMove();
    const publisher = this.host.publisher;
    publisher.sweepGroups();
    const { group, created } = publisher.groupFor(state.settings, state.exportPolicy, this.host.exportSettings());
    member.join(group, held);
    if (created) this.host.jobs.add({ kind: 'dump', group, initial: true });
  }

  /** New speaker-wide export settings (reload, e.g. pools with export off): every group re-exports. */
  setExportSettings(settings: ExportSettings): void {
    for (const g of this.host.publisher.groups.values()) {
      if (g.closed) continue;
      g.setExportSettings(settings);
      this.host.jobs.add({ kind: 'dump', group: g, initial: false });
    }
  }
}
