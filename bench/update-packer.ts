// UPDATE packer benchmark: 1M IPv4 /26 prefixes in 8 attribute groups (eight
// nodes' pod blocks as a reflector sends them) packed into 4096-octet UPDATEs.
// Two measurements: the packer alone (packAnnouncements over prefix arrays),
// and an update group's Adj-RIB-Out (GroupOut: announce every prefix under
// its node's bucket, then pull batches of 64 messages as the group does). Prints N, time, prefixes/s, messages
// and octets; the packed stream is checked by walking the message lengths.

import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CODEC_CONTEXT, type CodecContext, type PathAttributes } from '../src/bgp/wire/types.js';
import { v4Key } from '../src/lib/prefix.js';
import { AttrStore } from '../src/rib/attr-store.js';
import { GroupOut, type Bucket, type StreamItem } from '../src/rib/group-out.js';
import { encodeAttributeBlock, packAnnouncements } from '../src/rib/update-packer.js';

const CTX: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };

export interface UpdatePackerBenchResult {
  readonly name: string;
  readonly prefixes: number;
  readonly groups: number;
  readonly seconds: number;
  readonly prefixesPerSecond: number;
  readonly messages: number;
  readonly octets: number;
}

/** Reflected attributes of node `i`: its own next hop and ORIGINATOR_ID. */
function groupAttrs(i: number): PathAttributes {
  return {
    origin: 0,
    asPath: [],
    nextHop: `192.0.2.${10 + i}`,
    localPref: 100,
    communities: [((64512 << 16) | 100) >>> 0],
    originatorId: (0xc0000200 + 10 + i) >>> 0,
    clusterList: [0xc0000201],
  };
}

/** `n` distinct /26 blocks from 10.0.0.0/8 upward, dealt round-robin into `groups` arrays. */
function prefixGroups(n: number, groups: number): number[][] {
  const out: number[][] = Array.from({ length: groups }, () => []);
  for (let i = 0; i < n; i++) out[i % groups]!.push(v4Key(((10 << 24) + i * 64) >>> 0, 26));
  return out;
}

/** Sums prefixes by reading each message's NLRI length octets (checks the framing too). */
function countPrefixes(messages: Buffer[]): number {
  let n = 0;
  for (const m of messages) {
    if (m.readUInt16BE(16) !== m.length || m.length > 4096) throw new Error('bad message length');
    const wl = m.readUInt16BE(19);
    let p = 21 + wl;
    p += 2 + m.readUInt16BE(p);
    while (p < m.length) {
      p += 1 + ((m[p]! + 7) >> 3);
      n++;
    }
  }
  return n;
}

function report(r: UpdatePackerBenchResult): void {
  console.log(
    `${r.name}: N=${r.prefixes} prefixes in ${r.groups} groups, ${(r.seconds * 1000).toFixed(1)} ms, ` +
      `${(r.prefixesPerSecond / 1e6).toFixed(2)}M prefixes/s, ${r.messages} messages, ${r.octets} octets ` +
      `(${(r.octets / r.prefixes).toFixed(2)} octets/prefix)`,
  );
}

export async function runUpdatePackerBench(opts: { n?: number; groups?: number; rounds?: number } = {}): Promise<UpdatePackerBenchResult[]> {
  const n = opts.n ?? 1_000_000;
  const groupCount = opts.groups ?? 8;
  const rounds = opts.rounds ?? 3;
  const groups = prefixGroups(n, groupCount);
  const attrs = groups.map((_, i) => groupAttrs(i));
  const results: UpdatePackerBenchResult[] = [];

  // 1. The packer alone; best of `rounds` (the first warms up the JIT).
  let best: UpdatePackerBenchResult | undefined;
  for (let r = 0; r < rounds; r++) {
    const out: Buffer[] = [];
    const t0 = performance.now();
    for (let g = 0; g < groupCount; g++) packAnnouncements(encodeAttributeBlock(attrs[g]!, 'ipv4-unicast', CTX), groups[g]!, Infinity, out);
    const seconds = (performance.now() - t0) / 1000;
    if (countPrefixes(out) !== n) throw new Error('packer lost prefixes');
    const octets = out.reduce((s, m) => s + m.length, 0);
    const res = { name: 'packer', prefixes: n, groups: groupCount, seconds, prefixesPerSecond: n / seconds, messages: out.length, octets };
    if (!best || res.seconds < best.seconds) best = res;
  }
  results.push(best!);
  report(best!);

  // 2. A group's Adj-RIB-Out: announce (one interned reference per prefix) then pull batches.
  let bestAdj: UpdatePackerBenchResult | undefined;
  for (let r = 0; r < rounds; r++) {
    const store = new AttrStore();
    const adj = new GroupOut(store, CTX, ['ipv4-unicast']);
    // each node's routes are its own bucket: reflected, they must not go back to it
    const buckets: Bucket[] = attrs.map((a, i) => ({ set: store.intern(a), ex: { address: `192.0.2.${10 + i}`, originatorId: a.originatorId } }));
    const t0 = performance.now();
    for (let g = 0; g < groupCount; g++) {
      const b = buckets[g]!;
      for (const p of groups[g]!) {
        store.retain(b.set);
        adj.announce(p, b);
      }
    }
    const t1 = performance.now();
    const out: Buffer[] = [];
    const items: StreamItem[] = [];
    let longestBatchMs = 0;
    while (adj.hasPending()) {
      const b0 = performance.now();
      items.length = 0;
      adj.takeBatch(64, items);
      for (const it of items) out.push(it.msg);
      longestBatchMs = Math.max(longestBatchMs, performance.now() - b0);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (countPrefixes(out) !== n || adj.advertised.size() !== n) throw new Error('group Adj-RIB-Out lost prefixes');
    const octets = out.reduce((s, m) => s + m.length, 0);
    const res = { name: 'group-out', prefixes: n, groups: groupCount, seconds, prefixesPerSecond: n / seconds, messages: out.length, octets };
    if (!bestAdj || res.seconds < bestAdj.seconds) {
      bestAdj = res;
      console.log(
        `  group-out round ${r + 1}: queue ${(t1 - t0).toFixed(1)} ms, pull ${(performance.now() - t1).toFixed(1)} ms, ` +
          `longest takeBatch(64) ${longestBatchMs.toFixed(2)} ms`,
      );
    }
  }
  results.push(bestAdj!);
  report(bestAdj!);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runUpdatePackerBench();
}
