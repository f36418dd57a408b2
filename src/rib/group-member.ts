// One established session's place in its update group (update-group.ts): a
// cursor into the group's stream of shared encoded UPDATEs, and what truly is
// its own — its identity for the split-horizon skips, its BoRR/EoRR (RFC 7313
// §4) and End-of-RIB (RFC 4724 §2) state, and, only while it catches up, the
// keys it must be sent again.
//
// Catching up walks the group's table and sends each key's current state,
// encoded for this member alone (the attribute blocks stay shared). It serves
// a late joiner (the whole table), a route refresh (RFC 2918 §4: the family's
// table, bracketed by BoRR/EoRR with enhanced route refresh), a member that
// fell more than the lag bound behind (the keys of the items it missed) and
// a member moved to another group by a policy change (the keys it held there
// plus the new group's table). While it walks, the member keeps a place in
// the stream where the walk began; the stream items after it are never
// delivered but folded into the keys to walk (their keys' current state goes
// instead), so nothing older than what was walked arrives after it. When a
// walk ends with no item past its place, the member follows the stream.

import { encodeRouteRefresh } from '../bgp/wire/route-refresh.js';
import { familyAfiSafi, type Family } from '../bgp/wire/types.js';
import type { PrefixKey } from '../lib/prefix.js';
import type { AttrSet } from './attr-store.js';
import { FAMILIES, excludes, familyIndex, receives, type Bucket, type GroupOutStats } from './group-out.js';
import { PrefixTable } from './prefix-table.js';
import type { PeerInfo } from './route.js';
import { RR_BORR, RR_EORR, type UpdateGroup } from './update-group.js';
import { encodeEndOfRib, longestPrefixWire, outKeyFamily, packAnnouncements, packWithdrawals, type OutKey } from './update-packer.js';

/** Keys a catch-up walks per step (extended to the end of a bucket's run: one source's prefixes stay in one UPDATE). */
const WALK_STEP = 2048;
/** Walk steps one take() may run. */
const MAX_WALK_STEPS = 8;

/**
 * What a member may hold of a key it must walk: the attribute set it was
 * sent (a move: one outStore reference, so an unchanged route is not sent
 * again), 'excluded' (it never got the key: its own route), or null (not
 * known: send the current state).
 */
export type Held = AttrSet | 'excluded' | null;

interface CatchUp {
  /** Families whose whole table is still to walk (a joiner, a route refresh): announcements only. */
  readonly tables: Family[];
  iter?: Iterator<[OutKey, Bucket]>;
  /** The next table entry, held back at a step's end. */
  held?: [OutKey, Bucket];
  /** Keys being walked with their current state (announce, or withdraw when gone or excluded). */
  keys?: PrefixTable<Held>;
  keyIter?: Iterator<[OutKey, Held]>;
  /** Keys folded in since `keys` began (walked after it). */
  more?: PrefixTable<Held>;
  /** Moved into a group whose initial table is not encoded yet: walk only once it is. */
  waitReady: boolean;
  /** The walk reads every family's whole table: stream items from before it began bring nothing newer. */
  fullTable: boolean;
  started: boolean;
}

export class GroupMember {
  readonly address: string;
  readonly bgpId: number;
  /** The next stream item this member reads; the place it holds in the stream. */
  cursor: number | undefined;
  private catchup: CatchUp | undefined;
  /** Encoded for this member alone by a catch-up walk, sent before anything else of the walk. */
  private own: Buffer[] = [];
  private ownHead = 0;
  /** BoRR messages to send before anything else (RFC 7313 §4). */
  private readonly control: Buffer[] = [];
  /** Families owed an EoRR once the catch-up walk has gone out. */
  private readonly eorr = new Set<Family>();
  /** RFC 4724 §2: End-of-RIB sent on this session, per family. */
  private readonly eorSent: [boolean, boolean] = [false, false];
  closed = false;

  constructor(
    readonly peer: PeerInfo,
    public group: UpdateGroup,
    private readonly enhancedRouteRefresh: boolean,
  ) {
    this.address = peer.address;
    this.bgpId = peer.bgpId;
  }

  get families(): readonly Family[] {
    return this.group.families;
  }

  /**
   * Joins `group`. The first member of a new group just follows its stream;
   * a later one walks the table first; `held` are the keys the peer holds
   * from a group it leaves (a policy change), walked with their new state.
   */
  join(group: UpdateGroup, held?: PrefixTable<Held>): void {
    this.group = group;
    group.members.add(this);
    this.cursor = group.tail;
    if (!held && group.out.advertised.size() === 0) {
      // Nothing encoded to walk: the stream brings everything, but an End-of-RIB already past is owed.
      if (group.eorSeq.some((q) => q !== undefined)) this.catchup = { tables: [], waitReady: false, fullTable: false, started: false };
      return;
    }
    const waitReady = held !== undefined && !group.out.initialDone();
    this.catchup = { tables: [...group.families], ...(held ? { more: held } : {}), waitReady, fullTable: true, started: false };
  }

  /**
   * Leaves the group, returning what the peer may hold from it (a move to
   * another group): what the stream carried (exactly what the peer holds,
   * unless items or a walk were still owed to it: those keys are unknown).
   */
  leaveForMove(): PrefixTable<Held> {
    const g = this.group;
    const held = new PrefixTable<Held>();
    for (const [k, b] of g.out.advertised.entries()) {
      if (excludes(b.ex, this)) held.set(k, 'excluded');
      else {
        g.outStore.retain(b.set);
        held.set(k, b.set);
      }
    }
    if (this.cursor !== undefined) g.keysSince(this.cursor, (k) => this.fold(held, k));
    const c = this.catchup;
    for (const t of [c?.keys, c?.more]) if (t) for (const k of t.keys()) this.fold(held, k);
    this.dropCatchup();
    this.own = [];
    this.ownHead = 0;
    this.group.leave(this);
    this.cursor = undefined;
    return held;
  }

  /**
   * More than the lag bound behind (or starting a walk): the items past its
   * place will not be delivered; their keys are walked with their current
   * state instead, and its place moves to the tail.
   */
  evict(): void {
    const g = this.group;
    const c = (this.catchup ??= { tables: [], waitReady: false, fullTable: false, started: false });
    if (this.cursor !== undefined && this.cursor < g.tail) {
      const more = (c.more ??= new PrefixTable<Held>());
      g.keysSince(this.cursor, (k) => this.fold(more, k));
    }
    this.cursor = g.tail;
  }

  /** `k` must be walked with its current state, whatever was known of it. */
  private fold(table: PrefixTable<Held>, k: OutKey): void {
    const v = table.get(k);
    if (v === null) return;
    if (v !== undefined && v !== 'excluded') this.group.outStore.release(v);
    table.set(k, null);
  }

  /** Ends a walk, releasing what it held. */
  private dropCatchup(): void {
    const c = this.catchup;
    this.catchup = undefined;
    this.own = [];
    this.ownHead = 0;
    if (!c) return;
    for (const t of [c.keys, c.more]) if (t) for (const v of t.values()) if (v !== null && v !== 'excluded') this.group.outStore.release(v);
  }

  /** RFC 2918 §4 / RFC 7313 §4: the peer asked for `family` again: the group's table for it, for this member alone. */
  refreshRequested(family: Family): void {
    if (!this.group.families.includes(family)) return;
    if (this.enhancedRouteRefresh) {
      const { afi, safi } = familyAfiSafi(family);
      this.control.push(encodeRouteRefresh({ afi, safi, subtype: RR_BORR }));
      this.eorr.add(family);
    }
    this.evict(); // what is undelivered goes as current state, after the BoRR
    if (!this.catchup!.tables.includes(family)) this.catchup!.tables.push(family);
  }

  /** The group's Adj-RIB-Out, as far as its figures go (shared by every member). */
  get adjRibOut(): { stats(): GroupOutStats } {
    return this.group.out;
  }

  /** ADD-PATH send: the path IDs the group has for `prefix`. */
  pathIdsOf(prefix: PrefixKey): readonly number[] {
    return this.group.pathIdsOf(prefix);
  }

  /** Something is ready (or may be, once the group encodes it). */
  hasPending(): boolean {
    const g = this.group;
    return this.control.length > 0 || this.catchup !== undefined || (this.cursor !== undefined && this.cursor < g.tail) || g.out.hasPending();
  }

  /** In a catch-up walk. */
  get catchingUp(): boolean {
    return this.catchup !== undefined;
  }

  /** Up to `max` messages, whole, for the socket: control, then the catch-up walk, then the shared stream. */
  take(max: number): Buffer[] {
    const out: Buffer[] = [];
    while (this.control.length > 0 && out.length < max) out.push(this.control.shift()!);
    if (this.catchup && !this.stepCatchup(max, out)) return out;
    const g = this.group;
    let produced = false;
    while (out.length < max) {
      if (this.cursor === g.tail) {
        // Once per call: a member that skips what it encodes (its own routes) must not encode the whole backlog in one go.
        if (produced) break;
        produced = true;
        g.produce();
        if (this.cursor === g.tail) break;
      }
      const seq = this.cursor!;
      const it = g.items[seq - g.base]!;
      this.cursor = seq + 1;
      if (it.eor) {
        const fi = familyIndex(it.eor);
        if (!this.eorSent[fi]) {
          this.eorSent[fi] = true;
          out.push(it.msg);
        }
        continue;
      }
      if (receives(it, this)) out.push(it.msg);
    }
    return out;
  }

  /** Runs the catch-up walk into `out`; true once it is over (the member follows the stream). */
  private stepCatchup(max: number, out: Buffer[]): boolean {
    const g = this.group;
    const c = this.catchup!;
    // Bounded per call (a walk of keys this member must not get sends nothing, yet costs a step).
    for (let steps = 0; steps < MAX_WALK_STEPS; steps++) {
      while (this.ownHead < this.own.length && out.length < max) out.push(this.own[this.ownHead++]!);
      if (out.length >= max) return false;
      this.own = [];
      this.ownHead = 0;
      if (c.waitReady) {
        if (!g.out.initialDone()) {
          g.produce(); // nobody else may be at the tail to drive it
          this.cursor = g.tail; // the walk to come reads all of it
          if (!g.out.initialDone()) return false;
        }
        c.waitReady = false;
      }
      if (!c.started) {
        c.started = true;
        if (c.fullTable) this.cursor = g.tail; // encoded before the walk: the walk reads newer state
      }
      if (this.walk(c)) continue;
      // The walk is done: items encoded meanwhile are folded in and walked too, until none came.
      if (this.cursor! < g.tail || c.more !== undefined) {
        this.evict();
        if (c.more) {
          c.keys = c.more;
          c.more = undefined;
          c.keyIter = undefined;
        }
        continue;
      }
      this.catchup = undefined;
      this.finishCatchup(out);
      return true;
    }
    return false;
  }

  /** End-of-RIB owed (the group's went past while walking), then the EoRRs (RFC 7313 §4). */
  private finishCatchup(out: Buffer[]): void {
    const g = this.group;
    for (const f of g.families) {
      const fi = familyIndex(f);
      const seq = g.eorSeq[fi];
      if (this.eorSent[fi] || seq === undefined || seq >= this.cursor!) continue;
      out.push(encodeEndOfRib(f, g.out.ctx)); // RFC 4724 §2
      this.eorSent[fi] = true;
    }
    for (const f of this.eorr) {
      const { afi, safi } = familyAfiSafi(f);
      out.push(encodeRouteRefresh({ afi, safi, subtype: RR_EORR }));
    }
    this.eorr.clear();
  }

  /** Walks one step into `own`; false when there was nothing left to walk. */
  private walk(c: CatchUp): boolean {
    const g = this.group;
    const groups: [Map<Bucket, OutKey[]>, Map<Bucket, OutKey[]>] = [new Map(), new Map()];
    const gone: [OutKey[], OutKey[]] = [[], []];
    let n = 0;
    let last: Bucket | undefined;
    const add = (k: OutKey, b: Bucket): void => {
      const fi = familyIndex(outKeyFamily(k));
      let list = groups[fi].get(b);
      if (!list) groups[fi].set(b, (list = []));
      list.push(k);
    };
    // The tables: what a joiner (or a refresh) has not got; keys still to walk are left to that phase.
    while (c.tables.length > 0 || c.iter) {
      if (!c.iter) c.iter = g.out.advertised.entries(c.tables.shift()!);
      const e = c.held ?? c.iter.next().value;
      c.held = undefined;
      if (!e) {
        c.iter = undefined;
        continue;
      }
      const [k, b] = e;
      if (n >= WALK_STEP && b !== last) {
        c.held = e;
        break;
      }
      n++;
      last = b;
      if (c.keys?.has(k) || c.more?.has(k)) continue;
      if (!excludes(b.ex, this)) add(k, b);
    }
    if (n < WALK_STEP && !c.iter && c.tables.length === 0) {
      if (!c.keys && c.more) {
        c.keys = c.more;
        c.more = undefined;
      }
      while (c.keys && n < WALK_STEP) {
        const r = (c.keyIter ??= c.keys.entries()).next();
        if (r.done) {
          c.keys = undefined;
          c.keyIter = undefined;
          break;
        }
        n++;
        const [k, held] = r.value;
        c.keys.set(k, null); // walked: what it held is no longer ours to release
        const b = g.out.advertised.get(k);
        const p = g.out.pendingState(k);
        const now = b && !excludes(b.ex, this) ? b : undefined;
        if (held !== null && held !== 'excluded') g.outStore.release(held);
        // Queued in the group with a state this member receives: the stream brings it.
        if (p && !excludes(p.ex, this)) continue;
        if (now) {
          if (now.set !== held) add(k, now); // a moved member keeps what did not change
        } else if (held !== 'excluded') gone[familyIndex(outKeyFamily(k))].push(k);
      }
    }
    if (n === 0) return false;
    for (const fi of [0, 1] as const) if (gone[fi].length > 0) packWithdrawals(FAMILIES[fi]!, gone[fi], g.out.ctx, Infinity, this.own);
    for (const fi of [0, 1] as const)
      for (const [b, keys] of groups[fi]) {
        const block = g.out.block(b.set, fi);
        if (block.nlriBudget < longestPrefixWire(FAMILIES[fi]!, block.addPath)) continue; // the group does not advertise it either
        packAnnouncements(block, keys, Infinity, this.own);
      }
    return true;
  }

  /** Prefixes the peer holds from us, per family (the group's, minus its own routes). */
  advertisedByFamily(): Record<Family, number> {
    const g = this.group;
    return { 'ipv4-unicast': g.out.advertisedFor('ipv4-unicast', this), 'ipv6-unicast': g.out.advertisedFor('ipv6-unicast', this) };
  }

  /** Session gone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropCatchup();
    this.control.length = 0;
    this.eorr.clear();
    this.group.leave(this);
  }
}
