// What a received UPDATE does to the RIB (RFC 4271 §9): its withdrawals and
// announcements go into the peer's Adj-RIB-In, through import policy (§9.1.1)
// into the Loc-RIB, and the touched prefixes are marked for publishing. RFC
// 4760 §6: NLRI of a family the session did not negotiate is ignored. RFC 7606
// §2: treat-as-withdraw withdraws every NLRI of the UPDATE. RFC 4486: the
// max-prefix check after each UPDATE. End-of-RIB is the facade's to route.

import type { DecodedUpdate } from '../bgp/wire/update.js';
import type { Nlri } from '../bgp/wire/types.js';
import type { PrefixKey } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import type { LocRib } from './loc-rib.js';
import type { PeerIn } from './peer-in.js';
import { evaluate } from './policy/index.js';
import type { Publisher } from './rib-publish.js';
import { Path } from './route.js';
import type { RibNotice } from './rib-types.js';

function rejectKey(prefix: PrefixKey, pathId: number): PrefixKey {
  return pathId === 0 ? prefix : `${prefix}#${pathId}`;
}

export class Ingest {
  constructor(
    private readonly store: AttrStore,
    private readonly locRib: LocRib,
    private readonly publisher: Publisher,
    private readonly notice: (n: RibNotice) => void,
  ) {}

  /** An UPDATE (not an End-of-RIB) from an established peer, with its RFC 7606 verdict. */
  update(state: PeerIn, d: DecodedUpdate): void {
    const u = d.update;
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
        this.publisher.touched(prefix, this.locRib.withdraw(prefix, state.peer, path.pathId));
        return;
      }
      if (v.attrs !== path.attrs) {
        candidate = new Path(state.peer, v.attrs, path.pathId);
        owned = true;
      }
    }
    this.unreject(state, prefix, path.pathId);
    this.publisher.touched(prefix, this.locRib.update(prefix, candidate));
    if (owned) this.store.release(candidate.attrs); // the Loc-RIB took its own reference
  }

  private unreject(state: PeerIn, prefix: PrefixKey, pathId: number): void {
    if (state.rejected.size > 0 && state.rejected.delete(rejectKey(prefix, pathId))) state.rejectedCount[typeof prefix === 'number' ? 0 : 1]--;
  }

  /** A path left the Adj-RIB-In: take it out of the Loc-RIB too. */
  removeCandidate(state: PeerIn, prefix: PrefixKey, pathId: number): void {
    this.unreject(state, prefix, pathId);
    this.publisher.touched(prefix, this.locRib.withdraw(prefix, state.peer, pathId));
  }

  /** RFC 4486: compare what the peer sent with its limit, per family. */
  private checkMaxPrefix(state: PeerIn): void {
    const mp = state.settings.maxPrefix;
    if (!mp) return;
    for (const family of state.settings.families) {
      const count = state.adjIn.size(family);
      if (count <= mp.limit || state.warned.has(family)) continue;
      state.warned.add(family);
      this.notice({ type: 'max-prefix', address: state.peer.address, family, limit: mp.limit, count, action: mp.action });
      if (mp.action === 'close') {
        state.closing = true;
        return;
      }
    }
  }
}
