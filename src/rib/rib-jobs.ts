// Background work of the RIB facade, run a budget at a time from
// Rib.process(): withdrawing a lost peer's routes (RFC 4271 §9: its routes
// are no longer feasible), sweeping stale routes after a graceful restart
// (RFC 4724 §4.2) or an enhanced route refresh (RFC 7313 §4), soft reconfiguration inbound from the kept Adj-RIB-In,
// and dumping the Loc-RIB to one peer (the initial table, after which
// End-of-RIB goes out, RFC 4724 §2; or a soft reset out). Jobs run in FIFO
// order; each keeps its own cursor so a million routes never run in one go.
// A dump fills an update group's Adj-RIB-Out (update-group.ts): every member
// shares it. Jobs reach the RIB through JobHost, not the facade.

import type { Family, PrefixKey } from '../lib/prefix.js';
import type { PeerIn } from './peer-in.js';
import type { Path } from './route.js';
import type { RibNotice } from './rib-types.js';
import type { UpdateGroup } from './update-group.js';

/** What jobs need of the RIB. */
export interface JobHost {
  /** Every best path, in table order. */
  bestRoutes(): Iterator<[PrefixKey, Path]>;
  /** A path left the Adj-RIB-In: out of the Loc-RIB too. */
  removeCandidate(state: PeerIn, prefix: PrefixKey, pathId: number): void;
  /** Import policy, then the Loc-RIB. */
  importRoute(state: PeerIn, prefix: PrefixKey, path: Path): void;
  /** Whether `state` is still the peer's current state (a soft-in for a replaced one stops). */
  isCurrent(state: PeerIn): boolean;
  notice(n: RibNotice): void;
}

export type Job =
  /**
   * Session lost without graceful restart, or its restart timer ran out while
   * it was still down: withdraw every route of the peer. `stale` marks the
   * latter, so the sweep is reported like one at End-of-RIB.
   */
  | { readonly kind: 'drain'; readonly state: PeerIn; readonly stale?: boolean; swept?: number }
  /** RFC 4724 §4.2: End-of-RIB or restart timer: withdraw what is still stale. */
  | { readonly kind: 'sweep'; readonly state: PeerIn; swept?: number }
  /** RFC 7313 §4: EoRR or the refresh timer: withdraw what is still refresh-stale in `family`. */
  | { readonly kind: 'refresh-sweep'; readonly state: PeerIn; readonly family: Family; readonly reason: 'eorr' | 'timer'; swept?: number }
  /** Import policy changed or soft reset in: re-run it over the Adj-RIB-In. */
  | { readonly kind: 'soft-in'; readonly state: PeerIn; cursor?: Iterator<[PrefixKey, Path]> }
  /** Export every best path to one update group; `initial` arms End-of-RIB at the end. */
  | { readonly kind: 'dump'; readonly group: UpdateGroup; readonly initial: boolean; cursor?: Iterator<[PrefixKey, Path]>; count?: number };

export class RibJobs {
  private readonly queue: Job[] = [];

  constructor(private readonly rib: JobHost) {}

  get size(): number {
    return this.queue.length;
  }

  add(job: Job): void {
    if (job.kind === 'dump') job.group.dumps++;
    this.queue.push(job);
  }

  /** Runs jobs for up to `budget` units; returns the units spent (0 = nothing to do). */
  run(budget: number): number {
    let work = 0;
    while (work < budget && this.queue.length > 0) {
      const job = this.queue[0]!;
      const { spent, done } = this.step(job, budget - work);
      work += Math.max(spent, 1);
      if (done) {
        this.queue.shift();
        this.finish(job);
      }
    }
    return work;
  }

  private step(job: Job, budget: number): { spent: number; done: boolean } {
    const rib = this.rib;
    switch (job.kind) {
      case 'drain': {
        const gone = job.state.adjIn.drain(budget);
        for (let i = 0; i < gone.prefixes.length; i++) rib.removeCandidate(job.state, gone.prefixes[i]!, gone.paths[i]!.pathId);
        if (job.stale) job.swept = (job.swept ?? 0) + gone.prefixes.length;
        return { spent: gone.prefixes.length, done: gone.prefixes.length < budget };
      }
      case 'sweep': {
        const gone = job.state.adjIn.sweepStale(budget);
        for (let i = 0; i < gone.prefixes.length; i++) rib.removeCandidate(job.state, gone.prefixes[i]!, gone.paths[i]!.pathId);
        job.swept = (job.swept ?? 0) + gone.prefixes.length;
        return { spent: gone.prefixes.length, done: gone.prefixes.length < budget };
      }
      case 'refresh-sweep': {
        const gone = job.state.adjIn.sweepRefreshStale(job.family, budget);
        for (let i = 0; i < gone.prefixes.length; i++) rib.removeCandidate(job.state, gone.prefixes[i]!, gone.paths[i]!.pathId);
        job.swept = (job.swept ?? 0) + gone.prefixes.length;
        return { spent: gone.prefixes.length, done: gone.prefixes.length < budget };
      }
      case 'soft-in': {
        if (!rib.isCurrent(job.state)) return { spent: 0, done: true };
        const cursor = (job.cursor ??= job.state.adjIn.routes());
        let n = 0;
        for (; n < budget; n++) {
          const r = cursor.next();
          if (r.done) return { spent: n, done: true };
          rib.importRoute(job.state, r.value[0], r.value[1]);
        }
        return { spent: n, done: false };
      }
      case 'dump': {
        if (job.group.closed) return { spent: 0, done: true };
        const cursor = (job.cursor ??= rib.bestRoutes());
        let n = 0;
        for (; n < budget; n++) {
          const r = cursor.next();
          if (r.done) return { spent: n, done: true };
          if (job.group.export(r.value[0], r.value[1]) === undefined) job.count = (job.count ?? 0) + 1;
        }
        return { spent: n, done: false };
      }
    }
  }

  private finish(job: Job): void {
    if (job.kind === 'refresh-sweep' && job.swept)
      this.rib.notice({ type: 'refresh-stale-swept', address: job.state.peer.address, family: job.family, count: job.swept, reason: job.reason });
    if ((job.kind === 'sweep' || job.kind === 'drain') && job.swept) this.rib.notice({ type: 'stale-swept', address: job.state.peer.address, count: job.swept });
    if (job.kind !== 'dump') return;
    const g = job.group;
    g.dumps--;
    if (!job.initial || g.closed) return;
    g.initialQueued = true;
    g.out.initialTableQueued(); // RFC 4724 §2: End-of-RIB follows the initial table
    for (const m of g.members) this.rib.notice({ type: 'initial-table-queued', address: m.address, prefixes: job.count ?? 0 });
  }
}
