// Builders for the RIB facade tests: a Rib with settings that tie nothing
// down, sessions as the daemon would describe them, UPDATEs as the session
// delivers them (DecodedUpdate), and a decoder that turns what the facade
// hands the socket back into plain text so tests assert what a peer receives.
import { decodeMessage } from '../../src/bgp/wire/message.js';
import { endOfRibFamily } from '../../src/bgp/wire/eor.js';
import { AS_SEQUENCE, DEFAULT_CODEC_CONTEXT, type CodecContext, type Family, type PathAttributes } from '../../src/bgp/wire/types.js';
import type { DecodedUpdate } from '../../src/bgp/wire/update.js';
import { prefixParse, prefixToString, v4Parse, type PrefixKey } from '../../src/lib/prefix.js';
import { Rib, makePeer, type RibPeerSettings, type RibSettings } from '../../src/rib/index.js';

export const LOCAL_AS = 64512;
export const ROUTER_ID = '192.0.2.1';
export const CODEC: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };

export function key(text: string): PrefixKey {
  const k = prefixParse(text);
  if (k === undefined) throw new Error(`bad prefix ${text}`);
  return k;
}

export function rib(over: Partial<RibSettings> = {}): Rib {
  return new Rib({ routerId: v4Parse(ROUTER_ID)!, asn: LOCAL_AS, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1, ...over });
}

export interface PeerOpts {
  asn?: number;
  bgpId?: string;
  rrClient?: boolean;
  nextHopMode?: 'auto' | 'self' | 'keep';
  families?: Family[];
  gr?: number;
  maxPrefix?: RibPeerSettings['maxPrefix'];
  enhancedRouteRefresh?: boolean;
  import?: RibPeerSettings['import'];
  export?: RibPeerSettings['export'];
  localV6?: string;
}

/** Session settings for a peer at `address` (iBGP when asn is LOCAL_AS); our address on it is 192.0.2.1. */
export function session(address: string, o: PeerOpts = {}): RibPeerSettings {
  return {
    peer: makePeer({ address, asn: o.asn ?? LOCAL_AS, localAsn: LOCAL_AS, bgpId: v4Parse(o.bgpId ?? address)!, rrClient: o.rrClient ?? false }),
    families: o.families ?? ['ipv4-unicast', 'ipv6-unicast'],
    codec: CODEC,
    nextHopMode: o.nextHopMode ?? 'auto',
    localAddressV4: ROUTER_ID,
    ...(o.localV6 ? { localAddressV6: o.localV6 } : {}),
    ...(o.gr !== undefined ? { gracefulRestart: { restartTime: o.gr } } : {}),
    ...(o.maxPrefix ? { maxPrefix: o.maxPrefix } : {}),
    ...(o.enhancedRouteRefresh ? { enhancedRouteRefresh: true } : {}),
    ...(o.import ? { import: o.import } : {}),
    ...(o.export ? { export: o.export } : {}),
  };
}

const EMPTY = { family: 'ipv4-unicast' as const, prefixes: [] };

/** An UPDATE announcing IPv4 `prefixes` with `attrs` (NEXT_HOP defaults to the sender). */
export function announce(prefixes: string[], attrs: PathAttributes): DecodedUpdate {
  return { type: 'update', update: { type: 'update', withdrawn: EMPTY, attributes: attrs, nlri: { family: 'ipv4-unicast', prefixes: prefixes.map(key) } }, discarded: [] };
}

export function announce6(prefixes: string[], attrs: PathAttributes, nextHop: string): DecodedUpdate {
  const mpReach = { family: 'ipv6-unicast' as const, nextHop, nlri: { family: 'ipv6-unicast' as const, prefixes: prefixes.map(key) } };
  return { type: 'update', update: { type: 'update', withdrawn: EMPTY, attributes: { ...attrs, mpReach }, nlri: EMPTY }, discarded: [] };
}

export function withdraw(prefixes: string[]): DecodedUpdate {
  return { type: 'update', update: { type: 'update', withdrawn: { family: 'ipv4-unicast', prefixes: prefixes.map(key) }, attributes: {}, nlri: EMPTY }, discarded: [] };
}

export const EOR_V4: DecodedUpdate = { type: 'update', update: { type: 'update', withdrawn: EMPTY, attributes: {}, nlri: EMPTY }, discarded: [] };

export function path(...asns: number[]): PathAttributes['asPath'] {
  return asns.length === 0 ? [] : [{ type: AS_SEQUENCE, asns }];
}

/** Runs the facade's work to completion in small slices; returns how many slices it took. */
export function settle(r: Rib, budget = 64): number {
  let slices = 0;
  while (r.hasWork()) {
    r.process(budget);
    if (++slices > 1_000_000) throw new Error('RIB work never finishes');
  }
  return slices;
}

/** One message as the peer decodes it. */
export interface Seen {
  kind: 'update' | 'eor' | 'borr' | 'eorr' | 'refresh';
  announced: string[];
  withdrawn: string[];
  attrs: PathAttributes;
  family?: Family;
}

/** Everything queued for `address`, decoded with the session's codec. */
export function sent(r: Rib, address: string, codec: CodecContext = CODEC): Seen[] {
  const out: Seen[] = [];
  for (;;) {
    const batch = r.takeUpdates(address, 8);
    if (batch.length === 0) return out;
    for (const buf of batch) {
      const m = decodeMessage(buf, codec);
      if (!m.ok) throw new Error(`undecodable message: ${m.error.reason}`);
      const v = m.value;
      if (v.type === 'route-refresh') {
        out.push({ kind: v.subtype === 1 ? 'borr' : v.subtype === 2 ? 'eorr' : 'refresh', announced: [], withdrawn: [], attrs: {}, family: v.afi === 1 ? 'ipv4-unicast' : 'ipv6-unicast' });
        continue;
      }
      if (v.type !== 'update') throw new Error(`unexpected ${v.type}`);
      const u = v.update;
      const eor = endOfRibFamily(u);
      if (eor) {
        out.push({ kind: 'eor', announced: [], withdrawn: [], attrs: {}, family: eor });
        continue;
      }
      const a = u.attributes;
      const { mpReach, mpUnreach, ...rest } = a;
      out.push({
        kind: 'update',
        announced: [...u.nlri.prefixes, ...(mpReach?.nlri.prefixes ?? [])].map(prefixToString),
        withdrawn: [...u.withdrawn.prefixes, ...(mpUnreach?.nlri.prefixes ?? [])].map(prefixToString),
        attrs: mpReach ? { ...rest, mpReach: { ...mpReach, nlri: { family: mpReach.nlri.family, prefixes: [] } } } : rest,
      });
    }
  }
}

export const announced = (seen: Seen[]): string[] => seen.flatMap((s) => s.announced).sort();
export const withdrawnOf = (seen: Seen[]): string[] => seen.flatMap((s) => s.withdrawn).sort();
/** The attributes a prefix was last announced with. */
export const attrsOf = (seen: Seen[], prefix: string): PathAttributes | undefined => seen.filter((s) => s.announced.includes(prefix)).at(-1)?.attrs;
