// Codec benchmark: decode and encode full 4096-octet UPDATEs the way a pod
// network fills them: ~800 IPv4 /26 NLRI behind ORIGIN, AS_PATH, NEXT_HOP,
// LOCAL_PREF and COMMUNITIES, and an IPv6 MP_REACH_NLRI UPDATE full of /122
// blocks. Prints N, elapsed time, messages/s and prefixes/s for each.

import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { decodeUpdate, encodeUpdate, encodedAttributesLength } from '../src/bgp/wire/update.js';
import { maxPrefixesThatFit } from '../src/bgp/wire/nlri.js';
import { DEFAULT_CODEC_CONTEXT, MAX_MESSAGE_LENGTH, type PathAttributes, type UpdateMessage } from '../src/bgp/wire/types.js';
import { v4Key, v6KeyFromBytes, type PrefixKey } from '../src/lib/prefix.js';

const CTX = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };

export interface CodecBenchResult {
  readonly name: string;
  readonly n: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly prefixesPerSecond: number;
  readonly prefixesPerMessage: number;
  readonly messageOctets: number;
}

const ATTRS: PathAttributes = {
  origin: 0,
  asPath: [{ type: 2, asns: [64512, 64513] }],
  nextHop: '192.0.2.1',
  localPref: 100,
  communities: [64512 * 65536 + 100],
};

function ipv4Update(): UpdateMessage {
  const all: number[] = [];
  for (let i = 0; i < 4096; i++) all.push(v4Key((10 << 24) + (244 << 16) + i * 64, 26)); // 10.244.x.y/26
  const budget = MAX_MESSAGE_LENGTH - 23 - encodedAttributesLength(ATTRS, CTX);
  const n = maxPrefixesThatFit(all, 0, budget, false);
  const empty = { family: 'ipv4-unicast' as const, prefixes: [] };
  return { type: 'update', withdrawn: empty, attributes: ATTRS, nlri: { family: 'ipv4-unicast', prefixes: all.slice(0, n) } };
}

function ipv6Update(): UpdateMessage {
  const prefixes: PrefixKey[] = [];
  const bytes = Buffer.from('fd00000000000000000000000000000000', 'hex');
  const attrs = (list: PrefixKey[]): PathAttributes => ({
    origin: 0,
    asPath: [{ type: 2, asns: [64512] }],
    localPref: 100,
    mpReach: { family: 'ipv6-unicast', nextHop: 'fd00::1', linkLocalNextHop: 'fe80::1', nlri: { family: 'ipv6-unicast', prefixes: list } },
  });
  const empty = { family: 'ipv4-unicast' as const, prefixes: [] };
  // Add /122 blocks while the message still fits (17 octets each).
  for (let i = 0; ; i++) {
    bytes.writeUInt32BE(i * 64, 12);
    const next = [...prefixes, v6KeyFromBytes(bytes, 0, 122)];
    const size = 23 + encodedAttributesLength(attrs(next), CTX);
    if (size > MAX_MESSAGE_LENGTH) break;
    prefixes.push(next[next.length - 1]!);
  }
  return { type: 'update', withdrawn: empty, attributes: attrs(prefixes), nlri: empty };
}

function time(name: string, n: number, prefixesPerMessage: number, octets: number, fn: () => void): CodecBenchResult {
  for (let i = 0; i < Math.min(2000, n / 10); i++) fn(); // warm up the JIT
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const seconds = (performance.now() - t0) / 1000;
  return {
    name,
    n,
    seconds,
    messagesPerSecond: n / seconds,
    prefixesPerSecond: (n * prefixesPerMessage) / seconds,
    prefixesPerMessage,
    messageOctets: octets,
  };
}

export async function runCodecBench(opts: { n?: number } = {}): Promise<CodecBenchResult[]> {
  const n = opts.n ?? 20_000;
  const results: CodecBenchResult[] = [];
  for (const [label, msg] of [
    ['ipv4 /26', ipv4Update()],
    ['ipv6 /122 MP_REACH', ipv6Update()],
  ] as const) {
    const wire = encodeUpdate(msg, CTX);
    const body = wire.subarray(19);
    const count = msg.nlri.prefixes.length + (msg.attributes.mpReach?.nlri.prefixes.length ?? 0);
    const check = decodeUpdate(body, CTX);
    if (!check.ok || check.value.treatAsWithdraw) throw new Error(`codec bench: ${label} does not round-trip`);
    let sink = 0;
    results.push(
      time(`codec decode ${label}`, n, count, wire.length, () => {
        const r = decodeUpdate(body, CTX);
        if (r.ok) sink += r.value.update.nlri.prefixes.length;
      }),
    );
    results.push(
      time(`codec encode ${label}`, n, count, wire.length, () => {
        sink += encodeUpdate(msg, CTX).length;
      }),
    );
    if (sink === 0) throw new Error('codec bench: optimised away');
  }
  for (const r of results)
    console.log(
      `${r.name.padEnd(32)} N=${r.n} msgs of ${r.messageOctets} octets / ${r.prefixesPerMessage} prefixes  ` +
        `${r.seconds.toFixed(3)} s  ${Math.round(r.messagesPerSecond).toLocaleString('en')} msg/s  ` +
        `${Math.round(r.prefixesPerSecond).toLocaleString('en')} prefixes/s`,
    );
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCodecBench({ n: Number(process.env.CODEC_BENCH_N ?? '20000') });
}
