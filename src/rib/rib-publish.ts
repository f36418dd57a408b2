// The RIB's output side (DESIGN.md data flow): prefixes whose best path may
// have changed are marked dirty by ingest, jobs and origination, and
// published in bounded steps: each goes through export once per update group
// (update-group.ts) and, when the FIB listens, becomes one best-path change.
// Publishing stops at a budget only between runs of prefixes that share
// their best path's source and attributes (the prefixes of one received
// UPDATE), so a slice never cuts an originator's prefixes into several
// outgoing UPDATEs. Also holds the groups themselves, keyed by groupKey.

import type { PrefixKey } from '../lib/prefix.js';
import type { AttrStore } from './attr-store.js';
import type { ExportSettings } from './export.js';
import type { LocRib, LocRibChange } from './loc-rib.js';
import type { LocalOrigination } from './originate.js';
import type { Policy } from './policy/index.js';
import { PrefixTable } from './prefix-table.js';
import type { Path } from './route.js';
import type { FibChange, RibPeerSettings } from './rib-types.js';
import { UpdateGroup, groupKey } from './update-group.js';

/** How far past its budget a publishing step may run to finish one source's run of prefixes (an UPDATE holds fewer). */
const RUN_LIMIT = 16384;

export class Publisher {
  /** Update groups by groupKey. */
  readonly groups = new Map<string, UpdateGroup>();
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
  /** A prefix taken from `publishing` and held back at a step's end (the next run starts with it). */
  private held: PrefixKey | undefined;
  private fib: FibChange[] = [];
  /** False when nobody consumes FIB changes (fib.enabled: false): publish() builds none. */
  private recordFib = true;
  bestPathChanges = 0;
  /** Groups with RFC 7911 ADD-PATH send: they need every candidate change, not only best-path changes. */
  private addPathGroups = 0;

  constructor(
    private readonly locRib: LocRib,
    private readonly origination: LocalOrigination,
    private readonly stores: { readonly in: AttrStore; readonly out: AttrStore },
    private readonly maxLag: number,
  ) {}

  /** A candidate of `prefix` changed: publish it when its best or multipath set did, or always for ADD-PATH senders (RFC 7911). */
  touched(prefix: PrefixKey, change: LocRibChange): void {
    if (change !== 'none' || this.addPathGroups > 0) this.dirty.set(prefix, true);
  }

  /** The best path of `prefix` may have changed. */
  mark(prefix: PrefixKey): void {
    this.dirty.set(prefix, true);
  }

  hasWork(): boolean {
    return this.dirty.size() > 0 || this.publishing !== undefined || this.held !== undefined;
  }

  /** Dirty prefixes not yet published. */
  backlog(): number {
    return this.dirty.size() + this.publishingLeft + (this.held !== undefined ? 1 : 0);
  }

  // ------------------------------------------------------------ groups

  /** The group for a session's settings, made (empty, to be dumped into) when there is none. */
  groupFor(s: RibPeerSettings, exportPolicy: Policy, exportSettings: ExportSettings): { group: UpdateGroup; created: boolean } {
    const key = groupKey(s);
    const found = this.groups.get(key);
    if (found && !found.closed) return { group: found, created: false };
    const group = new UpdateGroup(key, s, exportPolicy, exportSettings, this.stores.in, this.stores.out, this.locRib, this.maxLag);
    this.groups.set(key, group);
    if (group.sendsAddPath) this.addPathGroups++;
    return { group, created: true };
  }

  /** Forgets groups whose last member left. */
  sweepGroups(): void {
    for (const [key, g] of this.groups)
      if (g.closed) {
        this.groups.delete(key);
        if (g.sendsAddPath) this.addPathGroups--;
      }
  }

  // ------------------------------------------------------------ publishing

  /**
   * Publishes dirty prefixes for about `budget` units (a prefix costs one per
   * group plus one); returns the units spent. Past the budget it goes on
   * while the next prefix's best path has the last one's source and
   * attributes (up to RUN_LIMIT), so one received UPDATE's prefixes are
   * exported in one step and leave in one UPDATE.
   */
  flush(budget: number): number {
    const cost = 1 + this.groups.size;
    let work = 0;
    let last: Path | undefined | null = null;
    let over = 0;
    for (;;) {
      const prefix = this.nextDirty();
      if (prefix === undefined) break;
      const best = this.locRib.best(prefix);
      if (work >= budget) {
        const sameRun = last && best && best.peer === last.peer && best.attrs === last.attrs;
        if (!sameRun || over >= RUN_LIMIT) {
          this.held = prefix;
          break;
        }
        over++;
      }
      this.publish(prefix, best);
      work += cost;
      last = best;
    }
    return work;
  }

  /** The next dirty prefix to publish, if any. */
  private nextDirty(): PrefixKey | undefined {
    if (this.held !== undefined) {
      const h = this.held;
      this.held = undefined;
      return h;
    }
    for (;;) {
      if (!this.publishing) {
        if (this.dirty.size() === 0) return undefined;
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
      return r.value;
    }
  }

  /** Exports the current best path of `prefix` to every group and records the FIB change. */
  private publish(prefix: PrefixKey, best: Path | undefined): void {
    for (const g of this.groups.values()) if (!g.closed) g.export(prefix, best);
    if (this.recordFib) {
      const local = best?.peer.local ?? false;
      const blackhole = local && (this.origination.get(prefix)?.blackhole ?? false);
      this.fib.push({ prefix, paths: best ? this.locRib.multipath(prefix) : [], local, ...(blackhole ? { blackhole } : {}) });
    }
    this.bestPathChanges++;
  }

  setFibChanges(record: boolean): void {
    this.recordFib = record;
    if (!record) this.fib = [];
  }

  takeFibChanges(): FibChange[] {
    const out = this.fib;
    this.fib = [];
    return out;
  }
}
