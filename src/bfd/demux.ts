// Session selection for a received Control packet (RFC 5880 §6.8.6, RFC 5881
// §3 and §5) and the discriminator allocator of RFC 5880 §6.3. Pure: the
// shell keeps the tables and asks here which session a packet belongs to, or
// why it belongs to none. The sender's source port (RFC 5881 §4) is not
// checked: the RFC binds senders only, and strictness there only costs interop.

import { type BfdControlPacket, type BfdDropReason } from './packet.js';

export interface DemuxTables<S> {
  /** Sessions by our local discriminator. */
  readonly byDiscriminator: ReadonlyMap<number, S>;
  /** Sessions by the peer's address (canonical text). */
  readonly byPeer: ReadonlyMap<string, S>;
  /** The peer address of a session. */
  peerOf(session: S): string;
}

export type DemuxResult<S> =
  | { readonly ok: true; readonly session: S }
  | { readonly ok: false; readonly reason: BfdDropReason; readonly detail: string };

/**
 * Picks the session for a packet from `source` (address, UDP port) that
 * decodeControl accepted, with `ttl` as received.
 */
export function selectSession<S>(
  tables: DemuxTables<S>,
  packet: BfdControlPacket,
  source: { readonly address: string; readonly port: number; readonly ttl: number },
): DemuxResult<S> {
  // RFC 5881 §5: single hop, "the TTL or Hop Limit ... MUST be 255" on receipt (GTSM, RFC 5082).
  if (source.ttl !== 255) return { ok: false, reason: 'ttl', detail: `received TTL ${source.ttl} from ${source.address}` };
  if (packet.yourDiscriminator !== 0) {
    // RFC 5880 §6.8.6: a nonzero Your Discriminator selects the session, or the packet is discarded.
    const s = tables.byDiscriminator.get(packet.yourDiscriminator);
    if (s === undefined)
      return { ok: false, reason: 'unknown-discriminator', detail: `Your Discriminator ${packet.yourDiscriminator} from ${source.address}` };
    // RFC 5881 §3: a single-hop session belongs to one peer address.
    if (tables.peerOf(s) !== source.address)
      return { ok: false, reason: 'wrong-source', detail: `Your Discriminator ${packet.yourDiscriminator} belongs to ${tables.peerOf(s)}, not ${source.address}` };
    return { ok: true, session: s };
  }
  // RFC 5881 §3: with a zero Your Discriminator the session is chosen by the source address.
  const s = tables.byPeer.get(source.address);
  if (s === undefined) return { ok: false, reason: 'no-session', detail: `no BFD session for ${source.address}` };
  return { ok: true, session: s };
}

/**
 * RFC 5880 §6.3 / §6.8.1: a nonzero local discriminator unique in the system.
 * `random` is a [0, 1) source; `inUse` the ones taken.
 */
export function allocateDiscriminator(inUse: ReadonlySet<number>, random: () => number): number {
  for (let i = 0; i < 64; i++) {
    const d = 1 + Math.floor(Math.min(Math.max(random(), 0), 0.9999999) * 0xfffffffe);
    if (!inUse.has(d)) return d;
  }
  for (let d = 1; d <= 0xffffffff; d++) if (!inUse.has(d)) return d;
  throw new RangeError('no free BFD discriminator');
}
