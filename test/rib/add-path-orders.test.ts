// ADD-PATH send and the update groups under every order of session start and
// route arrival (the addpath interop topology): a reflector with an ADD-PATH
// source S1 (which is in the ADD-PATH group itself), a plain source S2, and
// receivers R1, R2 with ADD-PATH send. Each receiver must end up holding both
// paths of the prefix, S1 only S2's. A member joining after a path was
// encoded catches up by walking the group's IPv4 table; the ADD-PATH keys
// ("prefix#pathId") were filed as IPv6 in the PrefixTable, so the walk never
// saw them and the late joiner only got the paths that arrived after it
// (interop addpath.test.ts: FRR on 10.0.0.4 held S1's path alone).
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/bgp/wire/message.js';
import { endOfRibFamily } from '../../src/bgp/wire/eor.js';
import type { CodecContext } from '../../src/bgp/wire/types.js';
import { prefixToString } from '../../src/lib/prefix.js';
import type { Rib } from '../../src/rib/index.js';
import { CODEC, announce, rib, session, settle } from './rib-helpers.js';

const TX: CodecContext = { ...CODEC, addPathSend: { 'ipv4-unicast': true, 'ipv6-unicast': false } };
const TXRX: CodecContext = { ...TX, addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': false } };
const RX: CodecContext = { ...CODEC, addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': false } };
const P = '10.244.9.0/26';
const S1 = '10.0.0.2';
const S2 = '10.0.0.3';
const R1 = '10.0.0.4';
const R2 = '10.0.0.5';

/** Applies what `address` was sent to `held` (path ID → next hop). */
function drain(r: Rib, address: string, held: Map<number, string>, max = 100): void {
  for (;;) {
    const batch = r.takeUpdates(address, max);
    if (batch.length === 0) return;
    for (const buf of batch) {
      const m = decodeMessage(buf, RX);
      if (!m.ok || m.value.type !== 'update') throw new Error('expected an UPDATE');
      const u = m.value.update;
      if (endOfRibFamily(u)) continue;
      u.withdrawn.prefixes.forEach((p, i) => prefixToString(p) === P && held.delete(u.withdrawn.pathIds?.[i] ?? 0));
      u.nlri.prefixes.forEach((p, i) => prefixToString(p) === P && held.set(u.nlri.pathIds?.[i] ?? 0, u.attributes.nextHop as string));
    }
    if (max < 100) return;
  }
}

type Step = 'up1' | 'up2' | 'upR1' | 'upR2' | 'a1' | 'a2';

function perms<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

function run(order: Step[], settleAfter: boolean[], drainEach: boolean): string | undefined {
  const r = rib({ isReflector: true, ecmp: 1 });
  const held = new Map<string, Map<number, string>>([S1, S2, R1, R2].map((a) => [a, new Map()]));
  const up = new Set<string>();
  const pend: Step[] = [];
  const doStep = (s: Step): void => {
    if (s === 'up1') r.peerUp({ ...session(S1, { rrClient: true, families: ['ipv4-unicast'] }), codec: TXRX });
    if (s === 'up2') r.peerUp(session(S2, { rrClient: true, families: ['ipv4-unicast'] }));
    if (s === 'upR1') r.peerUp({ ...session(R1, { rrClient: true, families: ['ipv4-unicast'] }), codec: TX });
    if (s === 'upR2') r.peerUp({ ...session(R2, { rrClient: true, families: ['ipv4-unicast'] }), codec: TX });
    if (s === 'a1') {
      const u = announce([P], { origin: 0, asPath: [], nextHop: S1, localPref: 100 });
      (u.update.nlri as { pathIds?: number[] }).pathIds = [1];
      r.update(S1, u);
    }
    if (s === 'a2') r.update(S2, announce([P], { origin: 0, asPath: [], nextHop: S2, localPref: 100 }));
  };
  order.forEach((s, i) => {
    // an announcement before its session is up waits for it
    if (s === 'a1' && !up.has('up1')) return void pend.push(s);
    if (s === 'a2' && !up.has('up2')) return void pend.push(s);
    doStep(s);
    up.add(s);
    for (const q of [...pend])
      if ((q === 'a1' && up.has('up1')) || (q === 'a2' && up.has('up2'))) {
        pend.splice(pend.indexOf(q), 1);
        doStep(q);
      }
    if (settleAfter[i]) settle(r, 1);
    if (drainEach) for (const a of [S1, S2, R1, R2]) drain(r, a, held.get(a)!, 1);
  });
  settle(r);
  for (const a of [S1, S2, R1, R2]) drain(r, a, held.get(a)!);
  const want: Record<string, string[]> = { [S1]: [S2], [R1]: [S1, S2].sort(), [R2]: [S1, S2].sort() };
  for (const [a, w] of Object.entries(want)) {
    const got = [...held.get(a)!.values()].sort();
    if (JSON.stringify(got) !== JSON.stringify(w)) return `${a} holds ${got.join(',')} (want ${w.join(',')})`;
  }
  return undefined;
}

describe('ADD-PATH send under every order of session start and arrival', () => {
  it('a receiver joining after the first path was sent gets it from the table walk, and the second from the stream', () => {
    const settleAfter = [false, true, true, true, false, false];
    expect(run(['up1', 'up2', 'upR1', 'a1', 'upR2', 'a2'], settleAfter, true)).toBeUndefined();
  });

  it('every receiver ends with both paths, the ADD-PATH source with the other', () => {
    const failures: string[] = [];
    const steps: Step[] = ['up1', 'up2', 'upR1', 'upR2', 'a1', 'a2'];
    for (const order of perms(steps))
      for (let mask = 0; mask < 64; mask += 7)
        for (const drainEach of [false, true]) {
          const f = run(order, steps.map((_, i) => ((mask >> i) & 1) === 1), drainEach);
          if (f) failures.push(`${order.join(' ')} mask=${mask} drain=${drainEach}: ${f}`);
        }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});
