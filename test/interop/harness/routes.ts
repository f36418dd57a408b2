// Polling what a peer router holds in its RIB (PeerRouter.receivedRoutes):
// wait until a path for a prefix shows up (with the attributes a test then
// asserts), wait until it is gone, or check that it never appears for a
// while. Used by the RIB interop tests (rib-*.test.ts) to see what bgp-ts
// advertised, from the receiving side.

import type { Family } from '../../../src/lib/prefix.js';
import { pollUntil, sleep } from './exec.js';
import { isV6, type PeerRouter, type ReceivedRoute } from './peer.js';

export const familyOf = (prefix: string): Family => (isV6(prefix) ? 'ipv6-unicast' : 'ipv4-unicast');

/** Paths for `prefix` at `peer`, optionally only those learned from neighbor `from`. */
export async function pathsFor(peer: PeerRouter, prefix: string, from?: string): Promise<ReceivedRoute[]> {
  const all = await peer.receivedRoutes(familyOf(prefix));
  return all.filter((r) => r.prefix === prefix && (from === undefined || r.from === from));
}

/** Resolves with the first path for `prefix` (from `from`, if given) once `peer` has one. */
export async function waitForPath(peer: PeerRouter, prefix: string, opts: { from?: string; timeoutMs?: number } = {}): Promise<ReceivedRoute> {
  let last: ReceivedRoute[] = [];
  try {
    return await pollUntil(
      async () => {
        last = await peer.receivedRoutes(familyOf(prefix));
        return last.find((r) => r.prefix === prefix && (opts.from === undefined || r.from === opts.from));
      },
      { timeoutMs: opts.timeoutMs ?? 20_000, what: `${peer.kind} holding ${prefix}${opts.from ? ` from ${opts.from}` : ''}` },
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${peer.kind} holds: ${JSON.stringify(last)}\n${peer.tail(15)}`);
  }
}

/** Resolves once `peer` holds no path for `prefix` (from `from`, if given). */
export async function waitForNoPath(peer: PeerRouter, prefix: string, opts: { from?: string; timeoutMs?: number } = {}): Promise<void> {
  await pollUntil(async () => (await pathsFor(peer, prefix, opts.from)).length === 0, {
    timeoutMs: opts.timeoutMs ?? 20_000,
    what: `${peer.kind} dropping ${prefix}${opts.from ? ` from ${opts.from}` : ''}`,
  });
}

/**
 * Checks for `forMs` that `peer` never holds a path for `prefix` from
 * `from`; returns the offending path if it ever does.
 */
export async function pathNeverSeen(peer: PeerRouter, prefix: string, from: string, forMs: number): Promise<ReceivedRoute | undefined> {
  const deadline = Date.now() + forMs;
  while (Date.now() < deadline) {
    const hit = (await pathsFor(peer, prefix, from))[0];
    if (hit) return hit;
    await sleep(250);
  }
  return undefined;
}

/** Checks for `forMs` that `peer` keeps holding a path for `prefix` from `from`; returns the time it vanished, if it did. */
export async function pathKept(peer: PeerRouter, prefix: string, from: string, forMs: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < forMs) {
    if ((await pathsFor(peer, prefix, from)).length === 0) return Date.now() - start;
    await sleep(200);
  }
  return undefined;
}
