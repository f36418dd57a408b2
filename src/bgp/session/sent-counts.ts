// Counting what goes on the wire, by message type (RFC 4271 §4.1 header: the
// 2-octet length at offset 16, the type octet at 18). Pre-encoded bytes from
// the RIB's output are not all UPDATEs: with RFC 7313 enhanced route refresh
// the stream carries BoRR/EoRR, which are ROUTE-REFRESH messages (type 5), so
// the count is taken from each message's own header at the point the bytes
// are handed to the socket, never assumed from who produced them.

/** RFC 4271 §4.1 message types (1-5) and RFC 2918 ROUTE-REFRESH, by name. */
export type MessageTypeName = 'open' | 'update' | 'notification' | 'keepalive' | 'route-refresh';
export type MessageCounts = Record<MessageTypeName, number>;

/** Names by type octet; unknown types are not counted. */
export const TYPE_NAMES: readonly (MessageTypeName | undefined)[] = [undefined, 'open', 'update', 'notification', 'keepalive', 'route-refresh'];

export const zeroCounts = (): MessageCounts => ({ open: 0, update: 0, notification: 0, keepalive: 0, 'route-refresh': 0 });

const HEADER = 19;

/**
 * Adds every whole BGP message in `bytes` (one or several, back to back) to
 * `counts` by its type octet. Stops at a header that does not fit or claims
 * less than a header's length (never loops on garbage); returns how many
 * messages were counted.
 */
export function countMessages(counts: MessageCounts, bytes: Uint8Array): number {
  let n = 0;
  let at = 0;
  while (at + HEADER <= bytes.length) {
    const length = (bytes[at + 16]! << 8) | bytes[at + 17]!;
    if (length < HEADER) break;
    const name = TYPE_NAMES[bytes[at + 18]!];
    if (name) counts[name]++;
    n++;
    at += length;
  }
  return n;
}
